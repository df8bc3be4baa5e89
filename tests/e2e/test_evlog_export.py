#!/usr/bin/env python3
"""End-to-end: `sinkhole export` as JSON lines, CSV and SQLite.

The daemon logs a known set of queries (UDP and TCP, several lists and
families, ECS, names that need escaping); then the log is exported in each
format and read back with real parsers: Python's json module (and
`python3 -m json.tool --json-lines`), the csv module, and the sqlite3 shell.
Every query must be there once with the right fields, the three formats
must agree event by event, filters (--from/--to/--kind) must select exactly
what they say, and damage must be reported without losing the good events.

Connection events (http, tls, raw) do not come from a daemon here: a
segment holding them is written by this script, from the layout in
docs/events.md and src/evlog/record.c alone, and exported; every field must
come back, byte for byte, in each format.
"""

import base64
import csv
import datetime
import io
import ipaddress
import json
import os
import shutil
import sqlite3 as sqlite3_module
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (SINKHOLE, Daemon, build_query, ecs_option, is_probe,  # noqa: E402
                              make_tmp, parse_ts, run_main, tcp_exchange, udp_exchange)

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

    conn_events(res)


# -- connection events: a segment written here, from the documented layout --

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def addr(a, port):
    if a is None:
        return b"\0"
    ip = ipaddress.ip_address(a)
    return bytes([ip.version]) + ip.packed + struct.pack("<H", port)


def sstr(b):
    return bytes([len(b)]) + b


def span(b):
    return varint(len(b)) + b


KIND = {"dns": 1, "http": 2, "tls": 3, "raw": 4}
TS0 = 1795867200000000  # 2026-11-28T12:00:00Z


def record(e):
    """The payload of event e (a dict), schema 2, as record.c lays it out."""
    p = bytes([KIND[e["kind"]], 6 if e["proto"] == "TCP" else 17]) + struct.pack("<Q", e["ts"])
    p += addr(e["src"], e["sport"]) + addr(e["dst"], e["dport"]) + addr(e.get("proxy"), 0)
    p += sstr(e.get("family", b"")) + sstr(e.get("list", b""))
    if e["kind"] == "dns":
        qname = b"".join(sstr(l) for l in e["rrname"].split(b".")) + b"\0"
        p += struct.pack("<HBB", e["id"], 0, len(qname)) + qname
        p += struct.pack("<HHHBBHHHB", 1, 1, 3, 0, 0, 0, 0, 0, 0)
        return p
    p += sstr(e.get("bot_id", b"")) + sstr(e.get("rule", b""))
    p += struct.pack("<HB", e["flags"], e["close"])
    p += varint(e["bytes_in"]) + varint(e["bytes_out"]) + varint(e["duration_us"])
    if e["kind"] == "http":
        for k in ("method", "host", "url", "ua", "referer", "ctype", "body"):
            p += span(e[k])
        p += varint(e["body_len"]) + struct.pack("<HB", e["status"], e["version"])
        p += varint(e["request"])
    elif e["kind"] == "tls":
        p += span(e["sni"]) + span(e["alpn"]) + struct.pack("<HH", e["version"], e["recver"])
        p += sstr(e["ja3"]) + sstr(e["ja4"])
    else:
        p += span(e["data"]) + varint(e["first_byte_ms"]) + bytes([e["sniffed"]])
    return p


def write_segment(path, events, schema=2, segment=0x6615BC60BA581):
    h = b"SKEVLOG1" + struct.pack("<HHQQQ", 2, schema, TS0, segment, 1) + sstr(b"e2e-conn")
    h += struct.pack("<I", crc32c(h))
    with open(path, "wb") as f:
        f.write(h)
        for e in events:
            p = record(e)
            f.write(struct.pack("<II", len(p), crc32c(p)) + p)


def all_bytes(n, start=0):
    return bytes((start + i) % 256 for i in range(n))


def conn_set():
    http = {"kind": "http", "proto": "TCP", "ts": TS0 + 20, "src": "198.51.100.7",
            "sport": 40000, "dst": "192.0.2.10", "dport": 80, "family": b"megad",
            "list": b"port80", "bot_id": b"BOT-1", "rule": b"megad-gate", "flags": 0x3,
            "close": 0, "bytes_in": 512, "bytes_out": 1024, "duration_us": 1500000,
            "method": b"POST", "host": b"c2.example", "url": b'/gate.php?a="b"\\\x01\xff\x00,x',
            "ua": "Mozilla/4.0 \u00e9\u4e2d".encode("utf-8"), "referer": b"",
            "ctype": b"application/x-www-form-urlencoded", "body": b"id=1&x=\x00\xff",
            "body_len": 11, "status": 200, "version": 11, "request": 2}
    tls = {"kind": "tls", "proto": "TCP", "ts": TS0 + 1000001, "src": "2001:db8::7",
           "sport": 50000, "dst": "192.0.2.10", "dport": 443, "proxy": "10.0.0.1",
           "flags": 0x40, "close": 2, "bytes_in": 300, "bytes_out": 5000, "duration_us": 20000,
           "sni": b"c2.example", "alpn": b"h2", "version": 0x0304, "recver": 0x0301,
           "ja3": b"e7d705a3286e19ea42f587b344ee6865",
           "ja4": b"t13d1516h2_8daaf6152771_02713d6af862"}
    raw = {"kind": "raw", "proto": "UDP", "ts": TS0 + 2000000, "src": "203.0.113.5",
           "sport": 1234, "dst": "192.0.2.10", "dport": 9999, "flags": 0x20, "close": 3,
           "bytes_in": 256, "bytes_out": 0, "duration_us": 0, "data": all_bytes(256),
           "first_byte_ms": 0, "sniffed": 5}
    dns = {"kind": "dns", "proto": "UDP", "ts": TS0 + 2500000, "src": "198.51.100.53",
           "sport": 5353, "dst": "192.0.2.1", "dport": 53, "id": 77, "rrname": b"q.c2.example"}
    big = dict(http, ts=TS0 + 3000000, bot_id=bytes(range(1, 128)), rule=b"r" * 63,
               flags=0x4, close=8, bytes_in=2**64 - 1, bytes_out=2**63, duration_us=2**64 - 1,
               method=all_bytes(255, 1), host=all_bytes(255, 2), url=all_bytes(4096, 3),
               ua=all_bytes(4096, 4), referer=all_bytes(4096, 5), ctype=all_bytes(255, 6),
               body=all_bytes(16384, 7), body_len=2**40, status=0, version=9, request=2**32 - 1)
    return [http, tls, raw, dns, big]


def unescape_text(s):
    """CSV/SQLite text back to bytes: \\xHH and \\\\ escapes."""
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\" and s[i + 1] == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif s[i] == "\\":
            out.append(ord(s[i + 1]))
            i += 2
        else:
            out.append(ord(s[i]))
            i += 1
    return bytes(out)


def conn_events(res):
    tmp = make_tmp("export-conn")
    seg = os.path.join(tmp, "0006615bc60ba581.evlog")
    evs = conn_set()
    write_segment(seg, evs)
    names = {"http": [("host", "hostname"), ("url", "url"), ("method", "http_method"),
                      ("ua", "http_user_agent"), ("referer", "http_refer"),
                      ("ctype", "http_content_type")],
             "tls": [("sni", "sni"), ("alpn", "alpn")]}

    # -- JSON lines --
    p = export([seg, "-q"])
    res.eq((p.returncode, p.stderr), (0, ""), "conn jsonl: exit 0, no problems")
    got = [json.loads(l) for l in p.stdout.splitlines()]
    res.eq([g["event_type"] for g in got], ["http", "tls", "raw", "dns", "http"],
           "conn jsonl: every event, in order")
    res.check(all(l.isascii() for l in p.stdout.splitlines()), "conn jsonl: lines are ASCII")
    bad = []
    for e, g in zip(evs, got):
        k = e["kind"]
        if g["src_ip"] != e["src"] or g["src_port"] != e["sport"] or g["dest_port"] != e["dport"]:
            bad.append("%s: addresses %r" % (k, g))
        stamp = datetime.datetime.fromtimestamp(e["ts"] // 10**6, datetime.timezone.utc)
        if g["proto"] != e["proto"] or g["timestamp"] != stamp.strftime(
                "%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (e["ts"] % 10**6):
            bad.append("%s: proto or timestamp %r %r" % (k, g["proto"], g["timestamp"]))
        if k == "dns":
            if g["dns"]["rrname"] != "q.c2.example" or "bot_id" in g or "bytes_in" in g:
                bad.append("dns: %r" % g)
            continue
        if g.get("bot_id", "").encode("latin-1") != e.get("bot_id", b""):
            bad.append("%s: bot_id %r" % (k, g.get("bot_id")))
        if g.get("rule", "").encode("latin-1") != e.get("rule", b""):
            bad.append("%s: rule" % k)
        for f in ("bytes_in", "bytes_out"):
            if g[f] != e[f]:
                bad.append("%s: %s %r" % (k, f, g[f]))
        if round(g["duration"] * 1e6) != e["duration_us"] and e["duration_us"] < 2**53:
            bad.append("%s: duration %r" % (k, g["duration"]))
        if k in names:
            for ours, eve in names[k]:
                if g[k].get(eve, "").encode("latin-1") != e[ours]:
                    bad.append("%s.%s: %r" % (k, eve, g[k].get(eve)))
        if k == "http":
            if base64.b64decode(g["http"].get("body", "")) != e["body"]:
                bad.append("http.body")
            if (g["http"]["body_len"], g["http"].get("status", 0), g["http"]["request"]) != (
                    e["body_len"], e["status"], e["request"]):
                bad.append("http numbers %r" % g["http"])
        if k == "raw":
            if base64.b64decode(g["raw"]["data"]) != e["data"] or g["raw"]["len"] != 256:
                bad.append("raw.data")
    res.check(not bad, "conn jsonl: every field, byte for byte", "\n".join(bad[:10]))
    h, t, r, big = got[0], got[1], got[2], got[4]
    res.eq(h["http"]["protocol"], "HTTP/1.1", "http.protocol")
    res.eq(big["http"]["protocol"], "HTTP/0.9", "http.protocol 0.9")
    res.eq(h["http"]["http_user_agent"].encode("latin-1").decode("utf-8"),
           "Mozilla/4.0 \u00e9\u4e2d", "UTF-8 in a header comes back as sent")
    res.eq((h["flags"], h["close_reason"], h["duration"]), (["tls", "keepalive"], "none", 1.5),
           "flags, close_reason, duration")
    res.eq((t["tls"]["version"], t["tls"]["record_version"], t["tls"]["ja3"]["hash"],
            t["tls"]["ja4"], t["proxied_by"], t["flags"], t["close_reason"]),
           ("TLS 1.3", "TLSv1", "e7d705a3286e19ea42f587b344ee6865",
            "t13d1516h2_8daaf6152771_02713d6af862", "10.0.0.1", ["terminated"], "server"),
           "tls fields")
    res.eq((r["proto"], r["raw"]["sniffed"], r["raw"]["first_byte_ms"], r["flags"],
            r["close_reason"]), ("UDP", "raw", 0, ["malformed"], "idle"), "raw fields")
    res.eq((big["flags"], big["close_reason"], big["bytes_in"], big["http"]["request"]),
           (["truncated"], "shutdown", 2**64 - 1, 2**32 - 1), "values at their limits")

    # -- filters --
    for kinds, want in (("http", 2), ("tls,raw", 2), ("dns", 1), ("raw", 1)):
        p = export([seg, "-q", "--kind", kinds])
        res.eq(len(p.stdout.splitlines()), want, "conn: --kind %s" % kinds)

    # -- CSV --
    out_csv = os.path.join(tmp, "conn.csv")
    p = export([seg, "-q", "--format", "csv", "-o", out_csv])
    res.eq(p.returncode, 0, "conn csv: exit 0", p.stderr)
    with open(out_csv, newline="", encoding="ascii") as f:
        rows = list(csv.DictReader(f))
    res.eq(len(rows), 5, "conn csv: a row per event")
    bad = []
    for e, row, g in zip(evs, rows, got):
        k = e["kind"]
        if row["event_type"] != k or row["event_id"] != g["event_id"]:
            bad.append("%s: %r" % (k, row))
        if k == "dns":
            if row["dns.rrname"] != "q.c2.example" or row["bot_id"] or row["http.url"]:
                bad.append("dns row %r" % row)
            continue
        if unescape_text(row["bot_id"]) != e.get("bot_id", b""):
            bad.append("%s: bot_id %r" % (k, row["bot_id"]))
        if (row["bytes_in"], row["bytes_out"]) != (str(e["bytes_in"]), str(e["bytes_out"])):
            bad.append("%s: bytes" % k)
        if row["flags"] != " ".join(g["flags"]) or row["close_reason"] != g["close_reason"]:
            bad.append("%s: flags %r" % (k, row["flags"]))
        if k in names:
            for ours, eve in names[k]:
                if unescape_text(row[k + "." + eve]) != e[ours]:
                    bad.append("%s.%s: %r" % (k, eve, row[k + "." + eve]))
        if k == "http" and base64.b64decode(row["http.body"]) != e["body"]:
            bad.append("http.body")
        if k == "tls" and (row["tls.version"], row["tls.ja3.hash"]) != (
                "TLS 1.3", "e7d705a3286e19ea42f587b344ee6865"):
            bad.append("tls row %r" % row)
        if k == "raw" and (base64.b64decode(row["raw.data"]) != e["data"]
                           or row["raw.len"] != "256" or row["raw.sniffed"] != "raw"):
            bad.append("raw row")
    res.check(not bad, "conn csv: every field, byte for byte", "\n".join(bad[:10]))

    # -- SQLite --
    db = os.path.join(tmp, "conn.db")
    p = export([seg, "-q", "--format", "sqlite", "-o", db])
    res.eq(p.returncode, 0, "conn sqlite: exit 0", p.stderr)
    con = sqlite3_module.connect(db)
    counts = {t: con.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
              for t in ("dns", "http", "tls", "raw")}
    res.eq(counts, {"dns": 1, "http": 2, "tls": 1, "raw": 1}, "conn sqlite: a table per kind")
    idx = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    res.check({"%s_%s" % (t, i) for t in ("http", "tls", "raw") for i in ("time", "src", "family")}
              <= idx, "conn sqlite: indexes on time, source, family", idx)
    plan = " ".join(str(x) for x in con.execute(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM http WHERE ts_us > 5").fetchall())
    res.check("http_time" in plan, "conn sqlite: time queries use the index", plan)
    rows = con.execute("SELECT url, http_user_agent, body, bot_id, bytes_in, duration, flags, "
                       "close_reason, protocol, status, request, body_len, event_id "
                       "FROM http ORDER BY ts_us").fetchall()
    bad = []
    for row, e, g in zip(rows, (evs[0], evs[4]), (got[0], got[4])):
        if unescape_text(row[0]) != e["url"] or unescape_text(row[1]) != e["ua"]:
            bad.append("url/ua %r" % (row[:2],))
        if bytes(row[2]) != e["body"] or unescape_text(row[3]) != e["bot_id"]:
            bad.append("body/bot_id")
        if row[4] != (e["bytes_in"] if e["bytes_in"] < 2**63 else e["bytes_in"] - 2**64):
            bad.append("bytes_in %r" % row[4])
        if (row[6], row[7], row[8], row[12]) != (" ".join(g["flags"]) or None, g["close_reason"],
                                                 g["http"]["protocol"], g["event_id"]):
            bad.append("names %r" % (row[6:],))
    res.check(not bad, "conn sqlite: http rows, byte for byte", "\n".join(bad))
    row = con.execute("SELECT sni, alpn, version, record_version, ja3_hash, ja4, proxied_by "
                      "FROM tls").fetchone()
    res.eq(row, ("c2.example", "h2", "TLS 1.3", "TLSv1", "e7d705a3286e19ea42f587b344ee6865",
                 "t13d1516h2_8daaf6152771_02713d6af862", "10.0.0.1"), "conn sqlite: tls row")
    row = con.execute("SELECT len, data, first_byte_ms, sniffed, duration FROM raw").fetchone()
    res.eq((row[0], bytes(row[1]), row[2], row[3], row[4]), (256, all_bytes(256), 0, "raw", 0.0),
           "conn sqlite: raw row, data as a BLOB")
    res.eq(con.execute("SELECT value FROM export_info WHERE key='format'").fetchone()[0],
           "sinkhole events, schema 2", "conn sqlite: export_info names the schema")
    con.close()

    # -- a schema 1 file cannot hold connection events --
    old = os.path.join(tmp, "schema1.evlog")
    write_segment(old, [evs[3], evs[0], evs[3]], schema=1)
    p = export([old])
    res.eq(p.returncode, 1, "schema 1 with an http record: exit 1")
    res.check("record does not decode (schema 1)" in p.stderr, "schema 1: the record is named",
              p.stderr)
    res.eq([json.loads(l)["event_type"] for l in p.stdout.splitlines()], ["dns", "dns"],
           "schema 1: its DNS events are still exported")
    newer = os.path.join(tmp, "schema3.evlog")
    write_segment(newer, evs[:1], schema=3)
    p = export([newer])
    res.check(p.returncode == 1 and "schema 3 is not supported" in p.stderr,
              "a newer schema is refused by name", p.stderr)


if __name__ == "__main__":
    run_main("evlog export", body)
