#!/usr/bin/python3
"""chive.bench: chive-bench's quick mode as a CI smoke test (issue #6).

Runs inside the shared test network's namespace (chive_add_testnet_test
sets CHIVE_TESTNET_DIR), so no second network is started.  Usage:

  test_bench.py CHIVE_BENCH_BINARY WORKDIR [extra chive-bench args...]

It runs `chive-bench --inside --quick --json WORKDIR/chive-bench.json
--svg WORKDIR/chive-bench.svg` with chive and the C tor client side by
side, then checks:
  1. chive-bench exits 0: every hard floor it measured holds (circuit
     build p95 < 5 s, RSS < 50 MB, 100 concurrent streams without error);
     exit 1 (a floor missed) or anything else fails the test;
  2. the JSON parses and every benchmark of the quick mode has real
     samples for chive (bootstrap, circuit builds through EXTENDCIRCUIT,
     the 100-stream set, bulk, memory under load) and for C tor, and the
     floors it reports agree with the samples (recomputed here);
  3. the SVG parses as XML, has its two panels with titled, labelled
     axes, and one series per client per panel with points inside the
     drawing;
  4. no client log holds a sanitizer report.
An AddressSanitizer build of chive (chive-bench finds __asan_init in the
binary) is held to every floor except RSS: shadow memory and quarantine
are most of its RSS.
Timing ratios against C tor are printed by chive-bench, never checked:
the machine is shared, so only the hard floors can fail this test.
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"
RSS_FLOOR_KIB = 50e6 / 1024.0
CIRC_P95_FLOOR_MS = 5000.0
RUN_TIMEOUT_S = 280


def say(msg):
    print("chive.bench: " + msg, flush=True)


def fail(msg):
    say("FAIL: " + msg)
    sys.exit(1)


def quantile(samples, q):
    """Linear interpolation between closest ranks, as chive-bench does."""
    v = sorted(samples)
    if not v:
        return None
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def check_client(name, c, shared_data):
    """Every quick-mode benchmark has real samples for client <name>."""
    if c is None:
        fail("%s: no results in the JSON" % name)
    if c.get("note"):
        fail("%s: %s" % (name, c["note"]))
    b = c["bootstrap"]
    if len(b["cold_s"]) != 1 or len(b["warm_s"]) != 1:
        fail("%s: bootstrap samples cold %r warm %r" %
             (name, b["cold_s"], b["warm_s"]))
    if not b["rss_after_kib"]:
        fail("%s: no RSS after bootstrap" % name)
    ci = c["circuits"]
    if not ci["available"] or ci["built"] == 0:
        fail("%s: no circuit built through EXTENDCIRCUIT (%s)" %
             (name, ci["note"]))
    if len(ci["samples_ms"]) != ci["built"]:
        fail("%s: %d circuit samples for %d builds" %
             (name, len(ci["samples_ms"]), ci["built"]))
    if any(s <= 0 for s in ci["samples_ms"]):
        fail("%s: a circuit build time <= 0 ms" % name)
    sets = c["streams"]["sets"]
    if not sets or not sets[0]["ran"]:
        fail("%s: the concurrent-stream set did not run (%s)" %
             (name, c["streams"]["note"]))
    s = sets[0]
    if len(s["ttfb_ms"]["samples"]) != s["completed"]:
        fail("%s: %d TTFB samples for %d completed streams" %
             (name, len(s["ttfb_ms"]["samples"]), s["completed"]))
    bulk = c["bulk"]
    if not bulk["ok"] or not bulk["mib_per_s"]:
        fail("%s: bulk download failed (%s)" % (name, bulk["note"]))
    m = c["memory"]
    if not m["ran"] or not m["under_load"] or len(m["rss_kib"]) < 3:
        fail("%s: memory benchmark: ran %s, under load %s, %d samples" %
             (name, m["ran"], m["under_load"], len(m["rss_kib"])))
    if m["streams_done"] == 0:
        fail("%s: no stream completed during the memory benchmark" % name)
    if os.path.isdir(os.path.join(shared_data, "realnet-A")):
        fd = c["fulldir"]
        if not fd["ran"] or not fd["rss_kib"]:
            fail("%s: full directory not measured (%s)" % (name, fd["note"]))
    say("%s: bootstrap %.2f s, %d/%d circuits (p95 %.0f ms), %d/%d "
        "streams, bulk %.2f MiB/s, peak RSS under load %.1f MiB" %
        (name, b["cold_s"][0], ci["built"], ci["built"] + ci["failed"],
         ci["p95"], s["completed"], s["n"], bulk["mib_per_s"],
         m["peak_rss_kib"] / 1024.0))


def check_floors(d):
    """The hard floors, recomputed from chive's samples."""
    c = d["clients"]["chive"]
    p95 = quantile(c["circuits"]["samples_ms"], 0.95)
    if p95 is None or p95 >= CIRC_P95_FLOOR_MS:
        fail("circuit build p95 %r ms (floor < %.0f)" %
             (p95, CIRC_P95_FLOOR_MS))
    if abs(p95 - c["circuits"]["p95"]) > 0.01 * max(p95, 1):
        fail("circuit p95 in the JSON %.1f != %.1f from the samples" %
             (c["circuits"]["p95"], p95))
    rss = [("after bootstrap", c["bootstrap"]["rss_after_kib"]),
           ("streams peak", c["streams"]["sets"][0]["peak_rss_kib"]),
           ("under load", c["memory"]["peak_rss_kib"])]
    if c["fulldir"]["ran"]:
        rss.append(("full directory", c["fulldir"]["rss_kib"]))
    if d.get("chive_asan"):
        # Shadow memory and quarantine: the RSS floors do not apply.
        say("chive is an AddressSanitizer build: RSS floors not checked")
        rss = [(what, kib and 1) for what, kib in rss]
    for what, kib in rss:
        if not kib or kib >= RSS_FLOOR_KIB:
            fail("RSS %s %r KiB (floor < %.0f KiB)" %
                 (what, kib, RSS_FLOOR_KIB))
    for s in c["streams"]["sets"]:
        if s["n"] >= 100 and (s["completed"] != s["n"] or s["errors"]):
            fail("%d streams: %d completed, %d errors %r" %
                 (s["n"], s["completed"], s["errors"], s["errors_by_kind"]))
    if not d["floors_passed"]:
        fail("the JSON says a floor was missed")


def check_svg(path):
    root = ET.parse(path).getroot()
    if root.tag != SVG_NS + "svg":
        fail("%s: root element is %s" % (path, root.tag))
    width = float(root.get("width"))
    height = float(root.get("height"))

    def texts(cls):
        return ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")
                if t.get("class") == cls]

    titles, xl, yl = texts("title"), texts("xlabel"), texts("ylabel")
    if len(titles) != 2 or not all(titles):
        fail("SVG: panel titles %r" % titles)
    if xl != ["ms", "s"] or yl != ["fraction of builds", "RSS (MiB)"]:
        fail("SVG: axis labels x %r y %r" % (xl, yl))
    legend = texts("legend")
    if len(legend) != 2 or not legend[0].startswith("chive") or \
            not legend[1].startswith("C tor"):
        fail("SVG: legend %r" % legend)
    series = {}
    for p in root.iter(SVG_NS + "polyline"):
        if p.get("class") != "series":
            continue
        pts = []
        for pair in p.get("points").split():
            xs, ys = pair.split(",")
            pts.append((float(xs), float(ys)))
        series[p.get("data-series")] = pts
    for name in ("chive-circuits", "ctor-circuits", "chive-rss", "ctor-rss"):
        pts = series.get(name)
        if not pts or len(pts) < 2:
            fail("SVG: series %s missing or has < 2 points" % name)
        for px, py in pts:
            if not (0 <= px <= width and 0 <= py <= height):
                fail("SVG: series %s point (%.1f, %.1f) outside %gx%g" %
                     (name, px, py, width, height))
    ys = [py for _, py in series["chive-circuits"]]
    if ys != sorted(ys, reverse=True):
        fail("SVG: the chive CDF is not monotonic")
    say("SVG: 2 panels, axes labelled, series %s" % sorted(series))


def check_logs(work):
    """No sanitizer report in any client log (sanitizer builds)."""
    marks = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
             "runtime error:")
    for top, _, files in os.walk(work):
        for fn in files:
            if not fn.startswith("log"):
                continue
            path = os.path.join(top, fn)
            with open(path, errors="replace") as f:
                for line in f:
                    if any(m in line for m in marks):
                        fail("%s: %s" % (path, line.strip()))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, workdir = sys.argv[1], os.path.abspath(sys.argv[2])
    extra = sys.argv[3:]
    os.makedirs(workdir, exist_ok=True)
    js = os.path.join(workdir, "chive-bench.json")
    svg = os.path.join(workdir, "chive-bench.svg")
    for f in (js, svg):
        if os.path.exists(f):
            os.unlink(f)
    cmd = [binary, "--inside", "--quick", "--json", js, "--svg", svg,
           "--workdir", os.path.join(workdir, "chive-bench-work")] + extra
    say("running " + " ".join(cmd))
    try:
        rc = subprocess.run(cmd, timeout=RUN_TIMEOUT_S).returncode
    except subprocess.TimeoutExpired:
        fail("chive-bench did not finish within %d s" % RUN_TIMEOUT_S)
    if rc == 1:
        fail("chive-bench: a hard floor was missed (table above)")
    if rc != 0:
        fail("chive-bench exited with status %d" % rc)
    with open(js) as f:
        d = json.load(f)
    if d.get("tool") != "chive-bench" or not d["options"]["quick"]:
        fail("JSON: not a quick chive-bench run")
    shared = os.environ.get("CHIVE_SHARED_DATA") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
        "shared", "data")
    check_client("chive", d["clients"]["chive"], shared)
    check_client("C tor", d["clients"]["ctor"], shared)
    check_floors(d)
    say("JSON valid, floors hold (recomputed from the samples)")
    check_svg(svg)
    check_logs(os.path.join(workdir, "chive-bench-work"))
    say("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
