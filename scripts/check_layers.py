#!/usr/bin/env python3
"""Check that #include "..." edges only point down the tiers.

Tiers, lowest first:  include/chive (public API) < lib < core < feature < app
and daemon/ and tools/ may include only the public API (include/chive).
Also rejects cycles between modules (src/<tier>/<module>/) and
OpenSSL/libsodium headers outside src/lib/crypto and src/lib/tls.

Usage: check_layers.py [SOURCE_ROOT]     exit 0 when clean, 1 otherwise.
"""
import os
import re
import sys

MAX_DEP_VIOLATIONS = 0
# Tools allowed to include internal headers (operator/developer tools).
INTERNAL_TOOLS = ("tools/chive-dir/", "tools/chive-bench/")
TIER_RANK = {"public": 0, "lib": 1, "core": 2, "feature": 3, "app": 4}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]')
CRYPTO_HDR = re.compile(r"^(openssl|sodium)(/|\.h$)")
CRYPTO_OK = ("src/lib/crypto/", "src/lib/tls/")
# libevent headers are confined to the I/O edges of lib/, to app/ (which
# wires the client onto the embedder's event_base), and to programs.
EVENT_HDR = re.compile(r"^event2/")
EVENT_OK = ("src/lib/evloop/", "src/lib/buf/", "src/lib/net/",
            "src/lib/tls/", "src/app/", "src/feature/metrics/",
            "src/feature/control/", "src/feature/socks/",
            "daemon/", "tools/")


def tier_of_include(target):
    if target.startswith("chive/"):
        return "public", None
    parts = target.split("/")
    if parts[0] in TIER_RANK and len(parts) >= 2:
        return parts[0], parts[0] + "/" + parts[1]
    return None, None


def tier_of_file(rel):
    parts = rel.split("/")
    if parts[0] == "include":
        return "public", None
    if parts[0] == "src" and len(parts) >= 3 and parts[1] in TIER_RANK:
        return parts[1], parts[1] + "/" + parts[2]
    if parts[0] in ("daemon", "tools"):
        return parts[0], None
    return None, None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    problems = []
    edges = {}
    n_files = 0
    for top in ("include", "src", "daemon", "tools"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for fn in files:
                if not fn.endswith((".c", ".h", ".h.in")):
                    continue
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, root)
                ftier, fmod = tier_of_file(rel)
                if ftier is None:
                    continue
                n_files += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE_RE.match(line)
                        if not m:
                            continue
                        kind, target = m.groups()
                        where = "%s:%d" % (rel, lineno)
                        if kind == "<":
                            if CRYPTO_HDR.match(target) and \
                                    not rel.startswith(CRYPTO_OK):
                                problems.append("%s: <%s> outside lib/crypto "
                                                "and lib/tls" % (where, target))
                            if EVENT_HDR.match(target) and \
                                    not rel.startswith(EVENT_OK):
                                problems.append("%s: <%s> outside the I/O "
                                                "edge modules" % (where, target))
                            continue
                        itier, imod = tier_of_include(target)
                        if itier is None:
                            continue  # local header ("foo.h"), generated...
                        if ftier in ("daemon", "tools"):
                            # Developer tools that inspect internals (like
                            # tor's own test tools) are listed here; they
                            # link chive_internal, never ship in libchive.
                            if rel.startswith(INTERNAL_TOOLS):
                                continue
                            if itier != "public":
                                problems.append("%s: %s may include only the "
                                                "public API, not \"%s\"" %
                                                (where, ftier, target))
                            continue
                        if TIER_RANK[itier] > TIER_RANK[ftier]:
                            problems.append("%s: %s includes upward \"%s\""
                                            % (where, ftier, target))
                        if ftier == "public" and itier != "public":
                            problems.append("%s: public header includes "
                                            "internal \"%s\"" % (where, target))
                        if fmod and imod and fmod != imod:
                            edges.setdefault(fmod, set()).add(imod)
    # Cycles between modules (DFS).
    state = {}
    stack = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                cyc = stack[stack.index(n):] + [n]
                problems.append("module cycle: " + " -> ".join(cyc))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    for p in problems:
        print(p)
    print("check_layers: %d files, %d module edges, %d problems"
          % (n_files, sum(len(v) for v in edges.values()), len(problems)))
    return 1 if len(problems) > MAX_DEP_VIOLATIONS else 0


if __name__ == "__main__":
    sys.exit(main())
