#!/usr/bin/env python3
"""End-to-end: the life of `sinkhole serve`.

Command line (--help, --version, usage errors); start-up failures; SIGHUP
reloads that add and remove names while queries keep flowing (none may go
unanswered); reloads that fail (a bad list line, a bad config) and keep the
old lists, with FILE:LINE on stderr and in stats.json; SIGUSR1 and the
periodic stats.json; SIGTERM and SIGINT while queries are in flight, after
which every answered query must be in the log."""

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (Daemon, build_query, frame, free_port,  # noqa: E402
                              parse_msg, parse_ts, run_main, run_sinkhole, sanitizer_report,
                              tcp_connect, tcp_read_msg, udp_query, wait_until, write_file)


def test_cli(res):
    p = run_sinkhole(["--version"])
    res.check(p.returncode == 0 and p.stdout.startswith("sinkhole ")
              and any(ch.isdigit() for ch in p.stdout), "--version: exit 0, 'sinkhole X.Y.Z'",
              (p.returncode, p.stdout, p.stderr))
    p = run_sinkhole(["--help"])
    res.check(p.returncode == 0 and "serve" in p.stdout and "check-config" in p.stdout,
              "--help: exit 0, lists the commands", (p.returncode, p.stdout[:300]))
    for cmd, opts in (("serve", ("-c", "--config", "--help", "SIGHUP", "SIGTERM", "SIGUSR1")),
                      ("check-config", ("-c", "--config", "-q", "--quiet", "--help"))):
        p = run_sinkhole([cmd, "--help"])
        res.check(p.returncode == 0 and all(o in p.stdout for o in opts),
                  "%s --help: exit 0, mentions %s" % (cmd, " ".join(opts)),
                  (p.returncode, p.stdout, p.stderr))
        p = run_sinkhole(["help", cmd])
        res.check(p.returncode == 0 and "--config" in p.stdout, "help %s: exit 0" % cmd,
                  (p.returncode, p.stdout[:200]))
        p = run_sinkhole([cmd])
        res.check(p.returncode == 2 and "Usage" in p.stderr,
                  "%s without -c: usage on stderr, exit 2" % cmd, (p.returncode, p.stderr[:200]))
        p = run_sinkhole([cmd, "-c", "x.ini", "--no-such-option"])
        res.eq(p.returncode, 2, "%s with an unknown option: exit 2" % cmd)
    p = run_sinkhole(["no-such-command"])
    res.check(p.returncode == 2 and "no-such-command" in p.stderr, "unknown command: exit 2",
              (p.returncode, p.stderr[:200]))
    p = run_sinkhole([])
    res.eq(p.returncode, 2, "no command: exit 2")
    for out in (p.stdout, p.stderr):
        rep = sanitizer_report(out)
        res.check(rep == "", "no sanitizer report from the CLI", rep)


def test_start_failures(res):
    # A bad config: serve exits 2 at once, with FILE:LINE.
    d = Daemon([("a", {"names": ["a.example"]})], dns={"ttl": "soon"}, tag="badcfg")
    d.port = free_port()
    d.write_files()
    p = run_sinkhole(["serve", "-c", d.cfg_path], timeout=20)
    ttl_line = d.config_text().splitlines().index("ttl = soon") + 1
    res.check(p.returncode == 2 and ("%s:%d:" % (d.cfg_path, ttl_line)) in p.stderr,
              "serve with a bad value: exit 2 and FILE:LINE", (p.returncode, p.stderr[:300]))
    # The port is taken (our socket without SO_REUSEPORT): exit 1, says why.
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    d = Daemon([("a", {"names": ["a.example"]})], tag="busy")
    d.port = blocker.getsockname()[1]
    d.write_files()
    try:
        p = run_sinkhole(["serve", "-c", d.cfg_path], timeout=20)
    finally:
        blocker.close()
    res.check(p.returncode == 1 and ("127.0.0.1:%d (UDP) is in use" % d.port) in p.stderr,
              "serve on a taken port: exit 1, says which is in use",
              (p.returncode, p.stderr[-300:]))
    res.check(sanitizer_report(p.stderr) == "", "no sanitizer report (taken port)",
              sanitizer_report(p.stderr))


class Traffic:
    """Threads that keep asking while reloads happen: one UDP, one TCP.
    Every query must be answered (no retries) and keep.example must always
    be NOERROR."""

    def __init__(self, addr, names):
        self.addr = addr
        self.names = names
        self.stop = threading.Event()
        self.sent = {"UDP": 0, "TCP": 0}
        self.lost = []
        self.wrong = []
        self.threads = [threading.Thread(target=self.udp), threading.Thread(target=self.tcp)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)

    def judge(self, proto, name, data):
        if data is None:
            self.lost.append((proto, name))
            return
        m = parse_msg(data)
        if name == "keep.example" and (m.rcode != "NOERROR" or len(m.answer) != 1):
            self.wrong.append((proto, name, m.rcode))
        if m.rcode not in ("NOERROR", "REFUSED"):
            self.wrong.append((proto, name, m.rcode))

    def udp(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        i = 0
        while not self.stop.is_set() and i < 20000:
            name = self.names[i % len(self.names)]
            qid = i & 0xFFFF
            s.sendto(build_query(name, "A", qid=qid), self.addr)
            data = None
            try:
                while True:
                    data = s.recv(4096)
                    if data[:2] == struct.pack("!H", qid):
                        break
            except socket.timeout:
                data = None
            self.sent["UDP"] += 1
            self.judge("UDP", name, data)
            i += 1
            time.sleep(0.001)
        s.close()

    def tcp(self):
        s = tcp_connect(self.addr)
        i = 0
        while not self.stop.is_set() and i < 20000:
            name = self.names[i % len(self.names)]
            try:
                s.sendall(frame(build_query(name, "A", qid=i & 0xFFFF)))
                data = tcp_read_msg(s)
            except OSError:
                data = None
            self.sent["TCP"] += 1
            self.judge("TCP", name, data)
            if data is None:
                s.close()
                s = tcp_connect(self.addr)
            i += 1
            time.sleep(0.001)
        s.close()


def answered(d, name):
    m = udp_query(d.addr, name, "A")
    return m.rcode if m else None


def test_reload(res):
    d = Daemon([("main", {"names": ["keep.example", "remove.example"]}),
                ("other", {"names": ["other.example"], "family": "fam-o"})],
               tag="reload").start()
    res.eq(answered(d, "x.remove.example"), "NOERROR", "before reload: remove.example answered")
    res.eq(answered(d, "added.example"), "REFUSED", "before reload: added.example refused")
    traffic = Traffic(d.addr, ["keep.example", "remove.example", "added.example",
                               "other.example"]).start()
    try:
        time.sleep(0.3)
        d.write_list("main", ["keep.example", "added.example"])
        st = d.reload()
        res.eq(st["lists"]["reloads"], 1, "stats: lists.reloads = 1")
        res.eq(st["lists"]["reload_failures"], 0, "stats: lists.reload_failures = 0")
        res.eq(st["lists"]["names"], 3, "stats: lists.names after reload")
        res.eq(answered(d, "added.example"), "NOERROR", "after reload: added name answered")
        res.eq(answered(d, "a.b.added.example"), "NOERROR", "after reload: below added name")
        res.eq(answered(d, "remove.example"), "REFUSED", "after reload: removed name REFUSED")
        res.eq(answered(d, "x.remove.example"), "REFUSED", "after reload: below removed name")
        # Several more reloads back and forth under traffic.
        for i in range(6):
            names = ["keep.example"] + (["remove.example"] if i % 2 == 0 else ["added.example"])
            d.write_list("main", names + ["gen%d.example" % i])
            d.reload()
            res.eq(answered(d, "gen%d.example" % i), "NOERROR", "reload %d: new name" % (i + 2))
            if i:
                res.eq(answered(d, "gen%d.example" % (i - 1)), "REFUSED",
                       "reload %d: previous name gone" % (i + 2))
        time.sleep(0.3)
    finally:
        traffic.finish()
    print("reload traffic: %s queries, %d lost, 7 reloads" % (traffic.sent, len(traffic.lost)),
          flush=True)
    res.check(traffic.sent["UDP"] > 50 and traffic.sent["TCP"] > 50,
              "traffic flowed during the reloads", traffic.sent)
    res.eq(traffic.lost, [], "no query lost during 7 reloads (%s)" % traffic.sent)
    res.eq(traffic.wrong, [], "keep.example answered NOERROR throughout")
    st = d.stats()
    res.eq(st["lists"]["reloads"], 7, "stats: 7 reloads")

    # A broken list: the old lists stay, FILE:LINE on stderr and in stats.
    good = ["keep.example", "stay.example"]
    d.write_list("main", good)
    d.reload()
    d.write_list("main", ["keep.example", "# a comment", "not..valid", "new-in-broken.example"])
    st = d.reload()
    res.eq(st["lists"]["reload_failures"], 1, "broken list: lists.reload_failures = 1")
    res.eq(st["lists"]["reloads"], 8, "broken list: lists.reloads unchanged")
    where = "%s:3:" % d.list_path("main")
    res.check(where in st["lists"].get("last_reload_error", ""),
              "stats.json last_reload_error names %s" % where, st["lists"])
    res.check(wait_until(lambda: where in d.stderr(), 3),
              "stderr has the error at %s" % where, d.stderr()[-1500:])
    res.eq(answered(d, "stay.example"), "NOERROR", "broken list: old names still answered")
    res.eq(answered(d, "other.example"), "NOERROR", "broken list: other lists still answered")
    res.eq(answered(d, "new-in-broken.example"), "REFUSED", "broken list: its names not loaded")
    # A broken config on reload: same.
    cfg_lines = d.config_text().splitlines()
    write_file(d.cfg_path, "\n".join(cfg_lines[:3] + ["bogus_key = 1"] + cfg_lines[3:]) + "\n")
    st = d.reload()
    res.eq(st["lists"]["reload_failures"], 2, "broken config: lists.reload_failures = 2")
    res.check(wait_until(lambda: "%s:4:" % d.cfg_path in d.stderr(), 3),
              "stderr has the config error at %s:4:" % d.cfg_path, d.stderr()[-1500:])
    res.eq(answered(d, "stay.example"), "NOERROR", "broken config: old names still answered")
    # Fixed again: the reload goes through.
    d.write_files()
    d.write_list("main", good + ["fixed.example"])
    st = d.reload()
    res.eq((st["lists"]["reloads"], st["lists"]["reload_failures"]), (9, 2),
           "fixed: reload counted, failures unchanged")
    res.eq(st["lists"].get("last_reload_error"), "", "fixed: last_reload_error cleared")
    res.eq(answered(d, "fixed.example"), "NOERROR", "fixed: new name answered")
    seized = {s["list"]: (s["family"], s["names"]) for s in st["lists"]["seized"]}
    res.eq(seized, {"main": ("main", 3), "other": ("fam-o", 1)}, "stats: lists.seized[]")
    d.check_stop(res, "reload daemon")


def test_stats(res):
    d = Daemon([("a", {"names": ["a.example"]})], server={"stats_interval": "3600"},
               tag="stats").start()
    path = os.path.join(d.data_dir, "stats.json")
    res.check(wait_until(lambda: os.path.exists(path), 3), "stats.json written at start")
    st0 = d.read_stats()
    res.check(st0 is not None and st0.get("pid") == d.proc.pid and st0.get("node") == "e2e-node"
              and st0.get("workers") == 2, "stats.json: pid, node, workers", st0)
    st0 = d.stats()  # after the start-up probe
    time.sleep(0.05)
    for i in range(7):
        udp_query(d.addr, "s%d.a.example" % i, "A")
    udp_query(d.addr, "nope.example", "A")
    st1 = d.stats()
    res.check(parse_ts(st1["now"]) > parse_ts(st0["now"]), "SIGUSR1 rewrites stats.json",
              (st0["now"], st1["now"]))
    res.eq(st1["dns"]["queries"] - st0["dns"]["queries"], 8, "stats: 8 more queries")
    res.eq(st1["dns"]["rcode"]["REFUSED"] - st0["dns"]["rcode"]["REFUSED"], 1,
           "stats: one more REFUSED")
    res.eq(st1["lists"]["names"], 1, "stats: lists.names")
    # Nothing rewrites it without a signal when stats_interval is long.
    time.sleep(1.2)
    res.eq(d.read_stats()["now"], st1["now"], "stats.json not rewritten without SIGUSR1")
    d.check_stop(res, "stats daemon")

    d = Daemon([("a", {"names": ["a.example"]})], server={"stats_interval": "1"},
               tag="stats1").start()
    st0 = wait_until(d.read_stats, 3)
    udp_query(d.addr, "a.example", "A")
    st1 = wait_until(lambda: (lambda s: s if s and s["now"] != st0["now"] else None)(
        d.read_stats()), 3.0)
    res.check(st1 is not None and st1["dns"]["queries"] >= 1,
              "stats_interval=1: rewritten within 3 s without a signal", st1)
    d.check_stop(res, "stats_interval daemon")


def test_log_disabled(res):
    """[log] enabled = no: queries are answered, nothing is recorded, and
    stats.json says no event was appended (none dropped either)."""
    d = Daemon([("a", {"names": ["a.example"]})], log={"enabled": "no"}, tag="nolog").start()
    for i in range(20):
        r = udp_query(d.addr, "n%d.a.example" % i, "A")
        res.check(r is not None and r.rcode == "NOERROR" and len(r.answer) == 1,
                  "log off: query %d answered" % i, r)
    st = d.stats()
    res.check(st["dns"]["queries"] >= 20, "log off: queries counted", st["dns"])
    res.eq((st["events"]["appended"], st["events"]["dropped"], st["events"]["written"]),
           (0, 0, 0), "log off: no event appended, dropped or written")
    res.check("enabled = no" in d.stderr(), "log off: said at start", d.stderr()[-300:])
    d.check_stop(res, "log-off daemon")
    seg = [f for f in os.listdir(d.events_dir)] if os.path.isdir(d.events_dir) else []
    res.eq(seg, [], "log off: no segment written")


def test_stop_in_flight(res, sig):
    """Queries in flight on UDP and TCP when the signal arrives: exit 0 and
    every answered query is in the log."""
    d = Daemon([("a", {"names": ["a.example"]})], log={"flush_ms": "1000"},
               tag="stop").start()
    stop = threading.Event()
    lock = threading.Lock()
    answered_ids = set()
    sent = {"n": 0}

    def udp_sender(k):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        i = 0
        while not stop.is_set() and i < 200000:
            for _ in range(16):
                try:
                    s.sendto(build_query("u%d-%d.a.example" % (k, i), "A", qid=i & 0xFFFF),
                             d.addr)
                except OSError:
                    pass
                i += 1
            with lock:
                sent["n"] += 16
            for _ in range(16):
                try:
                    data = s.recv(4096)
                except (socket.timeout, ConnectionRefusedError):
                    break
                m = parse_msg(data)
                with lock:
                    answered_ids.add(m.question[0][0].rstrip("."))
        s.close()

    def tcp_sender(k):
        try:
            s = tcp_connect(d.addr)
        except OSError:
            return
        i = 0
        try:
            while not stop.is_set() and i < 200000:
                batch = [build_query("t%d-%d.a.example" % (k, i + j), "A") for j in range(8)]
                s.sendall(b"".join(frame(q) for q in batch))
                i += 8
                with lock:
                    sent["n"] += 8
                for _ in batch:
                    data = tcp_read_msg(s)
                    if data is None:
                        return
                    m = parse_msg(data)
                    with lock:
                        answered_ids.add(m.question[0][0].rstrip("."))
        except OSError:
            return
        finally:
            s.close()

    threads = [threading.Thread(target=udp_sender, args=(k,)) for k in range(2)]
    threads += [threading.Thread(target=tcp_sender, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.8)
    d.signal(sig)
    rc = None
    try:
        rc = d.proc.wait(20)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(10)
    name = signal.Signals(sig).name
    d.check_stop(res, "%s under load" % name)
    res.eq(rc, 0, "%s under load: exit 0" % name)
    evs = d.events()
    logged = {e["dns"].get("rrname") for e in evs}
    missing = answered_ids - logged
    print("%s under load: %d sent, %d answered, %d events" % (name, sent["n"], len(answered_ids),
                                                               len(evs)), flush=True)
    res.check(len(answered_ids) > 100, "%s: traffic was flowing (%d answered of %d sent)"
              % (name, len(answered_ids), sent["n"]))
    res.eq(sorted(missing)[:5], [], "%s: every answered query is in the log" % name)
    fin = d.final_stats()
    if res.check(fin is not None, "%s: stats.json at exit" % name):
        ev = fin["events"]
        res.eq((ev["dropped"], ev["written"]), (0, ev["appended"]),
               "%s: nothing dropped, written = appended" % name)
        res.eq(fin["dns"]["queries"] + fin["dns"]["malformed_dropped"], ev["appended"],
               "%s: queries + malformed = appended" % name)
        res.eq(ev["appended"], len(d.events(include_probes=True)),
               "%s: appended = events in the log" % name)
    res.check("stopping" in d.stderr() or "stopped" in d.stderr(),
              "%s: the stop is logged" % name, d.stderr()[-500:])


def test_second_instance(res):
    """A second daemon on the same addresses refuses to start (SO_REUSEPORT
    would otherwise let it take part of the first one's traffic); the first
    goes on answering and its TCP listener keeps every connection."""
    d = Daemon([("a", {"names": ["a.example"]})], listeners=[("web", {})],
               tag="twice").start()
    p = run_sinkhole(["serve", "-c", d.cfg_path], timeout=20)
    res.eq(p.returncode, 1, "second instance: exit 1")
    for what in ("DNS: 127.0.0.1:%d (TCP) is in use" % d.port,
                 "DNS: 127.0.0.1:%d (UDP) is in use" % d.port,
                 "listener web: 127.0.0.1:%d (TCP) is in use" % d.ports["web"]):
        res.check(what in p.stderr, "second instance: says " + what, p.stderr[-600:])
    for i in range(20):
        res.eq(answered(d, "n%d.a.example" % i), "NOERROR", "first instance: query %d answered" % i)
    for i in range(20):
        s = socket.create_connection(d.laddr("web"), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        res.check(s.recv(12) == b"HTTP/1.1 200", "first instance: connection %d answered" % i)
        s.close()
    st = d.stats()
    res.eq(st["listeners"]["web"]["connections_accepted"], 20,
           "first instance: took all 20 connections")
    d.check_stop(res, "first instance")


def body(res):
    test_cli(res)
    test_second_instance(res)
    test_start_failures(res)
    test_reload(res)
    test_stats(res)
    test_log_disabled(res)
    test_stop_in_flight(res, signal.SIGTERM)
    test_stop_in_flight(res, signal.SIGINT)


if __name__ == "__main__":
    run_main("test_serve_lifecycle", body)
