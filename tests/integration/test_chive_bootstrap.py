#!/usr/bin/python3
"""chive.bootstrap: the chive daemon bootstraps its directory from the
private network's real tor authorities, verifies it, caches it in its
DataDirectory, and a second start loads the cache.

Runs inside the network's namespace (chive_add_testnet_test sets
CHIVE_TESTNET_DIR).  Usage:

  test_chive_bootstrap.py CHIVE_BINARY WORKDIR

Checks, each bounded in time:
  1. a fresh start prints tor-style "Bootstrapped N% (tag): summary" lines
     up to "Bootstrapped 100% (done): Done" (directory, then a first
     three-hop circuit);
  2. the DataDirectory then holds cached-microdesc-consensus, cached-certs
     cached-microdescs and the guard state file;
  3. SIGINT makes chive exit cleanly (exit status 0) within 10 s;
  4. a second start with the same DataDirectory loads its guards and
     reaches enough_dirinfo from the cache before any directory download
     finishes, then 100%.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

BOOTSTRAP_TIMEOUT = 60


def say(msg):
    print("chive.bootstrap: " + msg, flush=True)


def fail(msg):
    say("FAIL: " + msg)
    sys.exit(1)


def run_chive(binary, torrc, logfile):
    log = open(logfile, "w")
    p = subprocess.Popen([binary, "-f", torrc], stdout=log,
                         stderr=subprocess.STDOUT)
    return p, log


def wait_for(logfile, pattern, proc, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with open(logfile) as f:
            text = f.read()
        if re.search(pattern, text, re.M):
            return time.monotonic() - t0, text
        if proc.poll() is not None:
            fail("chive exited with %d before %r:\n%s"
                 % (proc.returncode, pattern, text[-3000:]))
        time.sleep(0.1)
    with open(logfile) as f:
        text = f.read()
    fail("timed out after %d s waiting for %r:\n%s"
         % (timeout, pattern, text[-3000:]))


def stop(proc, log, label):
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        fail("%s: chive did not exit within 10 s of SIGINT" % label)
    log.close()
    if rc != 0:
        fail("%s: chive exited with status %d after SIGINT" % (label, rc))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    net = os.environ.get("CHIVE_TESTNET_DIR")
    if not net:
        fail("CHIVE_TESTNET_DIR is not set")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = os.path.join(work, "data")
    torrc = os.path.join(work, "torrc")
    with open(os.path.join(net, "client", "torrc-dirauth")) as f:
        dirauth = f.read()
    with open(torrc, "w") as f:
        f.write("DataDirectory %s\nTestingTorNetwork 1\n"
                "SocksPort 0\nLog info stdout\n%s" % (data, dirauth))

    # 1. fresh bootstrap
    log1 = os.path.join(work, "chive-1.log")
    p, lf = run_chive(binary, torrc, log1)
    dt, text = wait_for(log1, r"Bootstrapped 100% \(done\): Done", p,
                        BOOTSTRAP_TIMEOUT)
    say("fresh start reached 100%% (done) in %.2f s" % dt)
    lines = re.findall(r"Bootstrapped \d+% \([a-z_]+\): .*", text)
    for line in lines:
        say("  " + line)
    if not any("requesting_status" in x for x in lines):
        fail("no requesting_status phase in a fresh bootstrap")
    # The one warning allowed: tor 0.4.9 authorities recommend FlowCtrl=2
    # (congestion control), which chive does not implement yet; the
    # directory issue asks for a warning in that case.
    bad = [x for x in text.splitlines()
           if ("[warn]" in x or "[err]" in x) and
           "recommend protocols that chive does not support" not in x]
    if bad:
        fail("unexpected warnings in a normal bootstrap:\n" +
             "\n".join(bad))

    # 2. the cache
    for name in ("cached-microdesc-consensus", "cached-certs",
                 "cached-microdescs", "state"):
        path = os.path.join(data, name)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            fail("DataDirectory lacks %s" % name)
        say("cache: %s %d bytes" % (name, os.path.getsize(path)))
    with open(os.path.join(data, "cached-microdesc-consensus")) as f:
        if not f.read().startswith("network-status-version 3 microdesc"):
            fail("cached-microdesc-consensus is not a microdesc consensus")

    # 3. clean exit
    stop(p, lf, "first run")
    say("first run exited cleanly on SIGINT")
    with open(os.path.join(data, "state")) as f:
        state = f.read()
    if "\nGuard " not in "\n" + state:
        fail("the state file has no Guard lines")
    if "CircuitBuildTimeBin " not in state:
        fail("the state file has no CircuitBuildTimeBin lines")
    say("state file: %d guards, %d circuit build time bins"
        % (state.count("\nGuard "), state.count("CircuitBuildTimeBin ")))

    # 4. warm start from the cache
    log2 = os.path.join(work, "chive-2.log")
    p, lf = run_chive(binary, torrc, log2)
    dt, text = wait_for(log2, r"Bootstrapped 100% \(done\): Done", p,
                        BOOTSTRAP_TIMEOUT)
    say("warm start reached 100%% (done) in %.2f s" % dt)
    if "Loaded the guard state" not in text:
        fail("warm start did not load the guard state file")
    if not re.search(r"Loaded \d+ circuit build times", text):
        fail("warm start did not load the circuit build times")
    before = text[:text.index("Bootstrapped 75% (enough_dirinfo)")]
    if "Directory response" in before:
        fail("warm start downloaded directory documents before reaching "
             "enough_dirinfo:\n" + before[-3000:])
    stop(p, lf, "second run")
    say("second run exited cleanly")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
