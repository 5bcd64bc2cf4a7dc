#!/usr/bin/python3
"""CTest glue for the chive private Tor test network (tests/testnet/testnet).

  testnet_fixture.py setup   DIR [--base-port P] [--timeout S] [--key-cache K]
      stop a stale network in DIR, start a new one, wait until usable
  testnet_fixture.py cleanup DIR
      stop the network, then check that nothing of it is left running
  testnet_fixture.py run     DIR -- CMD ARGS...
      run CMD inside the network's namespace with CHIVE_TESTNET_DIR=DIR

Every mode exits 77 (CTest SKIP_RETURN_CODE) with a clear message when the
integration tests cannot or should not run here: CHIVE_SKIP_INTEGRATION set
to 1/ON/YES/TRUE, not root, `unshare -n` not working, or tor/tor-gencert/
curl missing.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

SKIP = 77
HERE = os.path.dirname(os.path.realpath(__file__))
TESTNET = os.path.realpath(os.path.join(HERE, "..", "testnet", "testnet"))


def say(msg):
    print("testnet-fixture: " + msg, flush=True)


def skip_reason():
    v = os.environ.get("CHIVE_SKIP_INTEGRATION", "").strip().upper()
    if v in ("1", "ON", "YES", "TRUE", "Y"):
        return "CHIVE_SKIP_INTEGRATION=%s is set" % \
            os.environ["CHIVE_SKIP_INTEGRATION"]
    if os.geteuid() != 0:
        return ("not running as root (uid %d): the test network needs a "
                "private network namespace (unshare -n)" % os.geteuid())
    missing = [t for t in ("tor", "tor-gencert", "curl", "unshare",
                           "nsenter", "ip") if shutil.which(t) is None]
    if missing:
        return "missing program(s) %s (Debian packages tor, curl, " \
               "util-linux, iproute2)" % ", ".join(missing)
    try:
        r = subprocess.run(["unshare", "-n", "--", "true"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            return "`unshare -n` does not work here: %s" % r.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return "`unshare -n` does not work here: %s" % e
    return None


def maybe_skip():
    why = skip_reason()
    if why:
        print("SKIPPED: chive integration test: %s" % why, flush=True)
        sys.exit(SKIP)


def testnet(*args, timeout):
    try:
        return subprocess.run([sys.executable, TESTNET] + list(args),
                              timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        say("`testnet %s` did not finish within %d s" % (args[0], timeout))
        return 124


def leftovers(netdir):
    """Processes of the network still alive: by the recorded pids and pid
    files, and by scanning /proc for cmdlines naming netdir."""
    found = {}
    pids = []
    try:
        with open(os.path.join(netdir, "state.json")) as f:
            st = json.load(f)
        pids += [p["pid"] for p in st.get("procs", [])]
        if st.get("holder"):
            pids.append(st["holder"]["pid"])
    except (OSError, ValueError):
        pass
    nodes = os.path.join(netdir, "nodes")
    if os.path.isdir(nodes):
        for n in os.listdir(nodes):
            try:
                with open(os.path.join(nodes, n, "pid")) as f:
                    pids.append(int(f.read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
    me = {os.getpid(), os.getppid()}

    def cmdline(pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return f.read().replace(b"\0", b" ").decode("utf-8",
                                                            "replace")
        except OSError:
            return None

    def zombie(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                d = f.read()
            return d[d.rindex(")") + 2] in "ZX"
        except OSError:
            return True
    def names(c):
        return c and re.search(re.escape(netdir) + r"(/|\s|$)", c)
    for pid in pids:
        c = cmdline(pid)
        if names(c) and not zombie(pid):
            found[pid] = c
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in me:
            pid = int(name)
            c = cmdline(pid)
            if names(c) and not zombie(pid) and \
                    "testnet_fixture.py" not in c:
                found[pid] = c
    return found


def cmd_setup(netdir, base_port, timeout, key_cache):
    maybe_skip()
    os.makedirs(os.path.dirname(netdir), exist_ok=True)
    if os.path.exists(os.path.join(netdir, "state.json")):
        say("stopping a stale network in %s first" % netdir)
        if testnet("stop", netdir, "--kill-strays", timeout=60) != 0:
            say("could not stop the stale network in %s" % netdir)
            return 1
    t0 = time.monotonic()
    extra = ["--key-cache", key_cache] if key_cache else []
    if testnet("start", netdir, "--base-port", str(base_port), *extra,
               timeout=120) != 0:
        say("start failed (see above)")
        testnet("stop", netdir, timeout=60)
        return 1
    rc = testnet("wait", netdir, "--timeout", str(timeout),
                 timeout=timeout + 30)
    if rc != 0:
        say("the network did not become usable; status:")
        testnet("status", netdir, timeout=30)
        testnet("stop", netdir, timeout=60)
        return 1
    say("network ready in %.1f s (start + wait)" % (time.monotonic() - t0))
    return 0


def cmd_cleanup(netdir):
    maybe_skip()
    rc = testnet("stop", netdir, "--kill-strays", timeout=90)
    # the holder and tors may need a moment to be reaped by init
    deadline = time.monotonic() + 10
    left = leftovers(netdir)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = leftovers(netdir)
    if left:
        for pid, c in sorted(left.items()):
            say("LEFT RUNNING after stop: pid %d: %s" % (pid, c[:200]))
        return 1
    if rc != 0:
        say("`testnet stop` reported a problem (see above)")
        return 1
    say("no process of the network is left (checked recorded pids, pid "
        "files and /proc cmdlines naming %s)" % netdir)
    return 0


def cmd_run(netdir, cmd):
    maybe_skip()
    if not cmd:
        say("run needs a command after --")
        return 2
    if not os.path.exists(os.path.join(netdir, "ready")):
        say("no ready network in %s (did testnet.start fail?)" % netdir)
        return 1
    os.environ["CHIVE_TESTNET_DIR"] = netdir
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, TESTNET, "exec", netdir,
                              "--"] + cmd)


def main():
    a = sys.argv[1:]
    if len(a) < 2 or a[0] not in ("setup", "cleanup", "run"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, netdir = a[0], os.path.realpath(a[1])
    rest = a[2:]
    if mode == "setup":
        base, timeout, key_cache = "auto", 120, None
        i = 0
        while i < len(rest):
            if rest[i] == "--key-cache":
                key_cache = rest[i + 1]
                i += 2
            elif rest[i] == "--base-port":
                base = rest[i + 1]
                i += 2
            elif rest[i] == "--timeout":
                timeout = int(rest[i + 1])
                i += 2
            else:
                print("unknown argument %s" % rest[i], file=sys.stderr)
                return 2
        return cmd_setup(netdir, base, timeout, key_cache)
    if mode == "cleanup":
        return cmd_cleanup(netdir)
    if rest and rest[0] == "--":
        rest = rest[1:]
    return cmd_run(netdir, rest)


if __name__ == "__main__":
    sys.exit(main())
