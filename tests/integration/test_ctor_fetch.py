#!/usr/bin/python3
"""ctor.fetch: the reference C tor client bootstraps through the chive
testnet and fetches files through an exit and through the onion service.

Runs inside the network's namespace (registered with
chive_add_testnet_test, which sets CHIVE_TESTNET_DIR).  Usage:

  test_ctor_fetch.py WORKDIR

WORKDIR gets a fresh DataDirectory.  Every step is bounded in time.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

BOOTSTRAP_TIMEOUT = 60
FETCH_TIMEOUT = 30


def say(msg):
    print("ctor.fetch: " + msg, flush=True)


def fail(msg):
    say("FAIL: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def procs_naming(text):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                c = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % name) as f:
                st = f.read()
        except OSError:
            continue
        if re.search(re.escape(text) + r"(/|\s|$)", c) and \
                st[st.rindex(")") + 2] not in "ZX":
            out.append((int(name), c))
    return out


def fetch(socks, url, expect, label):
    t = time.monotonic()
    r = subprocess.run(["curl", "-sS", "--fail", "--max-time",
                        str(FETCH_TIMEOUT), "--socks5-hostname",
                        "127.0.0.1:%d" % socks, url],
                       capture_output=True, timeout=FETCH_TIMEOUT + 10)
    dt = time.monotonic() - t
    if r.returncode != 0:
        fail("%s: curl %s exited %d: %s" % (label, url, r.returncode,
                                             r.stderr.decode().strip()))
    got = hashlib.sha256(r.stdout).hexdigest()
    if r.stdout != expect:
        fail("%s: %s returned %d bytes (sha256 %s), expected %d bytes "
             "(sha256 %s)" % (label, url, len(r.stdout), got, len(expect),
                              hashlib.sha256(expect).hexdigest()))
    say("%s: %s -> %d bytes, sha256 %s, %.2f s"
        % (label, url, len(r.stdout), got, dt))
    return dt


def main():
    netdir = os.environ.get("CHIVE_TESTNET_DIR")
    if not netdir or len(sys.argv) != 2:
        fail("usage: CHIVE_TESTNET_DIR=DIR test_ctor_fetch.py WORKDIR")
    work = os.path.realpath(sys.argv[1])
    with open(os.path.join(netdir, "network.json")) as f:
        net = json.load(f)
    http = net["http"]["port"]
    www = net["http"]["root"]
    with open(os.path.join(www, "index.html"), "rb") as f:
        index = f.read()
    with open(os.path.join(www, "blob.bin"), "rb") as f:
        blob = f.read()
    if hashlib.sha256(blob).hexdigest() != \
            net["http"]["files"]["blob.bin"]["sha256"]:
        fail("served blob.bin does not match network.json's sha256")

    if os.path.exists(work):
        shutil.rmtree(work)
    data = os.path.join(work, "data")
    os.makedirs(data, mode=0o700)
    socks = free_port()
    logf = os.path.join(work, "tor.log")
    argv = ["tor", "-f", net["client"]["torrc"],
            "--DataDirectory", data,
            "--SocksPort", "127.0.0.1:%d" % socks,
            "--ControlPort", "0",
            # tor exits by itself if this test is killed (CTest timeout)
            "--__OwningControllerProcess", str(os.getpid())]
    say("starting C tor client: " + " ".join(argv))
    t0 = time.monotonic()
    with open(logf, "wb") as out:
        tor = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT)
    ok = False
    try:
        deadline = t0 + BOOTSTRAP_TIMEOUT
        boot = None
        while time.monotonic() < deadline:
            if tor.poll() is not None:
                break
            with open(logf, errors="replace") as f:
                if "Bootstrapped 100%" in f.read():
                    boot = time.monotonic() - t0
                    break
            time.sleep(0.05)
        if boot is None:
            with open(logf, errors="replace") as f:
                tailtxt = "".join(f.readlines()[-20:])
            fail("tor did not reach Bootstrapped 100%% within %d s "
                 "(exit status %s); log tail:\n%s"
                 % (BOOTSTRAP_TIMEOUT, tor.poll(), tailtxt))
        say("C tor client bootstrap time: %.2f s (launch to "
            "\"Bootstrapped 100%%\")" % boot)

        base = "http://127.0.0.1:%d/" % http
        fetch(socks, base + "index.html", index, "exit")
        fetch(socks, base + "blob.bin", blob, "exit")
        onion = net["onion"]["address"] if net.get("onion") else None
        if onion:
            fetch(socks, "http://%s/index.html" % onion, index, "onion")
            fetch(socks, "http://%s/blob.bin" % onion, blob, "onion")
        else:
            say("network has no onion service; onion fetch not tested")
        ok = True
    finally:
        if tor.poll() is None:
            tor.send_signal(signal.SIGTERM)
            try:
                tor.wait(timeout=10)
            except subprocess.TimeoutExpired:
                say("tor ignored SIGTERM for 10 s; SIGKILL")
                tor.kill()
                tor.wait(timeout=5)
        left = procs_naming(data)
        if left:
            for pid, c in left:
                say("LEFT RUNNING: pid %d: %s" % (pid, c))
            if ok:
                fail("processes of this test are still running")
    say("client stopped (exit status %d); nothing of ours left running"
        % tor.returncode)
    say("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
