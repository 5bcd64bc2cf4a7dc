#!/usr/bin/python3
"""chive.metrics: the chive daemon's MetricsPort on the private network.

Runs inside the network's namespace (chive_add_testnet_test sets
CHIVE_TESTNET_DIR).  Usage:

  test_metrics.py CHIVE_BINARY WORKDIR

Checks, each bounded in time:
  1. with MetricsPort set, chive serves GET /metrics (Prometheus text
     format 0.0.4) from its start, and `promtool check metrics` accepts
     the exposition (skipped, saying so, if promtool is not installed);
  2. after "Bootstrapped 100%": bootstrap 100, a consensus less than a
     day old, sampled guards, an open channel, circuits built, bytes
     read and written, memory in use, the process start time;
  3. traffic through chive's SocksPort (curl fetches the network's test
     file) moves the byte counters by at least the file size and the
     stream and SOCKS success counters by at least one;
  4. bad input: other paths get 404, other methods 405, binary garbage,
     an oversized request head and a crowd of idle connections get an
     error or a close, and chive keeps serving scrapes throughout;
  5. a non-loopback MetricsPort without a MetricsPortPolicy makes chive
     refuse to start; with "MetricsPortPolicy accept 127.0.0.1" it
     listens on 0.0.0.0 and serves 127.0.0.1;
  6. SIGINT makes chive exit cleanly.
"""

import atexit
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
PROMTOOL = shutil.which("promtool")
N_CHECKS = 0


def say(msg):
    print("chive.metrics: " + msg, flush=True)


def fail(msg):
    say("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    global N_CHECKS
    if not cond:
        fail(msg)
    N_CHECKS += 1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


CHILDREN = []


def kill_children():
    """On any exit (fail() included), leave no chive behind."""
    for p in CHILDREN:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(kill_children)


def run_chive(binary, torrc, logfile):
    log = open(logfile, "w")
    p = subprocess.Popen([binary, "-f", torrc], stdout=log,
                         stderr=subprocess.STDOUT)
    CHILDREN.append(p)
    return p, log


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_for(logfile, pattern, proc, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        text = read(logfile)
        m = re.search(pattern, text, re.M)
        if m:
            return m, text
        if proc.poll() is not None:
            fail("chive exited with %d before %r:\n%s"
                 % (proc.returncode, pattern, text[-3000:]))
        time.sleep(0.05)
    fail("timed out after %d s waiting for %r:\n%s"
         % (timeout, pattern, read(logfile)[-3000:]))


def stop(proc, log, label):
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        fail("%s: chive did not exit within 10 s of SIGINT" % label)
    log.close()
    check(rc == 0, "%s: chive exited with status %d after SIGINT"
          % (label, rc))


def exchange(port, data, timeout=5.0):
    """Send raw bytes, read until the server closes or the timeout.
    Returns (response bytes, closed_by_server)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    deadline = time.monotonic() + timeout
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
        return out, False
    finally:
        s.close()


def status(resp):
    m = re.match(rb"HTTP/1\.\d+ (\d{3}) ", resp)
    return int(m.group(1)) if m else None


def scrape(port, label):
    resp, closed = exchange(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    check(status(resp) == 200, "%s: scrape answered %r"
          % (label, resp[:200]))
    head, _, body = resp.partition(b"\r\n\r\n")
    check(b"\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"
          in head, "%s: wrong Content-Type in %r" % (label, head))
    m = re.search(rb"\r\nContent-Length: (\d+)", head)
    check(m and int(m.group(1)) == len(body),
          "%s: Content-Length does not match the body" % label)
    return body.decode("utf-8")


def samples(text):
    """{series: value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        out[series] = float(value)
    return out


def promtool_check(text, label):
    if not PROMTOOL:
        say("SKIP promtool check (%s): promtool is not installed "
            "(Debian package prometheus)" % label)
        return
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    check(r.returncode == 0, "%s: promtool check metrics failed:\n%s"
          % (label, r.stdout.decode(errors="replace")))
    say("promtool check metrics (%s): ok" % label)


FAMILIES = [
    ("chive_circuits_built_total", "counter"),
    ("chive_circuits_failed_total", "counter"),
    ("chive_circuit_build_seconds", "histogram"),
    ("chive_circuits_open", "gauge"),
    ("chive_streams_open", "gauge"),
    ("chive_channels_open", "gauge"),
    ("chive_streams_total", "counter"),
    ("chive_socks_requests_total", "counter"),
    ("chive_bytes_read_total", "counter"),
    ("chive_bytes_written_total", "counter"),
    ("chive_bootstrap_percent", "gauge"),
    ("chive_consensus_age_seconds", "gauge"),
    ("chive_guards", "gauge"),
    ("chive_memory_bytes", "gauge"),
    ("chive_memory_budget_bytes", "gauge"),
    ("chive_process_start_time_seconds", "gauge"),
]


def check_families(text, label):
    for name, typ in FAMILIES:
        check("\n# TYPE %s %s\n" % (name, typ) in "\n" + text,
              "%s: no family %s (%s)" % (label, name, typ))


def bad_input(port, label):
    """Section 4; every exchange must end (answer or close) in time."""
    for path in (b"/", b"/metricsx", b"/metrics/", b"/../etc/passwd"):
        resp, _ = exchange(port, b"GET " + path + b" HTTP/1.0\r\n\r\n")
        check(status(resp) == 404, "%s: GET %r answered %r"
              % (label, path, resp[:80]))
    for method in (b"POST", b"PUT", b"DELETE"):
        resp, _ = exchange(port, method + b" /metrics HTTP/1.0\r\n"
                           b"Content-Length: 0\r\n\r\n")
        check(status(resp) == 405, "%s: %r answered %r"
              % (label, method, resp[:80]))
    resp, _ = exchange(port, b"HEAD /metrics HTTP/1.0\r\n\r\n")
    check(status(resp) == 200 and resp.endswith(b"\r\n\r\n"),
          "%s: HEAD answered %r" % (label, resp[:200]))
    garbage = [
        bytes(range(256)) * 4,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 200,
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /metrics HTTP/1.1\r\n" + b"X-Big: " + b"a" * 65536 +
        b"\r\n\r\n",
        b"GET /" + b"m" * 100000 + b" HTTP/1.0\r\n\r\n",
    ]
    for g in garbage:
        t0 = time.monotonic()
        resp, closed = exchange(port, g, timeout=15)
        code = status(resp)
        check(closed, "%s: garbage %r left the connection open for %.1f s"
              % (label, g[:40], time.monotonic() - t0))
        check(code is None or code >= 400,
              "%s: garbage %r answered %r" % (label, g[:40], resp[:80]))
    # A crowd of idle connections does not stop scrapes.
    crowd = []
    for _ in range(64):
        crowd.append(socket.create_connection(("127.0.0.1", port),
                                              timeout=5))
    scrape(port, label + " with 64 idle connections open")
    for s in crowd:
        s.close()
    say("%s: bad input handled, still serving" % label)


def fetch(socks, url, want_sha, label):
    r = subprocess.run(["curl", "-sS", "--fail", "--max-time", "30",
                        "--socks5-hostname", "127.0.0.1:%d" % socks, url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    check(r.returncode == 0, "%s: curl %s exited %d: %s"
          % (label, url, r.returncode, r.stderr.decode(errors="replace")))
    check(hashlib.sha256(r.stdout).hexdigest() == want_sha,
          "%s: %s: wrong content (%d bytes)" % (label, url, len(r.stdout)))
    return len(r.stdout)


def write_torrc(path, data, dirauth, extra):
    with open(path, "w") as f:
        f.write("DataDirectory %s\nTestingTorNetwork 1\nLog info stdout\n"
                "%s%s" % (data, extra, dirauth))


def policy_runs(binary, work, dirauth):
    """Section 5."""
    port = free_port()
    torrc = os.path.join(work, "torrc-wild")
    data = os.path.join(work, "data-wild")
    write_torrc(torrc, data, dirauth,
                "SocksPort 0\nMetricsPort 0.0.0.0:%d\n" % port)
    logf = os.path.join(work, "chive-wild.log")
    p, lf = run_chive(binary, torrc, logf)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("chive kept running with MetricsPort 0.0.0.0 and no "
             "MetricsPortPolicy")
    lf.close()
    text = read(logf)
    check(rc != 0, "chive exited 0 with a refused MetricsPort")
    check("MetricsPortPolicy" in text,
          "the refusal does not mention MetricsPortPolicy:\n" + text[-2000:])
    say("MetricsPort 0.0.0.0 without a policy: refused (exit %d)" % rc)

    write_torrc(torrc, data, dirauth,
                "SocksPort 0\nMetricsPort 0.0.0.0:%d\n"
                "MetricsPortPolicy accept 127.0.0.1\n" % port)
    logf = os.path.join(work, "chive-wild2.log")
    p, lf = run_chive(binary, torrc, logf)
    wait_for(logf, r"Serving metrics on http://0\.0\.0\.0:%d/metrics" % port,
             p, 15)
    text = scrape(port, "0.0.0.0 with policy")
    check("chive_bootstrap_percent" in text, "no bootstrap gauge")
    stop(p, lf, "0.0.0.0 with policy")
    say("MetricsPort 0.0.0.0 with MetricsPortPolicy accept 127.0.0.1: "
        "served")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    netdir = os.environ.get("CHIVE_TESTNET_DIR")
    if not netdir:
        fail("CHIVE_TESTNET_DIR is not set")
    with open(os.path.join(netdir, "network.json")) as f:
        net = json.load(f)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with open(net["client"]["torrc_dirauth"]) as f:
        dirauth = f.read()
    data = os.path.join(work, "data")
    torrc = os.path.join(work, "torrc")
    mport, socks = free_port(), free_port()
    write_torrc(torrc, data, dirauth,
                "SocksPort 127.0.0.1:%d\nMetricsPort 127.0.0.1:%d "
                "prometheus\n" % (socks, mport))

    # 1. served from the start
    logf = os.path.join(work, "chive.log")
    t_start = time.time()
    p, lf = run_chive(binary, torrc, logf)
    wait_for(logf, r"Serving metrics on http://127\.0\.0\.1:%d/metrics"
             % mport, p, 15)
    text = scrape(mport, "at start")
    check_families(text, "at start")
    promtool_check(text, "at start")

    # 2. after bootstrap
    wait_for(logf, r"Bootstrapped 100% \(done\): Done", p, BOOTSTRAP_TIMEOUT)
    text = scrape(mport, "bootstrapped")
    promtool_check(text, "bootstrapped")
    s1 = samples(text)
    for k in sorted(s1):
        if not k.startswith("chive_circuit_build_seconds_bucket"):
            say("  %s %g" % (k, s1[k]))
    check(s1["chive_bootstrap_percent"] == 100, "bootstrap percent")
    age = s1["chive_consensus_age_seconds"]
    check(0 <= age < 86400, "consensus age %r" % age)
    check(s1['chive_guards{state="sampled"}'] > 0, "no sampled guard")
    check(s1['chive_guards{state="usable"}'] > 0, "no usable guard")
    check(s1["chive_channels_open"] >= 1, "no open channel")
    check(s1["chive_circuits_built_total"] >= 1, "no circuit built")
    check(s1["chive_circuits_open"] >= 1, "no open circuit")
    check(s1["chive_circuit_build_seconds_count"] >= 1,
          "no circuit build time observed")
    check(s1["chive_bytes_read_total"] > 0, "no bytes read")
    check(s1["chive_bytes_written_total"] > 0, "no bytes written")
    check(s1["chive_memory_bytes"] > 0, "no memory in use")
    st = s1["chive_process_start_time_seconds"]
    check(t_start - 2 <= st <= time.time() + 1, "start time %r" % st)

    # 3. traffic through the SocksPort
    files = net["http"]["files"]
    url = "http://127.0.0.1:%d/blob.bin" % net["http"]["port"]
    n = fetch(socks, url, files["blob.bin"]["sha256"], "exit")
    n += fetch(socks, url, files["blob.bin"]["sha256"], "exit again")
    text = scrape(mport, "after traffic")
    s_tmp = samples(text)
    # Every built circuit's build time is observed, once (all CEV_CIRC
    # BUILT events reach the metrics).
    check(s_tmp["chive_circuit_build_seconds_count"] ==
          s_tmp["chive_circuits_built_total"],
          "build times observed (%g) != circuits built (%g)"
          % (s_tmp["chive_circuit_build_seconds_count"],
             s_tmp["chive_circuits_built_total"]))
    promtool_check(text, "after traffic")
    s2 = samples(text)
    grew = {k: s2[k] - s1.get(k, 0) for k in s2}
    say("fetched %d bytes; counters grew: bytes_read %+d, bytes_written "
        "%+d, streams succeeded %+d, socks succeeded %+d"
        % (n, grew["chive_bytes_read_total"],
           grew["chive_bytes_written_total"],
           grew['chive_streams_total{result="succeeded"}'],
           grew['chive_socks_requests_total{result="succeeded"}']))
    check(grew["chive_bytes_read_total"] >= n,
          "bytes read grew by less than the %d bytes fetched" % n)
    check(grew["chive_bytes_written_total"] > 0, "bytes written did not grow")
    check(grew['chive_streams_total{result="succeeded"}'] >= 2,
          "streams succeeded did not grow by 2")
    check(grew['chive_socks_requests_total{result="succeeded"}'] >= 2,
          "SOCKS requests succeeded did not grow by 2")

    # 4. bad input
    bad_input(mport, "bad input")
    text = scrape(mport, "after bad input")
    check(p.poll() is None, "chive died")

    # 6. clean exit
    stop(p, lf, "main run")

    # 5. policy
    policy_runs(binary, work, dirauth)

    say("%d checks passed" % N_CHECKS)
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
