#!/usr/bin/env python3
"""A [seized.*] list made by a DGA family instead of a file: the names of the
days around today are answered, and at midnight (by the daemon's clock,
started just before it with SINKHOLE_CLOCK) the list is generated again for
the new day without a restart. Also the config errors of such a list."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sinkhole_harness import (SINKHOLE, Daemon, make_tmp, run_main,  # noqa: E402
                              run_sinkhole, udp_query, write_file)


def day_names(family, date, n=3):
    p = subprocess.run([SINKHOLE, "domains", family, "--from", date, "--to", date],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    names = [l for l in p.stdout.split() if l and not l.startswith("#")]
    return names[:n], set(names)


def body(res):
    today, today_all = day_names("newgoz", "2026-11-28")
    tomorrow, tomorrow_all = day_names("newgoz", "2026-11-29")
    today = [n for n in today if n not in tomorrow_all]
    tomorrow = [n for n in tomorrow if n not in today_all]
    res.check(len(today) > 0 and len(tomorrow) > 0, "two days with names of their own")

    # Four seconds before midnight; the window is today only.
    os.environ["SINKHOLE_CLOCK"] = "start=2026-11-28T23:59:56Z"
    try:
        d = Daemon([("gz", {"dga": "newgoz", "days_before": "0", "days_after": "0"})],
                   tag="sk-dga").start()
    finally:
        del os.environ["SINKHOLE_CLOCK"]
    for n in today:
        m = udp_query(d.addr, n, "A")
        res.check(m is not None and m.rcode == "NOERROR" and m.data("answer", "A") == ["192.0.2.10"],
                  "before midnight: today's %s answered" % n, m)
    m = udp_query(d.addr, tomorrow[0], "A")
    res.check(m is not None and m.rcode == "REFUSED", "before midnight: tomorrow's name refused", m)
    st = d.read_stats() or {}
    res.eq(st.get("lists", {}).get("seized", [{}])[0].get("family"), "newgoz",
           "the family defaults to the DGA's name")

    # Past midnight the list is generated again for the new day.
    end = time.monotonic() + 15
    st = {}
    while time.monotonic() < end:
        st = d.read_stats() or {}
        if st.get("lists", {}).get("reloads", 0) >= 1:
            break
        time.sleep(0.1)
    res.check(st.get("lists", {}).get("reloads", 0) >= 1, "regenerated after midnight", st.get("lists"))
    for n in tomorrow:
        m = udp_query(d.addr, n, "A")
        res.check(m is not None and m.rcode == "NOERROR", "after midnight: %s answered" % n, m)
    m = udp_query(d.addr, today[0], "A")
    res.check(m is not None and m.rcode == "REFUSED", "after midnight: yesterday's name refused", m)
    d.check_stop(res)
    evs = [e for e in d.events() if e.get("dns", {}).get("rcode") == "NOERROR"]
    res.check(len(evs) == len(today) + len(tomorrow) and all(e.get("family") == "newgoz" for e in evs),
              "answered queries logged with the family", evs[:2])

    # Config errors name the line and the valid choices.
    tmp = make_tmp("sk-dga-cc")
    cfg = os.path.join(tmp, "c.ini")
    base = "[dns]\nlisten = 127.0.0.1:15353\nanswer_a = 192.0.2.1\n[seized.x]\n"
    cases = [
        ("dga = nosuchbot\n", "c.ini:5: dga: unknown family 'nosuchbot'; families: necurs"),
        ("dga = newgoz\nfile = x.txt\n", "c.ini:4: [seized.x] has both 'file' and 'dga'"),
        ("file = x.txt\nseed = 5\n", "c.ini:4: [seized.x]: 'seed' and 'variant' go with 'dga'"),
        ("dga = ranbyus\nseed = zzz\n", "c.ini:5: [seized.x]: "),
    ]
    write_file(os.path.join(tmp, "x.txt"), "a.example\n")
    for extra, want in cases:
        write_file(cfg, base + extra)
        p = run_sinkhole(["check-config", "-c", cfg])
        res.check(p.returncode == 2 and want in p.stderr, "check-config: %s" % extra.strip(),
                  (p.returncode, p.stderr))


if __name__ == "__main__":
    run_main("test_serve_dga", body)
