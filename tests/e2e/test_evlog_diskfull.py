#!/usr/bin/env python3
"""End-to-end: a full disk under the event log.

The events folder is a 2 MiB tmpfs (mounted here; the test needs root, or
is skipped with a message if mounting is not allowed), mostly taken up by
a filler file. Under a sustained load the log fills it: the daemon must
keep answering every query, count each event it could not write
(events.write_errors), say so in its log once and then at most once per
interval, and start writing again by itself once the filler is removed.
At the end the counters must add up: every query is an event appended or
dropped, every appended event is written or counted as not written, and
the log holds exactly the events written, numbered without a gap."""

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (SINKHOLE, Daemon, build_query, is_probe, run_main,  # noqa: E402
                              udp_query, wait_until)

RATE = 3000


def sender(addr, rate, tag, stop, sent):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    i = 0
    t0 = time.monotonic()
    while not stop.is_set():
        for _ in range(30):
            try:
                s.sendto(build_query("f%s-%d.bad.example" % (tag, i), "A", qid=i & 0xFFFF), addr)
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


def load(d, tag, seconds):
    stop = multiprocessing.Event()
    sent = multiprocessing.Value("l", 0)
    p = multiprocessing.Process(target=sender, args=(d.addr, RATE, tag, stop, sent))
    p.start()
    time.sleep(seconds)
    stop.set()
    p.join(10)
    return sent.value


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"], "family": "megad"})],
               log={"flush_ms": "100"}, server={"stats_interval": "1"}, tag="diskfull")
    os.makedirs(d.events_dir)
    mnt = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", d.events_dir],
                         capture_output=True, text=True)
    if mnt.returncode != 0:
        print("SKIP: cannot mount a tmpfs (%s); run as root to test a full disk"
              % mnt.stderr.strip(), flush=True)
        return
    try:
        run(res, d)
    finally:
        d.kill()
        for _ in range(20):
            if subprocess.run(["umount", d.events_dir], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)


def run(res, d):
    filler = os.path.join(d.events_dir, "filler")
    with open(filler, "wb") as f:
        f.write(b"\0" * (free_bytes(d.events_dir) - 300 * 1024))
    d.start()

    # 1. Fill the disk: a few seconds of load, far more than 300 KiB.
    sent1 = load(d, "a", 4.0)
    st = d.stats_wait(lambda s: s["events"]["failing"], 5)
    ev = st["events"]
    res.check(ev["failing"], "writes fail once the disk is full", ev)
    res.check(ev["write_errors"] > 0, "events not written are counted", ev)
    res.check("No space" in ev["last_error"], "the error is named", ev["last_error"])
    # Still answering.
    m = udp_query(d.addr, "still.bad.example", "A")
    res.check(m is not None and m.rcode == "NOERROR", "the daemon answers on a full disk")
    errs_full = ev["write_errors"]

    # 2. Space comes back: writing resumes by itself.
    os.unlink(filler)
    time.sleep(1.5)
    sent2 = load(d, "b", 1.5)
    st = d.stats_wait(lambda s: not s["events"]["failing"] and
                      s["events"]["appended"] == s["events"]["written"] +
                      s["events"]["write_errors"], 5)
    ev = st["events"]
    res.check(not ev["failing"], "writing resumed after space came back", ev)
    d.check_stop(res)
    fin = d.final_stats()
    ev, dns = fin["events"], fin["dns"]
    print("sent %d + %d queries; events %s" % (sent1, sent2, json.dumps(ev)), flush=True)

    # 3. The counters add up, and the log holds exactly what was written.
    res.eq(dns["queries"] + dns["malformed_dropped"], ev["appended"] + ev["dropped"],
           "every query is an event appended or dropped")
    res.eq(ev["appended"], ev["written"] + ev["write_errors"],
           "every appended event is written or counted as not written")
    res.check(ev["write_errors"] >= errs_full > 0, "write errors counted", ev)
    p = subprocess.run([SINKHOLE, "export", d.data_dir, "-q"], capture_output=True, text=True,
                       timeout=60)
    res.eq(p.returncode, 0, "the log reads without damage", p.stderr[:500])
    evs = [json.loads(l) for l in p.stdout.splitlines()]
    res.eq(len(evs), ev["written"], "the log holds exactly the events written")
    res.eq(sorted(e["seq"] for e in evs), list(range(1, len(evs) + 1)),
           "numbered without a gap across the full disk")
    after = [e for e in evs if e["dns"].get("rrname", "").startswith("fb-")]
    res.check(len(after) > 0.9 * sent2, "the events after space came back are there",
              (len(after), sent2))
    before = [e for e in evs if e["dns"].get("rrname", "").startswith("fa-")]
    res.check(0 < len(before) < sent1, "some events before the disk filled, not all",
              (len(before), sent1))
    queries = [e for e in evs if not is_probe(e)]
    res.eq(len(queries) + ev["write_errors"] + ev["dropped"],
           dns["queries"] + dns["malformed_dropped"] - sum(1 for e in evs if is_probe(e)),
           "queries logged + not written + dropped = queries received")

    # 4. Logged once when it began, then at most once per interval.
    err = d.stderr()
    first = err.count("events are counted as not written")
    res.eq(first, 1, "the failure is logged once when it begins", err[-2000:])
    res.check(err.count("writes still failing") <= 2, "then at most once per interval",
              err[-2000:])
    res.eq(err.count("writing again"), 1, "the recovery is logged", err[-2000:])


if __name__ == "__main__":
    run_main("evlog disk full", body, limit_s=200)
