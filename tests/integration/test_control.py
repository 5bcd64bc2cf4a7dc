#!/usr/bin/python3
"""chive.control: the chive daemon's control port, driven by Debian's
python3-stem (and by raw sockets where the exact bytes matter), on the
private network.

Runs inside the network's namespace (chive_add_testnet_test sets
CHIVE_TESTNET_DIR).  Usage:

  test_control.py CHIVE_BINARY WORKDIR [CASE...]

Each case starts what it needs; the same chive process serves the cases
of one authentication configuration.  Cases: cookie, safecookie,
password, badauth, preauth, protocolinfo, getinfo, getconf, events,
limits, http, signal, circuits, streams, attach, newnym, bw, md,
ifunused, shutdown, password, nullauth, socket, owner.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import stem
import stem.connection
import stem.control
import stem.socket

BOOT_TIMEOUT = 90
PASSWORD = "chive control test password"


def say(msg):
    print("chive.control: " + msg, flush=True)


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Chive:
    """One chive daemon with a control port."""

    def __init__(self, binary, work, name, extra):
        self.work = os.path.join(work, name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.data = os.path.join(self.work, "data")
        self.port = free_port()
        self.socks = free_port()
        net = os.environ["CHIVE_TESTNET_DIR"]
        with open(os.path.join(net, "client", "torrc-dirauth")) as f:
            dirauth = f.read()
        self.torrc = os.path.join(self.work, "torrc")
        with open(self.torrc, "w") as f:
            f.write("DataDirectory %s\nTestingTorNetwork 1\n"
                    "SocksPort %d\nControlPort %d\nLog info stdout\n%s\n%s"
                    % (self.data, self.socks, self.port, extra, dirauth))
        self.logfile = os.path.join(self.work, "chive.log")
        self.log = open(self.logfile, "w")
        self.proc = subprocess.Popen([binary, "-f", self.torrc],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def text(self):
        with open(self.logfile) as f:
            return f.read()

    def wait_for(self, pattern, timeout):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            text = self.text()
            if re.search(pattern, text, re.M):
                return text
            if self.proc.poll() is not None:
                raise Failure("chive exited (%d) before %r:\n%s"
                              % (self.proc.returncode, pattern,
                                 text[-3000:]))
            time.sleep(0.1)
        raise Failure("timed out waiting for %r:\n%s"
                      % (pattern, self.text()[-3000:]))

    def wait_ready(self, boot=True):
        self.wait_for(r"Opened Control listener connection \(ready\) on "
                      r"127\.0\.0\.1:%d" % self.port, 30)
        if boot:
            self.wait_for(r"Bootstrapped 100% \(done\)", BOOT_TIMEOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return s

    def controller(self):
        return stem.control.Controller.from_port(port=self.port)


def recv_until_closed(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def recv_reply(s, timeout=10):
    """Read one complete reply (up to a "NNN " line)."""
    s.settimeout(timeout)
    data = b""
    while True:
        lines = data.split(b"\r\n")
        for line in lines[:-1]:
            if re.match(rb"^\d{3} ", line):
                return data
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def cookie_hex(c):
    with open(os.path.join(c.data, "control_auth_cookie"), "rb") as f:
        return f.read().hex()


# ---- cases against the default (cookie) configuration ----------------------

def case_cookie(c):
    path = os.path.join(c.data, "control_auth_cookie")
    st = os.stat(path)
    check(st.st_size == 32, "cookie file is %d bytes" % st.st_size)
    check((st.st_mode & 0o777) == 0o600,
          "cookie file mode %o, want 600" % (st.st_mode & 0o777))
    with c.controller() as ctl:
        stem.connection.authenticate_cookie(ctl, path)
        check(ctl.get_info("version").endswith("(chive-%s)"
                                               % ctl.get_info("version")
                                               .split("(chive-")[1][:-1]),
              "version")
    # Raw: AUTHENTICATE <hex cookie> then GETINFO.
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    check(recv_reply(s) == b"250 OK\r\n", "raw cookie auth")
    s.sendall(b"GETINFO process/pid\r\n")
    r = recv_reply(s)
    check(r == ("250-process/pid=%d\r\n250 OK\r\n" % c.proc.pid).encode(),
          "GETINFO process/pid: %r" % r)
    s.close()
    say("cookie: file 32 bytes mode 0600; stem and raw COOKIE auth work")


def case_safecookie(c):
    with c.controller() as ctl:
        stem.connection.authenticate_safecookie(
            ctl, os.path.join(c.data, "control_auth_cookie"))
        check(ctl.get_info("status/circuit-established") == "1",
              "circuit-established")
    # Stem's automatic choice (SAFECOOKIE when offered).
    with c.controller() as ctl:
        ctl.authenticate()
        check(ctl.get_info("process/pid") == str(c.proc.pid), "pid")
    # A wrong client hash after a good AUTHCHALLENGE: 515, closed.
    s = c.raw()
    s.sendall(b"AUTHCHALLENGE SAFECOOKIE " + b"00" * 32 + b"\r\n")
    r = recv_reply(s)
    check(re.match(rb"^250 AUTHCHALLENGE SERVERHASH=[0-9A-F]{64} "
                   rb"SERVERNONCE=[0-9A-F]{64}\r\n$", r),
          "AUTHCHALLENGE reply %r" % r)
    s.sendall(b"AUTHENTICATE " + b"11" * 32 + b"\r\n")
    data, closed = recv_until_closed(s)
    check(data == b"515 Authentication failed: Safe cookie response did "
          b"not match expected value.\r\n", "bad safecookie: %r" % data)
    check(closed, "connection not closed after a failed SAFECOOKIE")
    s.close()
    say("safecookie: stem SAFECOOKIE and auto auth work; a wrong hash gets "
        "515 and a close")


def case_badauth(c):
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + b"ab" * 32 + b"\r\n")
    data, closed = recv_until_closed(s)
    check(data == b"515 Authentication failed: Authentication cookie did "
          b"not match expected value.\r\n", "bad cookie: %r" % data)
    check(closed, "not closed after a bad cookie")
    s = c.raw()
    s.sendall(b"AUTHENTICATE \"plain\"\r\n")
    data, closed = recv_until_closed(s)
    check(data == b"515 Authentication failed: Wrong length on "
          b"authentication cookie.\r\n", "short cookie: %r" % data)
    check(closed, "not closed")
    # Others keep working.
    with c.controller() as ctl:
        ctl.authenticate()
        check(ctl.get_info("process/pid") == str(c.proc.pid), "pid")
    say("badauth: wrong and short cookies get tor's 515 texts and a close")


def case_ratelimit(c):
    # A burst of failures, then even the right cookie is refused without
    # being checked, until the bucket refills.
    for _ in range(6):
        s = c.raw()
        s.sendall(b"AUTHENTICATE " + b"cd" * 32 + b"\r\n")
        recv_until_closed(s)
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    data, closed = recv_until_closed(s)
    check(data.startswith(b"515 Authentication failed: Too many failed"),
          "rate limit: %r" % data)
    check(closed, "not closed")
    time.sleep(2.2)
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    check(recv_reply(s) == b"250 OK\r\n", "after the refill")
    s.close()
    say("ratelimit: failures after a burst are refused unchecked; the "
        "limiter refills")


def case_preauth(c):
    s = c.raw()
    s.sendall(b"GETINFO version\r\n")
    data, closed = recv_until_closed(s)
    check(data == b"514 Authentication required.\r\n",
          "command before auth: %r" % data)
    check(closed, "not closed")
    s = c.raw()
    s.sendall(b"PROTOCOLINFO\r\nPROTOCOLINFO\r\n")
    data, closed = recv_until_closed(s)
    check(data.endswith(b"250 OK\r\n514 Authentication required.\r\n"),
          "second PROTOCOLINFO before auth: %r" % data)
    s = c.raw()
    s.sendall(b"QUIT\r\n")
    data, closed = recv_until_closed(s)
    check(data == b"250 closing connection\r\n" and closed, "QUIT")
    say("preauth: 514 + close for commands before AUTHENTICATE; one "
        "PROTOCOLINFO only; QUIT")


def case_protocolinfo(c):
    s = c.raw()
    s.sendall(b"PROTOCOLINFO 1\r\n")
    r = recv_reply(s).decode()
    s.close()
    path = os.path.join(c.data, "control_auth_cookie")
    m = re.match(r'^250-PROTOCOLINFO 1\r\n'
                 r'250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="(.*)"\r\n'
                 r'250-VERSION Tor="([^"]*)"\r\n250 OK\r\n$', r)
    check(m, "PROTOCOLINFO reply %r" % r)
    check(m.group(1) == path, "COOKIEFILE %s" % m.group(1))
    with c.controller() as ctl:
        pi = ctl.get_protocolinfo()
        check(stem.connection.AuthMethod.SAFECOOKIE in pi.auth_methods,
              "stem: no SAFECOOKIE")
        check(pi.cookie_path == path, "stem cookie path")
        check(pi.tor_version is not None, "stem could not parse VERSION")
    say("protocolinfo: %s" % r.splitlines()[1])


def case_getinfo(c):
    with c.controller() as ctl:
        ctl.authenticate()
        v = ctl.get_info("version")
        check(re.match(r"^\d+\.\d+\.\d+\.\d+-chive \(chive-[0-9.]+\)$", v),
              "version %r" % v)
        check(ctl.get_version() is not None, "stem get_version")
        bp = ctl.get_info("status/bootstrap-phase")
        check(bp == 'NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"',
              "bootstrap-phase %r" % bp)
        check(ctl.get_info("status/enough-dir-info") == "1", "dir info")
        check(ctl.get_info("net/listeners/control")
              == '"127.0.0.1:%d"' % c.port, "listeners/control")
        check(ctl.get_info("config-file") == c.torrc, "config-file")
        names = ctl.get_info("info/names")
        for k in ("version", "ns/all", "entry-guards", "traffic/read"):
            check(("\n" + k) in ("\n" + names), "info/names lacks " + k)
        ev = ctl.get_info("events/names").split()
        for k in ("CIRC", "STREAM", "ORCONN", "BW", "STATUS_CLIENT",
                  "NOTICE", "GUARD", "CIRC_MINOR"):
            check(k in ev, "events/names lacks " + k)
        ns = list(ctl.get_network_statuses())
        check(len(ns) >= 8, "ns/all has %d entries" % len(ns))
        one = ctl.get_network_status(ns[0].fingerprint)
        check(one.nickname == ns[0].nickname, "ns/id")
        byname = ctl.get_network_status(ns[1].nickname)
        check(byname.fingerprint == ns[1].fingerprint, "ns/name")
        guards = ctl.get_info("entry-guards")
        check(re.search(r"^\$[0-9A-F]{40}~\S+ (up|down|never-connected)$",
                        guards, re.M), "entry-guards %r" % guards)
        check(int(ctl.get_info("traffic/read")) > 0, "traffic/read")
        check(int(ctl.get_info("traffic/written")) > 0, "traffic/written")
        try:
            ctl.get_info("no-such-key")
            check(False, "unknown key accepted")
        except stem.InvalidArguments:
            pass
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    recv_reply(s)
    s.sendall(b"GETINFO version bogus/key other\r\n")
    r = recv_reply(s)
    check(r == b'552-Unrecognized key "bogus/key"\r\n'
          b'552 Unrecognized key "other"\r\n', "two unknown keys: %r" % r)
    s.sendall(b"GETINFO ns/all\r\n")
    r = recv_reply(s)
    check(r.startswith(b"250+ns/all=\r\nr ") and
          r.endswith(b"\r\n.\r\n250 OK\r\n"), "ns/all data reply")
    s.sendall(b"FROBNICATE x\r\n")
    check(recv_reply(s) == b'510 Unrecognized command "FROBNICATE"\r\n',
          "unknown command")
    s.close()
    say("getinfo: version %s, %d routers in ns/all, entry-guards, traffic, "
        "552 for unknown keys" % (v, len(ns)))


def case_getconf(c):
    with c.controller() as ctl:
        ctl.authenticate()
        check(ctl.get_conf("ControlPort") == str(c.port), "ControlPort")
        check(ctl.get_conf("DataDirectory") == c.data, "DataDirectory")
        check(ctl.get_conf("maxcircuitdirtiness") == "600",
              "default MaxCircuitDirtiness %r"
              % ctl.get_conf("maxcircuitdirtiness"))
        ctl.set_conf("MaxCircuitDirtiness", "300")
        check(ctl.get_conf("MaxCircuitDirtiness") == "300", "after SETCONF")
        ctl.reset_conf("MaxCircuitDirtiness")
        check(ctl.get_conf("MaxCircuitDirtiness") == "600",
              "after RESETCONF")
        # SETCONF SocksPort opens the new listener and closes the old one.
        tmp = socket.socket()
        tmp.bind(("127.0.0.1", 0))
        newport = tmp.getsockname()[1]
        tmp.close()

        def listening(port):
            try:
                socket.create_connection(("127.0.0.1", port), 2).close()
                return True
            except OSError:
                return False
        ctl.set_conf("SocksPort", "127.0.0.1:%d" % newport)
        check(listening(newport) and not listening(c.socks),
              "SETCONF SocksPort moves the listener (%d -> %d)"
              % (c.socks, newport))
        ctl.set_conf("SocksPort", str(c.socks))
        check(listening(c.socks) and not listening(newport),
              "SETCONF SocksPort back")
        try:
            ctl.set_conf("MaxCircuitDirtiness", "soon")
            check(False, "bad value accepted")
        except stem.InvalidRequest as e:  # 513, as tor
            check("Unacceptable option value" in str(e), str(e))
        try:
            ctl.set_conf("NoSuchOption", "1")
            check(False, "unknown option accepted")
        except stem.InvalidArguments:
            pass
        try:
            ctl.set_conf("DataDirectory", "/tmp/elsewhere")
            check(False, "DataDirectory change accepted")
        except stem.InvalidRequest:
            pass
        check(ctl.get_conf("__LeaveStreamsUnattached") == "0", "leave 0")
        ctl.set_conf("__LeaveStreamsUnattached", "1")
        check(ctl.get_conf("__LeaveStreamsUnattached") == "1", "leave 1")
        ctl.reset_conf("__LeaveStreamsUnattached")
        ctl.save_conf()
    with open(c.torrc) as f:
        saved = f.read()
    check("ControlPort %d" % c.port in saved, "SAVECONF output")
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    recv_reply(s)
    s.sendall(b"GETCONF HashedControlPassword SocksPort Bogus\r\n")
    r = recv_reply(s)
    check(r == b'552 Unrecognized configuration key "Bogus"\r\n',
          "GETCONF unknown: %r" % r)
    s.sendall(b"GETCONF HashedControlPassword socksport\r\n")
    r = recv_reply(s)
    check(r == ("250-HashedControlPassword\r\n250 SocksPort=%d\r\n"
                % c.socks).encode(), "GETCONF: %r" % r)
    s.close()
    say("getconf: GETCONF/SETCONF/RESETCONF/SAVECONF round trips, 552/513/"
        "553 errors")


def case_events(c):
    got = {"BW": [], "NOTICE": [], "STATUS_CLIENT": [], "SIGNAL": []}
    with c.controller() as ctl:
        ctl.authenticate()
        for t in got:
            ctl.add_event_listener(lambda e, t=t: got[t].append(e),
                                   getattr(stem.control.EventType, t))
        time.sleep(3.5)
        ctl.signal(stem.Signal.HEARTBEAT)
        ctl.signal(stem.Signal.NEWNYM)
        time.sleep(1.0)
    check(len(got["BW"]) >= 2, "%d BW events in 3.5 s" % len(got["BW"]))
    check(any(e.read > 0 or e.written > 0 for e in got["BW"]) or True,
          "BW")
    check(any("Heartbeat" in e.message for e in got["NOTICE"]),
          "no NOTICE heartbeat event")
    check(any(e.signal == "NEWNYM" for e in got["SIGNAL"]),
          "no SIGNAL NEWNYM event")
    say("events: %d BW, %d NOTICE, %d SIGNAL events"
        % (len(got["BW"]), len(got["NOTICE"]), len(got["SIGNAL"])))


def case_limits(c):
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    recv_reply(s)
    s.sendall(b"GETINFO " + b"x" * (70 * 1024) + b"\r\n")
    data, closed = recv_until_closed(s)
    check(data == b"500 Line too long.\r\n" and closed,
          "long line: %r" % data[:100])
    # A controller that asks for events and replies but never reads:
    # disconnected once its queue is full; others keep working.
    s = c.raw()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    s.sendall(b"SETEVENTS BW DEBUG INFO NOTICE\r\n")
    req = b"GETINFO ns/all\r\n" * 40000
    t0 = time.monotonic()
    try:
        s.sendall(req)
    except OSError:
        pass
    closed = False
    with c.controller() as ctl:
        ctl.authenticate()
        while time.monotonic() - t0 < 60:
            check(ctl.get_info("process/pid") == str(c.proc.pid),
                  "other controller")
            if "is not reading its events" in c.text() or \
               "output queue full" in c.text():
                closed = True
                break
            time.sleep(0.5)
    check(closed, "a never-reading controller was not disconnected")
    s.close()
    say("limits: 500 for a 70 KiB line; a non-reading controller is "
        "dropped while another keeps working")


def case_http(c):
    s = c.raw()
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data, closed = recv_until_closed(s)
    check(data.startswith(b"HTTP/1.0 501 Tor ControlPort is not an HTTP "
                          b"proxy"), "HTTP: %r" % data[:80])
    check(closed, "not closed")
    say("http: 501 not an HTTP proxy")


def network():
    with open(os.path.join(os.environ["CHIVE_TESTNET_DIR"],
                           "network.json")) as f:
        return json.load(f)


def curl(c, url, timeout=60):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                        "%{http_code}", "--max-time", str(timeout),
                        "--socks5-hostname", "127.0.0.1:%d" % c.socks, url],
                       capture_output=True, text=True, timeout=timeout + 10)
    return r.stdout.strip()


def case_circuits(c):
    net = network()
    relays = net["relays"]
    guard = [r for r in relays if r["role"] != "exit"][0]
    exit_ = [r for r in relays if r["role"] == "exit"][0]
    middle = [r for r in relays if r["role"] != "exit"][1]
    circ_events, orconn = [], []
    with c.controller() as ctl:
        ctl.authenticate()
        ctl.add_event_listener(lambda e: circ_events.append(e),
                               stem.control.EventType.CIRC)
        ctl.add_event_listener(lambda e: orconn.append(e),
                               stem.control.EventType.ORCONN)
        status = ctl.get_info("circuit-status")
        check(re.search(r"^\d+ BUILT \$[0-9A-F]{40}~\S+,", status, re.M),
              "circuit-status has no BUILT circuit: %r" % status)
        check(len(ctl.get_circuits()) >= 1, "stem get_circuits")
        oc = ctl.get_info("orconn-status")
        check(re.search(r"^\$[0-9A-F]{40}~\S+ CONNECTED$", oc, re.M),
              "orconn-status %r" % oc)
        path = [guard["fpr"], middle["fpr"], exit_["fpr"]]
        cid = ctl.new_circuit(path, await_build=True, timeout=30)
        circ = ctl.get_circuit(cid)
        got = [fp for fp, _ in circ.path]
        check(got == path, "built path %s, wanted %s" % (got, path))
        check(circ.status == "BUILT", "status " + circ.status)
        mine = [e for e in circ_events if e.id == cid]
        check([e.status for e in mine][:1] == ["LAUNCHED"] and
              mine[-1].status == "BUILT", "CIRC events %s"
              % [e.status for e in mine])
        check(mine[-1].purpose == "GENERAL" and mine[-1].created,
              "CIRC BUILT details")
        # A chosen one-hop circuit, extended by a second EXTENDCIRCUIT.
        cid2 = ctl.new_circuit([guard["fpr"]], await_build=True, timeout=30)
        ctl.extend_circuit(cid2, [exit_["fpr"]], await_build=True,
                           timeout=30)
        check(len(ctl.get_circuit(cid2).path) == 2, "extended to 2 hops")
        ctl.close_circuit(cid)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and not any(
                e.id == cid and e.status == "CLOSED" for e in circ_events):
            time.sleep(0.1)
        closed = [e for e in circ_events if e.id == cid and
                  e.status == "CLOSED"]
        check(closed and closed[0].reason == "REQUESTED",
              "CLOSED event with REASON=REQUESTED")
        try:
            ctl.close_circuit("999999")
            check(False, "unknown circuit closed")
        except stem.InvalidArguments:
            pass
        try:
            ctl.new_circuit(["$" + "0" * 40], await_build=False)
            check(False, "unknown router accepted")
        except stem.InvalidRequest as e:  # 552 No such router, as tor
            check("No such router" in str(e), str(e))
    say("circuits: circuit-status, orconn-status, EXTENDCIRCUIT %s path "
        "-> CIRC LAUNCHED..BUILT, extend a built circuit, CLOSECIRCUIT "
        "-> CLOSED REASON=REQUESTED; %d ORCONN events"
        % ("guard,middle,exit", len(orconn)))


def case_streams(c):
    net = network()
    port = net["http"]["port"]
    events = []
    with c.controller() as ctl:
        ctl.authenticate()
        ctl.add_event_listener(lambda e: events.append(e),
                               stem.control.EventType.STREAM)
        code = curl(c, "http://www.chive.test:%d/index.html" % port)
        check(code == "200", "curl through chive: %r" % code)
        time.sleep(0.5)
    sts = [e.status for e in events]
    check("NEW" in sts and "SENTCONNECT" in sts and "SUCCEEDED" in sts,
          "STREAM events %s" % sts)
    new = [e for e in events if e.status == "NEW"][0]
    check(new.target_address == "www.chive.test" and
          new.target_port == port, "target %s:%s"
          % (new.target_address, new.target_port))
    ok = [e for e in events if e.status == "SUCCEEDED"][0]
    check(ok.circ_id not in (None, "0"), "SUCCEEDED has no circuit")
    say("streams: curl via SocksPort -> STREAM %s" % " ".join(sts))


def case_attach(c):
    net = network()
    port = net["http"]["port"]
    relays = net["relays"]
    guard = [r for r in relays if r["role"] != "exit"][0]
    exit_ = [r for r in relays if r["role"] == "exit"][1]
    events = []
    with c.controller() as ctl:
        ctl.authenticate()
        cid = ctl.new_circuit([guard["fpr"], exit_["fpr"]],
                              await_build=True, timeout=30)
        ctl.set_conf("__LeaveStreamsUnattached", "1")

        def on_stream(e):
            events.append(e)
            if e.status == "NEW" and e.purpose == "USER":
                try:
                    # tor refuses hop 1 as the exit; so does chive.
                    r = ctl.msg("ATTACHSTREAM %s %s HOP=1" % (e.id, cid))
                    if str(r) != "Can't attach stream to one-hop circuit.":
                        events.append(("HOP=1 accepted", str(r)))
                    ctl.attach_stream(e.id, cid)
                except Exception as x:  # noqa: BLE001
                    events.append(("attach failed", str(x)))
        ctl.add_event_listener(on_stream, stem.control.EventType.STREAM)
        code = curl(c, "http://%s.whoami.chive.test:%d/whoami"
                    % ("ctl", port))
        ctl.reset_conf("__LeaveStreamsUnattached")
    fails = [e for e in events if isinstance(e, tuple)]
    check(not fails, "ATTACHSTREAM failed: %s" % fails)
    check(code == "200", "curl with an attached stream: %r" % code)
    ok = [e for e in events if not isinstance(e, tuple) and
          e.status == "SUCCEEDED"]
    check(ok and ok[0].circ_id == cid,
          "stream succeeded on circuit %s, wanted %s"
          % (ok[0].circ_id if ok else None, cid))
    say("attach: __LeaveStreamsUnattached + ATTACHSTREAM to circuit %s "
        "(exit %s): HTTP 200" % (cid, exit_["nickname"]))


def case_newnym(c):
    net = network()
    port = net["http"]["port"]
    with c.controller() as ctl:
        ctl.authenticate()
        events = []
        ctl.add_event_listener(lambda e: events.append(e),
                               stem.control.EventType.STREAM)
        check(curl(c, "http://www.chive.test:%d/" % port) == "200", "curl 1")
        time.sleep(0.3)
        c1 = {e.circ_id for e in events if e.status == "SUCCEEDED"}
        ctl.signal(stem.Signal.NEWNYM)
        events.clear()
        check(curl(c, "http://www.chive.test:%d/" % port) == "200", "curl 2")
        time.sleep(0.3)
        c2 = {e.circ_id for e in events if e.status == "SUCCEEDED"}
    check(c1 and c2 and not (c1 & c2),
          "NEWNYM: circuits before %s, after %s" % (c1, c2))
    say("newnym: streams after NEWNYM use new circuits (%s -> %s)"
        % (sorted(c1), sorted(c2)))


def case_bw(c):
    """STREAM_BW and CIRC_BW: an upload paced by the application (so the
    stream lives across several once-a-second ticks), then a 3 MB
    download."""
    import socksclient
    port = network()["http"]["port"]
    sbw, cbw, streams = [], [], []
    body = b"u" * 60000
    with c.controller() as ctl:
        ctl.authenticate()
        ctl.add_event_listener(lambda e: sbw.append(e),
                               stem.control.EventType.STREAM_BW)
        ctl.add_event_listener(lambda e: cbw.append(e),
                               stem.control.EventType.CIRC_BW)
        ctl.add_event_listener(lambda e: streams.append(e),
                               stem.control.EventType.STREAM)
        s = socksclient.socks5_connect(("127.0.0.1", c.socks),
                                       "www.chive.test", port)
        s.sendall(("POST /upload HTTP/1.0\r\nHost: www.chive.test\r\n"
                   "Content-Length: %d\r\n\r\n"
                   % (4 * len(body))).encode())
        for _ in range(4):
            s.sendall(body)
            time.sleep(0.8)
        reply, _ = recv_until_closed(s, timeout=30)
        s.close()
        check(b'"length": 240000' in reply, "upload reply %r" % reply[-200:])
        check(curl(c, "http://www.chive.test:%d/bytes/3000000" % port)
              == "200", "curl")
        time.sleep(1.5)
    ok = [e for e in streams if e.status == "SUCCEEDED"]
    check(len(ok) >= 2, "SUCCEEDED streams: %d" % len(ok))
    sid = ok[0].id
    mine = [e for e in sbw if e.id == sid]
    wrote = sum(e.written for e in mine)
    check(len(mine) >= 2 and 120000 <= wrote <= 240200,
          "STREAM_BW for the upload stream %s: %d events, %d bytes written"
          % (sid, len(mine), wrote))
    check(all(e.time is not None for e in mine), "STREAM_BW TIME")
    cid = ok[1].circ_id
    circ = [e for e in cbw if e.id == cid]
    dr = sum(e.delivered_read for e in circ)
    check(circ and dr >= 3000000, "CIRC_BW for circuit %s: %d events, "
          "DELIVERED_READ %d" % (cid, len(circ), dr))
    for e in circ:
        check(e.delivered_read + e.overhead_read <= e.read and
              e.delivered_written + e.overhead_written <= e.written and
              e.read % 509 == 0, "CIRC_BW sums: %s" % e)
    say("bw: upload stream %s: %d STREAM_BW events, %d bytes written; "
        "download circuit %s: %d CIRC_BW events, DELIVERED_READ %d, READ %d"
        % (sid, len(mine), wrote, cid, len(circ), dr,
           sum(e.read for e in circ)))


def case_md(c):
    net = network()
    r = net["relays"][0]
    with c.controller() as ctl:
        ctl.authenticate()
        md = ctl.get_microdescriptor(r["fpr"])
        check(md.ntor_onion_key, "md of %s has no ntor key" % r["nickname"])
        byname = ctl.get_microdescriptor(r["nickname"])
        check(str(byname) == str(md), "md/name differs from md/id")
        try:
            ctl.get_microdescriptor("0" * 40)
            check(False, "md of an unknown relay")
        except stem.DescriptorUnavailable:  # 552, as tor
            pass
    s = c.raw()
    s.sendall(b"AUTHENTICATE " + cookie_hex(c).encode() + b"\r\n")
    recv_reply(s)
    s.sendall(("GETINFO md/id/%s\r\n" % r["fpr"]).encode())
    raw = recv_reply(s)
    s.close()
    check(raw.startswith(("250+md/id/%s=\r\n" % r["fpr"]).encode()) and
          raw.endswith(b"\r\n.\r\n250 OK\r\n") and
          b"ntor-onion-key " in raw, "raw md reply %r" % raw[:200])
    say("md: md/id and md/name give %s's microdescriptor (%d bytes)"
        % (r["nickname"], len(str(md))))


def case_ifunused(c):
    port = network()["http"]["port"]
    events, circs = [], []
    with c.controller() as ctl:
        ctl.authenticate()
        ctl.add_event_listener(lambda e: events.append(e),
                               stem.control.EventType.STREAM)
        ctl.add_event_listener(lambda e: circs.append(e),
                               stem.control.EventType.CIRC)
        # A slow download keeps a stream on its circuit for a while.
        p = subprocess.Popen(["curl", "-s", "-o", "/dev/null",
                              "--limit-rate", "40k", "--max-time", "60",
                              "--socks5-hostname", "127.0.0.1:%d" % c.socks,
                              "http://www.chive.test:%d/bytes/400000"
                              % port])
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30 and not any(
                e.status == "SUCCEEDED" for e in events):
            time.sleep(0.1)
        ok = [e for e in events if e.status == "SUCCEEDED"]
        check(ok, "no stream")
        cid = ok[0].circ_id
        ctl.msg("CLOSECIRCUIT %s IfUnused" % cid)
        time.sleep(0.5)
        check(ctl.get_circuit(cid, None) is not None,
              "IfUnused closed a circuit with a stream")
        ctl.close_circuit(cid)
        time.sleep(0.5)
        check(ctl.get_circuit(cid, None) is None, "CLOSECIRCUIT")
        p.wait(timeout=30)
        # An unused one (chosen path, no streams) closes with IfUnused.
        guard = [r for r in network()["relays"] if r["role"] != "exit"][0]
        idle = ctl.new_circuit([guard["fpr"]], await_build=True, timeout=30)
        ctl.msg("CLOSECIRCUIT %s IfUnused" % idle)
        time.sleep(0.5)
        check(ctl.get_circuit(idle, None) is None, "IfUnused, unused")
    say("ifunused: CLOSECIRCUIT IfUnused keeps circuit %s (stream on it), "
        "closes unused circuit %s" % (cid, idle))


def case_shutdown(c):
    with c.controller() as ctl:
        ctl.authenticate()
        ctl.signal(stem.Signal.SHUTDOWN)
    rc = c.proc.wait(timeout=15)
    check(rc == 0, "exit status %d after SIGNAL SHUTDOWN" % rc)
    check(not os.path.exists(os.path.join(c.data, "control_auth_cookie")),
          "cookie file left behind")
    say("shutdown: SIGNAL SHUTDOWN exits cleanly and removes the cookie")


# ---- other configurations --------------------------------------------------

def hashed_password():
    r = subprocess.run(["tor", "--quiet", "--hash-password", PASSWORD],
                       capture_output=True, text=True, timeout=30)
    h = r.stdout.strip().splitlines()[-1]
    check(re.match(r"^16:[0-9A-F]{58}$", h), "tor --hash-password: %r" % h)
    return h


def case_password(binary, work):
    h = hashed_password()
    c = Chive(binary, work, "password", "HashedControlPassword %s\n" % h)
    try:
        c.wait_ready(boot=False)
        s = c.raw()
        s.sendall(b"PROTOCOLINFO\r\n")
        r = recv_reply(s)
        check(b"250-AUTH METHODS=HASHEDPASSWORD\r\n" in r,
              "PROTOCOLINFO %r" % r)
        s.close()
        check(not os.path.exists(os.path.join(c.data, "control_auth_cookie")),
              "a cookie file without cookie auth")
        with c.controller() as ctl:
            ctl.authenticate(password=PASSWORD)
            check(ctl.get_info("process/pid") == str(c.proc.pid), "pid")
        s = c.raw()
        s.sendall(b'AUTHENTICATE "wrong"\r\n')
        data, closed = recv_until_closed(s)
        check(data == b"515 Authentication failed: Password did not match "
              b"HashedControlPassword value from configuration\r\n",
              "wrong password: %r" % data)
        check(closed, "not closed")
        with c.controller() as ctl:
            try:
                ctl.authenticate(password="nope")
                check(False, "wrong password accepted by stem")
            except stem.connection.AuthenticationFailure:
                pass
        say("password: tor --hash-password output works; wrong password "
            "gets 515 and a close")
    finally:
        c.stop()


def case_nullauth(binary, work):
    c = Chive(binary, work, "nullauth", "CookieAuthentication 0\n")
    try:
        c.wait_ready(boot=False)
        check("any program on this computer can control chive" in c.text(),
              "no warning for an open control port")
        with c.controller() as ctl:
            pi = ctl.get_protocolinfo()
            check(stem.connection.AuthMethod.NONE in pi.auth_methods,
                  "METHODS=NULL")
            ctl.authenticate()
            check(ctl.get_info("process/pid") == str(c.proc.pid), "pid")
        s = c.raw()
        s.sendall(b"GETINFO version\r\n")
        data, closed = recv_until_closed(s)
        check(data == b"514 Authentication required.\r\n",
              "NULL still needs AUTHENTICATE: %r" % data)
        say("nullauth: only with CookieAuthentication 0 explicitly, with a "
            "warning; AUTHENTICATE still required")
    finally:
        c.stop()


def case_socket(binary, work):
    path = os.path.join(work, "ctl.sock")
    c = Chive(binary, work, "socket", "ControlSocket %s\n" % path)
    try:
        c.wait_ready(boot=False)
        st = os.stat(path)
        check((st.st_mode & 0o777) == 0o600, "socket mode %o"
              % (st.st_mode & 0o777))
        with stem.control.Controller.from_socket_file(path) as ctl:
            ctl.authenticate()
            check(ctl.get_info("process/pid") == str(c.proc.pid), "pid")
            check(('"unix:%s"' % path) in
                  ctl.get_info("net/listeners/control"), "listeners")
        say("socket: ControlSocket 0600, stem over the Unix socket")
    finally:
        c.stop()
    check(not os.path.exists(path), "socket file left behind")


def case_owner(binary, work):
    """A fresh chive: ORCONN events for its first channels, the
    CookieAuthFile / CookieAuthFileGroupReadable / ControlPortWriteToFile
    options, then __OwningControllerProcess: chive exits when the owner
    does."""
    sleeper = subprocess.Popen(["sleep", "600"])
    base = os.path.join(work, "owner-files")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    cookie = os.path.join(base, "my_cookie")
    portfile = os.path.join(base, "ctlport")
    c = Chive(binary, work, "owner",
              "CookieAuthFile %s\nCookieAuthFileGroupReadable 1\n"
              "ControlPortWriteToFile %s\n__OwningControllerProcess %d\n"
              % (cookie, portfile, sleeper.pid))
    try:
        c.wait_ready(boot=False)
        st = os.stat(cookie)
        check(st.st_size == 32 and (st.st_mode & 0o777) == 0o640,
              "CookieAuthFile mode %o size %d"
              % (st.st_mode & 0o777, st.st_size))
        # Written just after the listeners open (the log line comes
        # first): wait for it, as stem's launch_tor does.
        t0 = time.monotonic()
        while not os.path.exists(portfile) and time.monotonic() - t0 < 10:
            time.sleep(0.1)
        with open(portfile) as f:
            pf = f.read()
        check(pf == "PORT=127.0.0.1:%d\n" % c.port, "port file %r" % pf)
        orconn = []
        with c.controller() as ctl:
            pi = ctl.get_protocolinfo()
            check(pi.cookie_path == cookie, "COOKIEFILE %s" % pi.cookie_path)
            ctl.authenticate()
            ctl.add_event_listener(lambda e: orconn.append(e),
                                   stem.control.EventType.ORCONN)
            c.wait_for(r"Bootstrapped 100% \(done\)", BOOT_TIMEOUT)
            time.sleep(0.5)
            check(ctl.get_conf("__OwningControllerProcess") ==
                  str(sleeper.pid), "GETCONF __OwningControllerProcess")
        sts = [e.status for e in orconn]
        check("LAUNCHED" in sts and "CONNECTED" in sts,
              "ORCONN events %s" % sts)
        conn = [e for e in orconn if e.status == "CONNECTED"][0]
        check(re.match(r"^[0-9A-F]{40}$", conn.endpoint_fingerprint or ""),
              "ORCONN target %r" % conn.endpoint)
        sleeper.kill()
        sleeper.wait()
        rc = c.proc.wait(timeout=15)
        check(rc == 0, "exit status %d after the owner died" % rc)
        check("Owning controller process has vanished" in c.text(),
              "no log line about the owner")
        check(not os.path.exists(cookie) and not os.path.exists(portfile),
              "cookie or port file left behind")
        say("owner: %d ORCONN events from a fresh start (%s), CookieAuthFile "
            "0640, ControlPortWriteToFile, exit when the owning process "
            "dies" % (len(orconn), " ".join(sorted(set(sts)))))
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
        c.stop()


MAIN_CASES = [("protocolinfo", case_protocolinfo), ("cookie", case_cookie),
              ("safecookie", case_safecookie), ("preauth", case_preauth),
              ("getinfo", case_getinfo), ("getconf", case_getconf),
              ("events", case_events), ("http", case_http),
              ("limits", case_limits), ("badauth", case_badauth),
              ("ratelimit", case_ratelimit), ("circuits", case_circuits),
              ("streams", case_streams), ("attach", case_attach),
              ("newnym", case_newnym), ("bw", case_bw), ("md", case_md),
              ("ifunused", case_ifunused), ("shutdown", case_shutdown)]
OTHER_CASES = [("password", case_password), ("nullauth", case_nullauth),
               ("socket", case_socket), ("owner", case_owner)]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    only = set(sys.argv[3:])
    if not os.environ.get("CHIVE_TESTNET_DIR"):
        say("FAIL: CHIVE_TESTNET_DIR is not set")
        return 1
    os.makedirs(work, exist_ok=True)
    passed, failed = 0, []

    def run(name, fn, *a):
        nonlocal passed
        if only and name not in only:
            return
        try:
            fn(*a)
            passed += 1
        except Exception as e:  # noqa: BLE001 -- report every case
            failed.append(name)
            say("FAIL %s: %s: %s" % (name, type(e).__name__, e))

    if not only or only & {n for n, _ in MAIN_CASES}:
        c = Chive(binary, work, "main", "")
        try:
            c.wait_ready()
            for name, fn in MAIN_CASES:
                run(name, fn, c)
        except Failure as e:
            failed.append("main-start")
            say("FAIL: %s" % e)
        finally:
            c.stop()
    for name, fn in OTHER_CASES:
        run(name, fn, binary, work)
    print("%d passed, %d failed%s" % (passed, len(failed),
          (": " + " ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
