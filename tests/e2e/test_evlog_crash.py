#!/usr/bin/env python3
"""End-to-end: the event log survives SIGKILL.

The daemon runs under a sustained load of thousands of UDP queries a second
(a Python sender in its own process, every query for a name of its own),
with short segments so rotation and compression are going on too. At a
seeded random point the test asks for stats.json (SIGUSR1) and reads the
durable watermark, waits a random moment more and kills the daemon with
SIGKILL; then it restarts it on the same data_dir. Several runs. At the end:

  - every event numbered at or below any watermark read before a kill is
    there, exactly once (sequence numbers are 1..n with no gap or repeat,
    and no query appears twice);
  - event ids are unique across the restarts and nothing is garbled (every
    line a whole event of a query that was sent);
  - after the last, clean restart the log reads without any damage, every
    segment is closed, compressed and listed in the manifest with the
    right SHA-256.

SK_CRASH_SEED picks other kill points (the default is fixed, so a failure
can be replayed)."""

import hashlib
import json
import multiprocessing
import os
import random
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import SINKHOLE, Daemon, build_query, is_probe, run_main  # noqa: E402

RUNS = 5
RATE = 4000  # queries a second
SEED = int(os.environ.get("SK_CRASH_SEED", "20261128"))


def sender(addr, rate, tag, stop, sent):
    """Send queries for unique names at rate per second until stop is set."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    i = 0
    burst = 40
    t0 = time.monotonic()
    while not stop.is_set():
        for _ in range(burst):
            pkt = build_query("c%s-%d.bad.example" % (tag, i), "A", qid=i & 0xFFFF)
            try:
                s.sendto(pkt, addr)
            except (BlockingIOError, ConnectionRefusedError):
                pass
            i += 1
        try:
            while True:
                s.recv(4096)
        except (BlockingIOError, ConnectionRefusedError):
            pass
        ahead = i / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    sent.value = i
    s.close()


def export(data_dir):
    p = subprocess.run([SINKHOLE, "export", data_dir, "-q"], capture_output=True, text=True,
                       timeout=120)
    evs = []
    garbled = []
    for line in p.stdout.splitlines():
        try:
            evs.append(json.loads(line))
        except ValueError:
            garbled.append(line)
    return p, evs, garbled


NAME_RE = re.compile(r"^c\d+-\d+\.bad\.example$")


def body(res):
    print("SK_CRASH_SEED=%d" % SEED, flush=True)
    rng = random.Random(SEED)
    d = Daemon([("megad", {"names": ["bad.example"], "family": "megad"})],
               log={"flush_ms": "100", "rotate_s": "1", "rotate_mb": "1"},
               server={"workers": "2"}, tag="crash")
    marks = []
    sent_total = 0
    for run in range(RUNS):
        d.start()
        stop = multiprocessing.Event()
        sent = multiprocessing.Value("l", 0)
        proc = multiprocessing.Process(target=sender, args=(d.addr, RATE, str(run), stop, sent))
        proc.start()
        time.sleep(rng.uniform(0.7, 2.6))
        st = d.stats()
        mark = st["events"]["durable"]
        res.check(mark > (marks[-1] if marks else 0),
                  "run %d: the durable watermark moved on (%d)" % (run, mark), marks)
        marks.append(mark)
        time.sleep(rng.uniform(0.0, 0.5))
        d.proc.kill()
        d.proc.wait(10)
        d._close_files()
        stop.set()
        proc.join(10)
        sent_total += sent.value
        # Before any recovery, a reader already sees everything up to the
        # watermark (a torn tail is reported and skipped).
        p, evs, garbled = export(d.data_dir)
        seqs = set(e["seq"] for e in evs)
        missing = [s for s in range(1, mark + 1) if s not in seqs]
        res.check(not missing, "run %d: before restart, events 1..%d all readable" % (run, mark),
                  missing[:20])
        res.check(not garbled, "run %d: nothing garbled before restart" % run, garbled[:3])
    print("sent %d queries in %d runs; watermarks %s" % (sent_total, RUNS, marks), flush=True)
    res.check(sent_total >= RUNS * RATE * 0.5, "the load was thousands of queries a second",
              sent_total)

    # A last, clean run recovers the last crash.
    d.start()
    time.sleep(0.3)
    d.check_stop(res, "final run")
    fin = d.final_stats()["events"]

    p, evs, garbled = export(d.data_dir)
    res.eq(p.returncode, 0, "after recovery the log reads without damage", p.stderr[:1000])
    res.check(not garbled, "no garbled line", garbled[:3])
    seqs = [e["seq"] for e in evs]
    res.eq(sorted(seqs), list(range(1, len(seqs) + 1)),
           "sequence numbers are 1..n: no gap, no repeat")
    res.eq(fin["seq"], len(seqs), "the last sequence number is the number of events")
    res.check(len(seqs) >= max(marks), "every watermark is covered", (len(seqs), marks))
    ids = [e["event_id"] for e in evs]
    res.eq(len(set(ids)), len(ids), "event ids are unique across restarts")
    names = {}
    bad = []
    for e in evs:
        if is_probe(e):
            continue
        n = e.get("dns", {}).get("rrname", "")
        if not NAME_RE.match(n) or e.get("family") != "megad" or e["event_type"] != "dns":
            bad.append(e)
        names[n] = names.get(n, 0) + 1
    dups = [n for n, c in names.items() if c > 1]
    res.check(not dups, "every query logged at most once", dups[:10])
    res.check(not bad, "every event is one of the queries sent", bad[:3])
    res.check(len(names) > RUNS * 1000, "thousands of queries logged", len(names))

    # Every segment closed, compressed and listed with its SHA-256.
    segs = sorted(f for f in os.listdir(d.events_dir) if f.endswith(".evlog"))
    with open(os.path.join(d.events_dir, "MANIFEST")) as f:
        listed = {}
        for line in f:
            w = line.split()
            if w and w[0] == "closed":
                listed[w[1]] = dict(kv.split("=", 1) for kv in w[2:])
    res.eq(sorted(listed), segs, "every segment is in the manifest")
    wrong = []
    for s in segs:
        with open(os.path.join(d.events_dir, s), "rb") as f:
            data = f.read()
        m = listed.get(s, {})
        if hashlib.sha256(data).hexdigest() != m.get("sha256") or m.get("form") != "zstd":
            wrong.append(s)
    res.check(not wrong, "manifest SHA-256 of every segment, all compressed", wrong)
    res.check(not [f for f in os.listdir(d.events_dir) if f.endswith(".ztmp")],
              "no compression temp file left")
    zt = subprocess.run(["zstd", "-t", "-q"] + [os.path.join(d.events_dir, s) for s in segs],
                        capture_output=True, text=True)
    res.eq(zt.returncode, 0, "zstd -t checks every block of every segment", zt.stderr[:500])


if __name__ == "__main__":
    run_main("evlog crash", body, limit_s=300)
