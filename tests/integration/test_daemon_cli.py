#!/usr/bin/python3
"""daemon.cli: the chive daemon's configuration handling, without any
network traffic (DisableNetwork 1; listeners on 127.0.0.1 only).

  test_daemon_cli.py CHIVE_BINARY WORKDIR

Checks:
  1. --verify-config accepts a good torrc and rejects unknown options,
     malformed values and bad listener lines with the line number and
     the reason;
  2. command-line options replace the file's values (tor's rule);
  3. SIGHUP re-reads the file: a new SocksPort opens, a removed one
     closes, a changed DataDirectory is refused with the old config kept;
  4. SIGTERM exits with status 0 and removes the PidFile.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

FAILED = []


def say(msg):
    print("daemon.cli: " + msg, flush=True)


def check(ok, what, detail=""):
    say(("PASS " if ok else "FAIL ") + what + (": " + detail if detail
                                              else ""))
    if not ok:
        FAILED.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def can_connect(port):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        # a SOCKS5 greeting is answered even with the network disabled
        c.sendall(b"\x05\x01\x00")
        ok = c.recv(2) == b"\x05\x00"
        c.close()
        return ok
    except OSError:
        return False


def wait_for(pred, timeout=10.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.1)
    return False


def verify(binary, text, work, extra=()):
    path = os.path.join(work, "verify.torrc")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([binary, "-f", path, "--verify-config"] + list(extra),
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def main():
    binary, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    dd = os.path.join(work, "data")

    good = "DataDirectory %s\nSocksPort 127.0.0.1:%d IsolateDestAddr\n" \
           "DisableNetwork 1\n" % (dd, free_port())
    rc, out = verify(binary, good, work)
    check(rc == 0 and "valid" in out, "a good torrc verifies", out.strip())

    cases = [
        ("DataDirectory /x\nSocksPort 9050\nNoSuchOption 1\n",
         ["line 3", "NoSuchOption"]),
        ("MaxCircuitDirtiness ten\n", ["line 1", "MaxCircuitDirtiness"]),
        ("UseEntryGuards 2\n", ["line 1", "UseEntryGuards"]),
        ("\nSocksPort 9050 IsolateEverything\n",
         ["line 2", "SocksPort", "unknown flag"]),
        ("SocksPort 70000\n", ["line 1", "SocksPort"]),
        ("HTTPTunnelPort ::1:8118\n", ["line 1", "brackets"]),
        ("SocksPort \"9050\n", ["line 1"]),
    ]
    for text, wants in cases:
        rc, out = verify(binary, text, work)
        ok = rc != 0 and all(w in out for w in wants)
        check(ok, "rejects %r" % text.strip(), out.strip())
    rc, out = verify(binary, good, work, ["--NoSuchOption", "1"])
    check(rc != 0 and "NoSuchOption" in out,
          "rejects an unknown command-line option", out.strip())

    # 2 + 3 + 4: a running daemon, network disabled.
    p1, p2, p3 = free_port(), free_port(), free_port()
    torrc = os.path.join(work, "torrc")
    pidfile = os.path.join(work, "chive.pid")
    log = os.path.join(work, "chive.log")

    def write(lines):
        with open(torrc, "w") as f:
            f.write("\n".join(lines) + "\n")
    base = ["DataDirectory " + dd, "DisableNetwork 1", "PidFile " + pidfile,
            "Log notice file " + log]
    write(base + ["SocksPort 127.0.0.1:%d" % p1])
    proc = subprocess.Popen([binary, "-f", torrc, "--SocksPort",
                             "127.0.0.1:%d" % p2],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        check(wait_for(lambda: can_connect(p2)),
              "the command-line SocksPort is open")
        check(not can_connect(p1),
              "the file's SocksPort was replaced by the command line")
        check(wait_for(lambda: os.path.exists(pidfile)), "PidFile written")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        check(rc == 0, "SIGTERM: exit status 0", "status %d" % rc)
        check(not os.path.exists(pidfile), "PidFile removed at exit")

        proc = subprocess.Popen([binary, "-f", torrc],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        check(wait_for(lambda: can_connect(p1)), "the file's SocksPort is open")
        write(base + ["SocksPort 127.0.0.1:%d" % p1,
                      "SocksPort 127.0.0.1:%d" % p3])
        proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: can_connect(p3)),
              "SIGHUP opens a SocksPort added to the file")
        check(can_connect(p1), "the unchanged SocksPort stays open")
        write(base + ["SocksPort 127.0.0.1:%d" % p3])
        proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: not can_connect(p1)),
              "SIGHUP closes a SocksPort removed from the file")
        check(can_connect(p3), "the remaining SocksPort stays open")
        write(["DataDirectory " + dd + "-other"] + base[1:] +
              ["SocksPort 127.0.0.1:%d" % p1])
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)

        def logtext():
            with open(log) as f:
                return f.read()
        check(wait_for(lambda: "changing DataDirectory is not allowed"
                       in logtext()),
              "a changed DataDirectory is refused on reload")
        check(can_connect(p3) and not can_connect(p1),
              "the old configuration is kept after a refused reload")
        write(base + ["SocksPort 127.0.0.1:%d" % p3, "NoSuchOption 1"])
        proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "Reloading config failed" in logtext()),
              "a reload with a bad option is refused")
        check(proc.poll() is None and can_connect(p3),
              "the daemon keeps running after a bad reload")
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10)
        check(rc == 0, "SIGINT: exit status 0", "status %d" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    say("%d failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
