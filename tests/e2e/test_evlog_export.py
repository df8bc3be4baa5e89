#!/usr/bin/env python3
"""End-to-end: `sinkhole export` as JSON lines, CSV and SQLite.

The daemon logs a known set of queries (UDP and TCP, several lists and
families, ECS, names that need escaping); then the log is exported in each
format and read back with real parsers: Python's json module (and
`python3 -m json.tool --json-lines`), the csv module, and the sqlite3 shell.
Every query must be there once with the right fields, the three formats
must agree event by event, filters (--from/--to/--kind) must select exactly
what they say, and damage must be reported without losing the good events.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (SINKHOLE, Daemon, build_query, ecs_option, is_probe,  # noqa: E402
                              parse_ts, run_main, tcp_exchange, udp_exchange)

N = 600


def export(args, timeout=60):
    return subprocess.run([SINKHOLE, "export"] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def sqlite(db, sql):
    p = subprocess.run(["sqlite3", "-batch", "-noheader", "-separator", "|", db, sql],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("sqlite3 %r: %s" % (sql, p.stderr))
    return p.stdout.strip()


def send_queries(d):
    """N queries; returns {(rrname, id): expected dict}."""
    want = {}
    tcp_batch = []
    for i in range(N):
        qid = 0x2000 + i
        k = i % 6
        if k == 0:
            name, lst, fam = "Q%d.Bad.example" % i, "megad", "megad-fam"
        elif k == 1:
            name, lst, fam = "q%d.c2.example" % i, "c2", "c2"
        elif k == 2:
            name, lst, fam = "x%d.not-seized.example" % i, None, None
        elif k == 3:
            name, lst, fam = "with,comma\"quote%d.bad.example" % i, "megad", "megad-fam"
        else:
            name, lst, fam = "E%d.c2.example" % i, "c2", "c2"
        edns = None
        if k == 4:
            edns = {"size": 1232, "options": ecs_option("203.0.113.0", 24)}
        pkt = build_query(name, "A" if i % 2 else "AAAA", qid=qid, edns=edns)
        proto = "TCP" if i % 5 == 0 else "UDP"
        if proto == "TCP":
            tcp_batch.append(pkt)
        else:
            udp_exchange(d.addr, pkt, timeout=2.0)
        want[(name.replace(",", "\\044").replace('"', "\\034"), qid)] = {
            "list": lst, "family": fam, "proto": proto, "ecs": "203.0.113.0/24" if k == 4 else None}
        if len(tcp_batch) == 20:
            tcp_exchange(d.addr, tcp_batch)
            tcp_batch = []
        if i % 200 == 199:
            time.sleep(1.2)  # rotate_s = 1: several segments
    if tcp_batch:
        tcp_exchange(d.addr, tcp_batch)
    return want


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"], "family": "megad-fam"}),
                ("c2", {"names": ["c2.example"]})], log={"rotate_s": "1"}, tag="export")
    d.start()
    want = send_queries(d)
    res.eq(d.check_stop(res), 0, "daemon stopped cleanly")
    fin = d.final_stats()["events"]

    # -- JSON lines --
    p = export([d.data_dir])
    res.eq(p.returncode, 0, "jsonl: exit 0", )
    res.check("events from" in p.stderr and "0 problems" in p.stderr, "jsonl: summary on stderr",
              p.stderr)
    lines = p.stdout.splitlines()
    res.eq(len(lines), fin["written"], "jsonl: one line per event written")
    evs = [json.loads(l) for l in lines]
    jt = subprocess.run([sys.executable, "-m", "json.tool", "--json-lines"], input=p.stdout,
                        capture_output=True, text=True)
    res.eq(jt.returncode, 0, "jsonl: python3 -m json.tool --json-lines accepts it", jt.stderr[:500])
    ids = [e["event_id"] for e in evs]
    res.eq(len(set(ids)), len(ids), "jsonl: event ids unique")
    res.eq(sorted(e["seq"] for e in evs), list(range(1, len(evs) + 1)),
           "jsonl: sequence numbers 1..n")
    got = {}
    for e in evs:
        if is_probe(e):
            continue
        key = (e["dns"].get("rrname"), e["dns"]["id"])
        res.check(key not in got, "jsonl: query %r logged once" % (key,))
        got[key] = e
    res.eq(len(got), N, "jsonl: every query logged")
    bad = []
    for key, w in want.items():
        e = got.get(key)
        if e is None:
            bad.append("missing %r" % (key,))
            continue
        if (e.get("list"), e.get("family"), e["proto"], e["dns"].get("ecs")) != (
                w["list"], w["family"], w["proto"], w["ecs"]):
            bad.append("%r: %r" % (key, e))
        if e["event_type"] != "dns" or e["node"] != "e2e-node" or e["dest_port"] != d.port:
            bad.append("%r: header fields %r" % (key, e))
    res.check(not bad, "jsonl: fields of every query", "\n".join(bad[:10]))

    # -- the same from the events folder and from the files one by one --
    p2 = export([d.events_dir, "-q"])
    res.eq(p2.stdout, p.stdout, "jsonl: events folder = data_dir")
    res.eq(p2.stderr, "", "-q: nothing on stderr")
    segs = sorted(f for f in os.listdir(d.events_dir) if f.endswith(".evlog"))
    res.check(len(segs) >= 1, "segments written", segs)
    p3 = export([os.path.join(d.events_dir, s) for s in segs] + ["-q"])
    res.eq(p3.stdout, p.stdout, "jsonl: files one by one = folder")

    # -- CSV --
    out_csv = os.path.join(d.tmp, "events.csv")
    p = export([d.data_dir, "--format", "csv", "-o", out_csv, "-q"])
    res.eq(p.returncode, 0, "csv: exit 0", p.stderr)
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(out_csv) as f:
        header = f.readline().strip().split(",")
    res.eq(header[:6], ["timestamp", "event_type", "event_id", "seq", "node", "proto"],
           "csv: header starts with the EVE names")
    res.check("dns.rrname" in header and "dns.ecs" in header, "csv: nested names as dns.x", header)
    res.eq(len(rows), len(evs), "csv: one row per event")
    mism = []
    for r, e in zip(rows, evs):
        exp = {"timestamp": e["timestamp"], "event_id": e["event_id"], "seq": str(e["seq"]),
               "proto": e["proto"], "src_ip": e["src_ip"], "src_port": str(e["src_port"]),
               "dest_ip": e["dest_ip"], "family": e.get("family", ""), "list": e.get("list", ""),
               "dns.rrname": e["dns"].get("rrname", ""), "dns.rrtype": e["dns"].get("rrtype", ""),
               "dns.rcode": e["dns"]["rcode"], "dns.flags": " ".join(e["dns"]["flags"]),
               "dns.id": str(e["dns"]["id"]), "dns.ecs": e["dns"].get("ecs", ""),
               "dns.answers": str(e["dns"]["answers"]), "dns.rrl": e["dns"]["rrl"]}
        for k, v in exp.items():
            if r.get(k) != v:
                mism.append("%s: %s csv=%r json=%r" % (e["event_id"], k, r.get(k), v))
    res.check(not mism, "csv: every row agrees with the JSON line", "\n".join(mism[:10]))

    # -- SQLite --
    db = os.path.join(d.tmp, "events.db")
    p = export([d.data_dir, "--format", "sqlite", "-o", db])
    res.eq(p.returncode, 0, "sqlite: exit 0", p.stderr)
    res.eq(sqlite(db, "PRAGMA integrity_check"), "ok", "sqlite: integrity_check")
    res.eq(int(sqlite(db, "SELECT count(*) FROM dns")), len(evs), "sqlite: one row per event")
    idx = set(sqlite(db, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='dns'")
              .split())
    res.check({"dns_time", "dns_src", "dns_family"} <= idx, "sqlite: indexes on time, source, family",
              idx)
    plan = sqlite(db, "EXPLAIN QUERY PLAN SELECT count(*) FROM dns WHERE ts_us > 5")
    res.check("dns_time" in plan, "sqlite: time queries use the index", plan)
    fams = dict(l.split("|") for l in sqlite(
        db, "SELECT coalesce(family,'-'), count(*) FROM dns GROUP BY 1").splitlines())
    jf = {}
    for e in evs:
        jf[e.get("family", "-")] = jf.get(e.get("family", "-"), 0) + 1
    res.eq({k: int(v) for k, v in fams.items()}, jf, "sqlite: counts by family = jsonl")
    row = sqlite(db, "SELECT event_id, seq, src_ip, rrname, rrtype, rcode, flags, ecs FROM dns "
                     "WHERE ecs IS NOT NULL ORDER BY seq LIMIT 1").split("|")
    e = next(x for x in evs if x["dns"].get("ecs"))
    res.eq(row, [e["event_id"], str(e["seq"]), e["src_ip"], e["dns"]["rrname"], e["dns"]["rrtype"],
                 e["dns"]["rcode"], " ".join(e["dns"]["flags"]), e["dns"]["ecs"]],
           "sqlite: a row agrees with the JSON line")
    ts = sqlite(db, "SELECT timestamp FROM dns ORDER BY ts_us LIMIT 1")
    res.eq(ts, min(x["timestamp"] for x in evs), "sqlite: timestamp column")
    res.eq(sqlite(db, "SELECT value FROM export_info WHERE key='events'"), str(len(evs)),
           "sqlite: export_info")
    p = export([d.data_dir, "--format", "sqlite", "-o", db])
    res.eq(p.returncode, 1, "sqlite: an existing file is not replaced")
    res.check("--force" in p.stderr, "sqlite: says how to replace it", p.stderr)
    p = export([d.data_dir, "--format", "sqlite", "-o", db, "--force", "--kind", "dns"])
    res.eq(p.returncode, 0, "sqlite: --force replaces it", p.stderr)
    res.check(not [f for f in os.listdir(d.tmp) if ".tmp-" in f], "sqlite: no temp file left")

    # -- filters --
    stamps = sorted(parse_ts(e["timestamp"]) for e in evs)
    lo, hi = evs[len(evs) // 3]["timestamp"], evs[2 * len(evs) // 3]["timestamp"]
    p = export([d.data_dir, "--from", lo, "--to", hi, "-q"])
    sel = [json.loads(l) for l in p.stdout.splitlines()]
    exp = [e for e in evs if parse_ts(lo) <= parse_ts(e["timestamp"]) < parse_ts(hi)]
    res.eq(sorted(x["event_id"] for x in sel), sorted(x["event_id"] for x in exp),
           "--from/--to: exactly the events in [from, to)")
    res.check(0 < len(sel) < len(evs), "--from/--to: a real subset", (len(sel), len(evs)))
    p = export([d.data_dir, "--kind", "dns", "-q"])
    res.eq(len(p.stdout.splitlines()), len(evs), "--kind dns: all")
    p = export([d.data_dir, "--kind", "http,tls", "-q"])
    res.eq((p.returncode, p.stdout), (0, ""), "--kind http,tls: none")
    day = lo[:10]
    p = export([d.data_dir, "--from", day, "-q"])
    res.eq(len(p.stdout.splitlines()), sum(1 for s in stamps if s >= parse_ts(day + "T00:00:00Z")),
           "--from DATE")

    # -- usage --
    p = export(["--help"])
    res.check(p.returncode == 0 and "Usage: sinkhole export" in p.stdout and "--from" in p.stdout,
              "--help", p.stdout[:300])
    for args, what in ((["--format", "xml", d.data_dir], "bad format"), ([], "no path"),
                       ([d.data_dir, "--format", "sqlite"], "sqlite without -o"),
                       ([d.data_dir, "--kind", "smtp"], "bad kind"),
                       ([d.data_dir, "--from", "yesterday"], "bad time"),
                       ([d.data_dir, "--from", hi, "--to", lo], "to before from")):
        p = export(args)
        res.eq(p.returncode, 2, "usage error: %s" % what, p.stderr)
    p = export([os.path.join(d.tmp, "nowhere")])
    res.eq(p.returncode, 1, "missing path: exit 1")
    p = subprocess.run([SINKHOLE, "help", "export"], capture_output=True, text=True)
    res.check(p.returncode == 0 and "Usage: sinkhole export" in p.stdout, "sinkhole help export")

    # -- damage: reported with file and offset, the rest still exported --
    dmg = os.path.join(d.tmp, "damaged")
    shutil.copytree(d.events_dir, dmg)
    res.check(len(segs) >= 3, "several segments", segs)
    victim = os.path.join(dmg, segs[len(segs) // 2])
    size = os.path.getsize(victim)
    with open(victim, "r+b") as f:
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    p = export([dmg])
    res.eq(p.returncode, 1, "damage: exit 1")
    res.check(victim in p.stderr and "offset" in p.stderr, "damage: file and offset named",
              p.stderr[:500])
    n = len(p.stdout.splitlines())
    res.check(0 < n < len(evs), "damage: the good events are still exported", (n, len(evs)))
    with open(os.path.join(dmg, "0000000000000001.evlog"), "w") as f:
        f.write("not a log\n")
    p = export([dmg, "-q"])
    res.check("0000000000000001.evlog: not a sinkhole event log" in p.stderr,
              "a foreign file is named", p.stderr[:500])
    res.eq(len(p.stdout.splitlines()), n, "a foreign file costs nothing else")


if __name__ == "__main__":
    run_main("evlog export", body)
