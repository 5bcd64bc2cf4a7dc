#!/usr/bin/python3
"""End-to-end tests of chive-dir on real Tor directory documents.

Usage: test_chive_dir.py CHIVE_DIR_BINARY REALNET_A_DIR

REALNET_A_DIR is shared/data/realnet-A (see its MANIFEST.md); expected
numbers come from its groundtruth.json (stem 1.8.1, computed independently
of chive).  Exits 77 (CTest "skipped") when the data is absent, 1 on any
failure, 0 when every check passed.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
AT_2017 = "2017-10-29 12:00:00"
AT_2017_LATE = "2017-11-05 00:00:00"

checks = 0
failures = []


def check(cond, what):
    global checks
    checks += 1
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        failures.append(what)


def run(args, cwd):
    p = subprocess.run([TOOL] + args, cwd=cwd, capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def run_json(args, cwd):
    rc, out, err = run(args + ["--json"], cwd)
    try:
        doc = json.loads(out)
    except ValueError as e:
        print("  invalid JSON (%s): %r" % (e, out[:500]))
        doc = None
    return rc, doc, err


def text_field(out, label):
    """Number after '<label>' at the start of an indented report line."""
    m = re.search(r"^  %s\s+(\d+)\s*$" % re.escape(label), out, re.M)
    return int(m.group(1)) if m else None


def verify_args(consensus, mds=(), at=AT_2017, certs="cached-certs"):
    args = ["verify", "--consensus", consensus, "--certs", certs]
    for m in mds:
        args += ["--microdescs", m]
    if at:
        args += ["--at", at]
    return args


MD_FILES = ("cached-microdescs", "cached-microdescs.new")


def check_consensus_json(doc, gt, name, digest):
    """Compare the consensus part of a JSON report with groundtruth."""
    check(doc["flavor"] == gt["flavour"], name + ": flavor")
    check(doc["consensus_method"] == gt["consensus_method"], name + ": method")
    for k in ("valid_after", "fresh_until", "valid_until"):
        check(doc[k] == gt[k], "%s: %s %s" % (name, k, doc[k]))
    check(doc["routers"] == gt["router_entries_stem"],
          "%s: %d routers" % (name, doc["routers"]))
    flags = {k: v for k, v in doc["flags"].items() if v}
    check(flags == gt["flag_counts_all"], name + ": count per flag")
    check(sorted(doc["flags"]) == sorted(gt["known_flags"]),
          name + ": flags listed are the known-flags")
    check(doc["params"] == gt["params"], name + ": params")
    check(doc["bandwidth_weights"] == gt["bandwidth_weights"],
          name + ": bandwidth weights")
    a = doc["authorities"]
    check(a["valid"] == 9 and a["configured"] == 9 and a["needed"] == 5,
          "%s: %d/%d valid signatures" % (name, a["valid"], a["configured"]))
    gt_names = sorted(s["authority"] for s in gt["signatures"]
                      if s["verified"])
    check(sorted(r["nickname"] for r in a["results"]) == gt_names,
          name + ": authority nicknames")
    check(all(r["status"] == "valid" and r["digest"] == digest
              for r in a["results"]),
          name + ": every signature valid over " + digest)
    check(doc["time_ok"] is True and doc["valid"] is True,
          name + ": valid at its valid-after")


def test_md_text(d, gt):
    rc, out, err = run(verify_args("cached-microdesc-consensus", MD_FILES) +
                       ["--authorities-from-certs"], d)
    check(rc == 0, "md consensus (text): exit 0 (got %d) %s" % (rc, err))
    check(text_field(out, "routers") == 6596, "md text: routers 6596")
    check("9/9 valid;" in out, "md text: 9/9 valid signatures")
    check(text_field(out, "found") == 6596, "md text: 6596 mds found")
    check(text_field(out, "missing") == 0, "md text: 0 missing")
    check(text_field(out, "unreferenced") ==
          gt["microdescriptors"]["mds_not_referenced_by_consensus"],
          "md text: 104 unreferenced")
    check(re.search(r"^Result: VALID", out, re.M) is not None,
          "md text: Result VALID line")
    m = re.search(r"^  total\s+([\d.]+)\s+(\d+)$", out, re.M)
    check(m is not None and float(m.group(1)) > 0 and int(m.group(2)) > 0,
          "md text: parse time and heap reported")
    if m:
        print("     realnet-A md bundle: parse %s ms, heap held %s bytes"
              % (m.group(1), m.group(2)))


def test_md_json(d, gt):
    rc, doc, err = run_json(verify_args("cached-microdesc-consensus",
                                        MD_FILES) +
                            ["--authorities-from-certs"], d)
    check(rc == 0 and doc is not None, "md consensus (json): exit 0, "
          "valid JSON (rc %d)" % rc)
    if not doc:
        return
    check_consensus_json(doc, gt["microdesc_consensus"], "md json", "sha256")
    m = doc["microdescs"]
    gm = gt["microdescriptors"]
    check(m["checked"] and m["found"] == 6596 and m["missing"] == 0,
          "md json: 6596 found, 0 missing")
    check(m["unreferenced"] == gm["mds_not_referenced_by_consensus"],
          "md json: unreferenced %d" % m["unreferenced"])
    check([f["parsed"] for f in m["files"]] ==
          [gm["files"][f]["parsed"] for f in MD_FILES],
          "md json: parsed per file 5571 + 1129")
    check(m["parsed"] == gm["parsed_total"], "md json: 6700 parsed")
    check(all(c["status"] == "valid" for c in doc["certificates"]) and
          len(doc["certificates"]) == len(gt["certificates"]),
          "md json: 9 certificates valid at the check time")
    check(doc["heap_bytes"] > 0 and doc["parse_ms"] > 0,
          "md json: heap_bytes %d, parse_ms %.3f" %
          (doc["heap_bytes"], doc["parse_ms"]))
    # python3 -m json.tool accepts it too.
    rc2, out, _ = run(verify_args("cached-microdesc-consensus", MD_FILES) +
                      ["--authorities-from-certs", "--json"], d)
    p = subprocess.run([sys.executable, "-m", "json.tool"], input=out,
                       capture_output=True, text=True)
    check(p.returncode == 0, "md json: python3 -m json.tool accepts output")


def test_default_authorities(d):
    """The built-in authorities are 2025's: 6 of them signed in 2017."""
    rc, doc, _ = run_json(verify_args("cached-microdesc-consensus"), d)
    ok = doc is not None and rc == 0
    check(ok, "built-in authorities on 2017 consensus: exit 0")
    if ok:
        a = doc["authorities"]
        missing = sorted(r["nickname"] for r in a["results"]
                         if r["status"] == "no signature")
        check(a["source"] == "built-in" and a["valid"] == 6 and
              missing == ["faravahar", "moria1", "tor26"] and
              a["unconfigured_signatures"] == 3,
              "built-in: 6/9 valid (moria1, tor26, faravahar have new keys "
              "since 2017)")


def authority_lines_2017(d):
    """DirAuthority lines for the 2017 authorities, built from the ns
    consensus itself: dir-source gives name, v3 identity, address and
    ports; the authority's own "r" line its relay identity."""
    text = open(os.path.join(d, "cached-consensus")).read()
    rids = {}
    for m in re.finditer(r"^r \S+ (\S+) \S+ \S+ \S+ (\S+) (\d+) (\d+)$",
                         text, re.M):
        ident = base64.b64decode(m.group(1) + "=").hex().upper()
        rids[(m.group(2), m.group(3))] = ident
    lines = []
    for m in re.finditer(r"^dir-source (\S+) ([0-9A-F]{40}) \S+ (\S+) "
                         r"(\d+) (\d+)$", text, re.M):
        nick, v3, ip, dport, oport = m.groups()
        if nick.endswith("-legacy"):
            continue
        rid = rids.get((ip, oport))
        if rid:
            lines.append("%s orport=%s v3ident=%s %s:%s %s" %
                         (nick, oport, v3, ip, dport, rid))
    return lines


def test_authority_lines(d):
    lines = authority_lines_2017(d)
    check(len(lines) == 9, "built 9 DirAuthority lines from the consensus")
    args = verify_args("cached-consensus")
    for ln in lines:
        args += ["--authority-line", ln]
    rc, doc, err = run_json(args, d)
    ok = doc is not None and rc == 0
    check(ok, "--authority-line x9: exit 0 (%d) %s" % (rc, err))
    if ok:
        a = doc["authorities"]
        check(a["source"] == "authority-lines" and a["valid"] == 9,
              "--authority-line: 9/9 valid")
    # Only four of them: 4 valid of 4 configured suffices (3 needed).
    rc, doc, _ = run_json(verify_args("cached-consensus") +
                          sum((["--authority-line", ln]
                               for ln in lines[:4]), []), d)
    check(rc == 0 and doc and doc["authorities"]["configured"] == 4 and
          doc["authorities"]["unconfigured_signatures"] == 5,
          "--authority-line x4: 4/4 valid, 5 unconfigured signatures")
    rc, _, err = run(verify_args("cached-consensus") +
                     ["--authority-line", "bogus line"], d)
    check(rc == 3 and "--authority-line" in err,
          "malformed --authority-line: exit 3 with a message")


def test_ns(d, gt):
    rc, doc, err = run_json(verify_args("cached-consensus") +
                            ["--authorities-from-certs"], d)
    check(rc == 0 and doc is not None, "ns consensus: exit 0 (%d) %s" %
          (rc, err))
    if doc:
        check_consensus_json(doc, gt["ns_consensus"], "ns json", "sha1")
        check(doc["microdescs"] is None, "ns json: no microdescs section")


def test_outside_validity(d):
    args = verify_args("cached-microdesc-consensus", at=AT_2017_LATE) + \
        ["--authorities-from-certs"]
    rc, out, err = run(args, d)
    check(rc == 1, "at %s: exit 1 (got %d)" % (AT_2017_LATE, rc))
    check("outside its validity period" in err,
          "outside validity: clear message on stderr: " + err.strip())
    check("Result: INVALID: not valid at 2017-11-05 00:00:00" in out,
          "outside validity: Result line says why")
    rc, doc, _ = run_json(args, d)
    check(rc == 1 and doc and doc["valid"] is False and
          doc["time_ok"] is False and doc["authorities"]["valid"] == 9,
          "outside validity (json): valid false, time_ok false, "
          "signatures still 9/9")
    rc, _, _ = run(verify_args("cached-microdesc-consensus",
                               at="2017-10-29 11:59:59") +
                   ["--authorities-from-certs"], d)
    check(rc == 1, "one second before valid-after: exit 1")
    rc, _, _ = run(verify_args("cached-microdesc-consensus",
                               at="2017-10-29 15:00:00") +
                   ["--authorities-from-certs"], d)
    check(rc == 0, "exactly valid-until: exit 0")


def test_flipped_byte(d, tmp):
    src = open(os.path.join(d, "cached-microdesc-consensus"), "rb").read()
    # Change the last digit of the first "w Bandwidth=" value: the
    # document still parses, but the signed digest changes.
    m = re.search(rb"\nw Bandwidth=(\d+)", src)
    pos = m.end(1) - 1
    digit = src[pos:pos + 1]
    new = b"1" if digit != b"1" else b"2"
    bad = src[:pos] + new + src[pos + 1:]
    check(len(bad) == len(src) and bad != src and
          sum(a != b for a, b in zip(bad, src)) == 1,
          "made a copy with exactly one byte changed (offset %d)" % pos)
    path = os.path.join(tmp, "flipped-consensus")
    open(path, "wb").write(bad)
    shutil.copy(os.path.join(d, "cached-certs"), tmp)
    rc, out, err = run(verify_args(path, certs="cached-certs") +
                       ["--authorities-from-certs"], tmp)
    check(rc == 1, "flipped byte: exit 1 (got %d)" % rc)
    check("not enough valid authority signatures" in err,
          "flipped byte: clear message: " + err.strip())
    rc, doc, _ = run_json(verify_args(path, certs="cached-certs") +
                          ["--authorities-from-certs"], tmp)
    check(doc is not None and doc["authorities"]["valid"] == 0 and
          all(r["status"] == "bad signature"
              for r in doc["authorities"]["results"]),
          "flipped byte (json): 0/9 valid, all 'bad signature'")
    # Truncated in the middle: a parse error, exit 3.
    path2 = os.path.join(tmp, "truncated-consensus")
    open(path2, "wb").write(src[:len(src) // 2])
    rc, _, err = run(verify_args(path2, certs="cached-certs"), tmp)
    check(rc == 3 and "parse error" in err,
          "truncated consensus: exit 3, " + err.strip())


def test_missing_file(d):
    rc, out, err = run(verify_args("no-such-consensus"), d)
    check(rc == 3 and "no-such-consensus" in err and "no such file" in err,
          "missing consensus: exit 3, " + err.strip())
    rc, _, err = run(verify_args("cached-microdesc-consensus",
                                 certs="no-such-certs"), d)
    check(rc == 3 and "no-such-certs" in err, "missing certs: exit 3")
    rc, _, err = run(verify_args("cached-microdesc-consensus",
                                 ["no-such-mds"]), d)
    check(rc == 3 and "no-such-mds" in err, "missing microdescs: exit 3")
    rc, doc, _ = run_json(verify_args("no-such-consensus"), d)
    check(rc == 3 and doc is not None and doc["valid"] is False and
          "no such file" in doc["error"],
          "missing file (json): valid JSON with an error field")
    rc, _, err = run(["verify", "--consensus", "x"], d)
    check(rc == 2 and "--certs" in err, "usage error: exit 2")
    rc, _, err = run(verify_args("x", at="2017-10-29"), d)
    check(rc == 2 and "--at" in err, "bad --at: exit 2")


def test_modern(d):
    md = os.path.join(d, "modern")
    if not os.path.isdir(md):
        print("note: %s absent, modern bundle not tested" % md)
        return
    gt = json.load(open(os.path.join(d, "groundtruth.json")))
    gm = gt["bundles"]["modern"]
    gc = gm["microdesc_consensus"]
    args = ["verify", "--consensus", "cached-microdesc-consensus",
            "--certs", "cached-certs", "--microdescs",
            "cached-microdescs.new", "--at", gc["valid_after"]]
    rc, doc, err = run_json(args, md)
    check(rc == 0 and doc is not None,
          "modern (built-in authorities): exit 0 despite missing mds (%d)"
          % rc)
    if not doc:
        return
    check_consensus_json(doc, gc, "modern json", "sha256")
    check(doc["authorities"]["source"] == "built-in",
          "modern: checked against the built-in authorities")
    m = doc["microdescs"]
    gmd = gm["microdescriptors"]
    check(m["found"] == gmd["consensus_entries_with_md_present"] and
          m["missing"] == gmd["consensus_entries_missing_md"] and
          m["unreferenced"] == gmd["mds_not_referenced_by_consensus"],
          "modern: mds found %d, missing %d, unreferenced %d" %
          (m["found"], m["missing"], m["unreferenced"]))
    print("     modern bundle: parse %.3f ms, heap held %d bytes" %
          (doc["parse_ms"], doc["heap_bytes"]))
    rc, out, _ = run(args, md)
    check(rc == 0 and "informational: does not fail" in out,
          "modern (text): missing mds flagged as informational")


def test_show_consensus(d):
    rc, out, _ = run(["show-consensus", "cached-microdesc-consensus"], d)
    lines = out.splitlines()
    check(rc == 0 and len(lines) == 6596 + 2,
          "show-consensus: header + 6596 router lines")
    check(sum(1 for ln in lines[2:] if "Exit" in ln.split()[-1].split(","))
          == 824, "show-consensus: 824 routers listed with Exit")


def main():
    global TOOL
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    TOOL = os.path.abspath(sys.argv[1])
    d = os.path.abspath(sys.argv[2])
    need = ["cached-microdesc-consensus", "cached-consensus", "cached-certs",
            "groundtruth.json"] + list(MD_FILES)
    if not all(os.path.isfile(os.path.join(d, f)) for f in need):
        print("SKIP: realnet-A data not found at %s (needs %s); "
              "chive-dir tests skipped" % (d, ", ".join(need)))
        return SKIP
    gt = json.load(open(os.path.join(d, "groundtruth.json")))
    gt = gt["bundles"]["primary"]
    tmp = tempfile.mkdtemp(prefix="chive-dir-test-")
    try:
        test_md_text(d, gt)
        test_md_json(d, gt)
        test_default_authorities(d)
        test_authority_lines(d)
        test_ns(d, gt)
        test_outside_validity(d)
        test_flipped_byte(d, tmp)
        test_missing_file(d)
        test_modern(d)
        test_show_consensus(d)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (checks, len(failures)))
    for f in failures:
        print("  failed: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
