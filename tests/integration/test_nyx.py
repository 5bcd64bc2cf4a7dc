#!/usr/bin/python3
"""chive.nyx: Debian's nyx (the terminal relay monitor, built on stem)
runs against the chive daemon's control port on the private network, in
a detached tmux session; the test reads the screen with
`tmux capture-pane -p` and checks what nyx shows: chive's version and
control port in the header, the bandwidth graph page, and chive's
circuits (with the relays' nicknames) on the connections page.

Runs inside the network's namespace (chive_add_testnet_test sets
CHIVE_TESTNET_DIR).  Exits 77 (skipped) when nyx or tmux is missing.

  test_nyx.py CHIVE_BINARY WORKDIR
"""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SKIP = 77
SCREEN_W, SCREEN_H = 200, 150


def say(msg):
    print("chive.nyx: " + msg, flush=True)


def tmux(*args, check=True):
    r = subprocess.run(["tmux"] + list(args), capture_output=True,
                       text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("tmux %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def capture(session):
    return tmux("capture-pane", "-p", "-t", session)


def keep(work, name, screen):
    """Keep a capture for the log reader (WORKDIR/nyx/<name>.txt)."""
    with open(os.path.join(work, name + ".txt"), "w") as f:
        f.write(screen)


def wait_screen(session, pattern, timeout, what):
    """Capture the pane until <pattern> matches; return the screen."""
    t0 = time.monotonic()
    screen = ""
    while time.monotonic() - t0 < timeout:
        screen = capture(session)
        if re.search(pattern, screen, re.M):
            return screen
        time.sleep(0.5)
    raise AssertionError("nyx screen never showed %s (%r); last screen:\n%s"
                         % (what, pattern, screen))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    for tool in ("nyx", "tmux"):
        if not shutil.which(tool):
            say("SKIP: %s is not installed (Debian package %s)"
                % (tool, tool))
            return SKIP
    try:
        import test_control as tc  # noqa: E402 (needs stem)
    except ImportError as e:
        say("SKIP: %s" % e)
        return SKIP
    if not os.environ.get("CHIVE_TESTNET_DIR"):
        say("FAIL: CHIVE_TESTNET_DIR is not set")
        return 1
    binary, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    net = tc.network()
    nicks = [r["nickname"] for r in net["relays"]]
    c = tc.Chive(binary, work, "nyx", "")
    session = "chive-nyx-%d" % os.getpid()
    home = os.path.join(c.work, "home")
    os.makedirs(os.path.join(home, ".nyx"), exist_ok=True)
    # nyx reads ~/.nyx/config; keep its defaults except what a test
    # needs: no prompts, start on the graph page.
    with open(os.path.join(home, ".nyx", "config"), "w") as f:
        f.write("features.confirmQuit false\n")
    started = False
    try:
        c.wait_ready()
        # Make sure there are circuits to show (chive keeps a pool; an
        # explicit one through a known relay makes the check precise).
        guard = [r for r in net["relays"] if r["role"] != "exit"][0]
        exit_ = [r for r in net["relays"] if r["role"] == "exit"][0]
        with c.controller() as ctl:
            ctl.authenticate()
            cid = ctl.new_circuit([guard["fpr"], exit_["fpr"]],
                                  await_build=True, timeout=30)
        say("circuit %s built through %s,%s" % (cid, guard["nickname"],
                                                exit_["nickname"]))
        env_cmd = ("env HOME=%s TERM=xterm-256color LANG=C.UTF-8 "
                   "nyx -i 127.0.0.1:%d" % (home, c.port))
        tmux("new-session", "-d", "-s", session, "-x", str(SCREEN_W),
             "-y", str(SCREEN_H), env_cmd)
        started = True
        # Page 1: the header names the tor version nyx read with GETINFO
        # version and the control port; the graph shows Download/Upload.
        s1 = wait_screen(session, r"chive", 40, "chive's version")
        s1 = wait_screen(session, r"Download", 20, "the bandwidth graph")
        assert re.search(r"Control Port \(cookie\): %d" % c.port, s1), \
            "header has no control port %d:\n%s" % (c.port, s1)
        keep(c.work, "page1", s1)
        pid_ok = re.search(r"pid: %d" % c.proc.pid, s1) is not None
        say("page 1: header shows chive and control port %d%s"
            % (c.port, ", pid %d" % c.proc.pid if pid_ok else ""))
        # Page 2: connections.  nyx lists chive's circuits from
        # GETINFO circuit-status ("Circuit" lines with relay nicknames).
        tmux("send-keys", "-t", session, "Right")
        s2 = wait_screen(session, r"Circuit ID: %s\b" % cid, 30,
                         "circuit %s" % cid)
        keep(c.work, "page2", s2)
        # The circuit's entry is followed by one line per hop, in order.
        lines = s2.splitlines()
        at = [i for i, ln in enumerate(lines)
              if re.search(r"Circuit ID: %s\b" % cid, ln)][0]
        hops = lines[at + 1:at + 3]
        assert len(hops) == 2 and guard["nickname"] in hops[0] and \
            guard["fpr"] in hops[0] and exit_["nickname"] in hops[1] and \
            exit_["fpr"] in hops[1], \
            "circuit %s is not shown as %s, %s:\n%s" \
            % (cid, guard["nickname"], exit_["nickname"], s2)
        n_circ = len(re.findall(r"Circuit ID: \d+", s2))
        shown = [n for n in nicks if n in s2]
        say("page 2: connections page shows %d circuits, circuit %s as "
            "%s -> %s; relays on the page: %s"
            % (n_circ, cid, guard["nickname"], exit_["nickname"],
               ", ".join(sorted(shown))))
        # Page 3: configuration, from GETINFO config/names + GETCONF.
        tmux("send-keys", "-t", session, "Right")
        s3 = wait_screen(session, r"SocksPort|DataDirectory", 30,
                         "the configuration page")
        keep(c.work, "page3", s3)
        assert str(c.socks) in s3 or "DataDirectory" in s3, s3
        say("page 3: configuration page lists chive's options")
        assert c.proc.poll() is None, "chive exited under nyx"
        tmux("send-keys", "-t", session, "q")
        time.sleep(1.0)
        say("PASS")
        return 0
    except AssertionError as e:
        say("FAIL: %s" % e)
        return 1
    except tc.Failure as e:
        say("FAIL: %s" % e)
        return 1
    finally:
        if started:
            tmux("kill-session", "-t", session, check=False)
        c.stop()


if __name__ == "__main__":
    sys.exit(main())
