#!/usr/bin/env python3
"""End-to-end: segments rotate, are compressed and listed; the tap follows.

The daemon runs with rotate_s = 1 and a JSON-lines tap while queries come
in for a few seconds. Checked:
  - the tap is live: lines for queries appear while the daemon runs,
    before any stop;
  - several segments, each closed one compressed (`zstd -t` passes) and
    listed once in the manifest with its size, record count, time range
    and a SHA-256 that Python's hashlib agrees with;
  - the tap was rotated in step: one PATH.SEGMENT per segment, holding
    exactly the JSON lines `sinkhole export` writes for that segment;
  - stats.json counts the segments, compressions and tap lines;
  - a restart on the same data_dir goes on in a new segment, numbering on;
  - check-config accepts the new [log] keys and names bad values."""

import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (SINKHOLE, Daemon, build_query, parse_ts, run_main,  # noqa: E402
                              udp_exchange, wait_until)


def export(args):
    return subprocess.run([SINKHOLE, "export"] + list(args) + ["-q"], capture_output=True,
                          text=True, timeout=60)


def manifest(events_dir):
    closed, removed = {}, []
    with open(os.path.join(events_dir, "MANIFEST")) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            kv = dict(x.split("=", 1) for x in w[2:])
            if w[0] == "closed":
                closed[w[1]] = kv
            else:
                removed.append((w[1], kv))
    return closed, removed


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"], "family": "megad"})],
               log={"rotate_s": "1", "tap": "tap.json", "compress": "zstd",
                    "compress_level": "3"}, tag="rotation")
    tap = os.path.join(d.tmp, "tap.json")
    d.start()
    n = 0
    t_end = time.monotonic() + 3.5
    while time.monotonic() < t_end:
        for _ in range(50):
            udp_exchange(d.addr, build_query("r%d.bad.example" % n, "A", qid=n & 0xFFFF), 1.0)
            n += 1
        time.sleep(0.05)
    # The tap is live: the last query is in it before any stop.
    last = "r%d.bad.example" % (n - 1)

    def tapped():
        names = set()
        for p in [tap] + [os.path.join(d.tmp, f) for f in os.listdir(d.tmp)
                          if f.startswith("tap.json.")]:
            try:
                with open(p) as f:
                    names.update(json.loads(l)["dns"].get("rrname") for l in f if l.strip())
            except (OSError, ValueError):
                pass
        return last in names

    res.check(wait_until(tapped, 3), "the tap shows the last query while the daemon runs")
    st_live = d.stats()["events"]
    res.check(st_live["segments_closed"] >= 2, "segments closed while running", st_live)
    res.check(st_live["tap_lines"] >= n, "tap lines counted", st_live)
    d.check_stop(res)
    fin = d.final_stats()["events"]
    res.eq(fin["segments_compressed"], fin["segments_closed"], "every closed segment compressed")
    res.eq(fin["tap_lines"], fin["written"], "one tap line per event written")
    res.eq(fin["tap_errors"], 0, "no tap line lost")

    segs = sorted(f for f in os.listdir(d.events_dir) if f.endswith(".evlog"))
    res.check(len(segs) >= 3, "several segments (rotate_s = 1, 3.5 s of queries)", segs)
    res.eq(len(segs), fin["segments_closed"], "stats.json counts the segments")
    closed, removed = manifest(d.events_dir)
    res.eq(sorted(closed), segs, "every segment listed once in the manifest")
    res.eq(removed, [], "nothing removed (no retention set)")
    zt = subprocess.run(["zstd", "-t", "-q"] + [os.path.join(d.events_dir, s) for s in segs],
                        capture_output=True, text=True)
    res.eq(zt.returncode, 0, "zstd -t: every block's checksum holds", zt.stderr[:500])

    total = 0
    next_seq = 1
    for s in segs:
        path = os.path.join(d.events_dir, s)
        with open(path, "rb") as f:
            data = f.read()
        m = closed.get(s, {})
        res.eq(m.get("sha256"), hashlib.sha256(data).hexdigest(), "%s: SHA-256" % s)
        res.eq(int(m.get("bytes", -1)), len(data), "%s: size" % s)
        res.eq(m.get("form"), "zstd", "%s: compressed" % s)
        res.eq(m.get("node"), "e2e-node", "%s: node" % s)
        p = export([path])
        lines = p.stdout.splitlines()
        evs = [json.loads(l) for l in lines]
        res.eq(int(m.get("records", -1)), len(evs), "%s: record count" % s)
        res.eq(int(m.get("first_seq", -1)), next_seq, "%s: first_seq follows on" % s)
        next_seq += len(evs)
        ts = sorted(parse_ts(e["timestamp"]) for e in evs)
        res.eq((parse_ts(m.get("first_ts", "")), parse_ts(m.get("last_ts", ""))), (ts[0], ts[-1]),
               "%s: time range" % s)
        seg_id = s[:-len(".evlog")]
        res.check(all(e["event_id"].startswith("e2e-node-%s-" % seg_id) for e in evs),
                  "%s: event ids name the segment" % s)
        tpath = "%s.%s" % (tap, seg_id)
        try:
            with open(tpath) as f:
                tlines = f.read().splitlines()
        except OSError:
            tlines = None
        res.eq(tlines, lines, "%s: the tap file of the segment = its export" % s)
        total += len(evs)
    res.eq(total, fin["written"], "all events in the segments")
    res.check(not os.path.exists(tap), "the live tap was rotated at the stop")

    # A restart numbers on, in a new segment.
    d.start()
    udp_exchange(d.addr, build_query("after.bad.example", "A", qid=7), 1.0)
    d.check_stop(res, "restart")
    p = export([d.data_dir])
    evs = [json.loads(l) for l in p.stdout.splitlines()]
    res.eq(sorted(e["seq"] for e in evs), list(range(1, len(evs) + 1)), "restart: numbering goes on")
    res.eq(len(set(e["event_id"] for e in evs)), len(evs), "restart: ids unique")
    segs2 = sorted(f for f in os.listdir(d.events_dir) if f.endswith(".evlog"))
    res.check(len(segs2) > len(segs) and segs2[:len(segs)] == segs, "restart: a new segment after",
              (segs, segs2))

    # check-config knows the keys.
    bad = Daemon([("megad", {"names": ["bad.example"]})],
                 log={"rotate_mb": "lots", "compress": "lz4", "compress_level": "40",
                      "retain_days": "3", "retain_mb": "100", "tap": "t.json"}, tag="rotcfg")
    bad.port = 5353
    bad.write_files()
    p = subprocess.run([SINKHOLE, "check-config", "-c", bad.cfg_path], capture_output=True,
                       text=True)
    res.eq(p.returncode, 2, "check-config: bad [log] values are errors")
    for key in ("rotate_mb", "compress", "compress_level"):
        res.check("%s:" % key in p.stderr, "check-config names %s" % key, p.stderr)
    res.check("retain" not in p.stderr and "tap" not in p.stderr,
              "retain_days, retain_mb and tap accepted", p.stderr)


if __name__ == "__main__":
    run_main("evlog rotation", body)
