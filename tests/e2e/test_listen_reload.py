#!/usr/bin/env python3
"""End-to-end: the family rules are reloaded on SIGHUP with the lists.

- a rule's family and reply change on SIGHUP: the next request on a
  keep-alive connection opened before the reload already gets the new
  rule (workers take the rules in force at each request);
- a rules file with a mistake: the reload fails as a whole (the lists too),
  the error names RULESFILE:LINE in the log and in stats.json, and the old
  rules stay in force;
- a reload under traffic loses no request: every one is answered by the
  old rules or the new ones, never by neither;
- stats.json names the rules file and counts its rules.
Every load is bounded in count and time."""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen_clients import (by_src_port, check_fields, connect, http_request,  # noqa: E402
                            read_responses)
from sinkhole_harness import Daemon, run_main, write_file  # noqa: E402

RULES = """\
# The test's rules, version {v}.
rule checkin-{v} family={fam}
    match proto=http http.path="/checkin"
    botid regex="^([0-9a-f]{{8}})$" from=http.header.X-Bot
    reply http status=200 body="{body}"
end
"""


def rules_text(v, fam, body, extra=""):
    return RULES.format(v=v, fam=fam, body=body) + extra


def ask(sock, bot):
    """One keep-alive request on sock; (status, body) of its reply."""
    sock.sendall(http_request("GET", "/checkin", host="c2.test", headers=[("X-Bot", bot)]))
    rs, _, _ = read_responses(sock, 1, timeout=5)
    return (rs[0].status, rs[0].body) if rs else (None, None)


def body(res):
    d = Daemon([("megad", {"names": ["bad.example"]})],
               listeners=[("web", {"sniff": "auto", "idle_timeout_ms": "30000"})],
               rules=rules_text(1, "alpha", "one\\n"), tag="lreload").start()
    rules_path = os.path.join(d.tmp, "rules", d.rules_name())
    web = d.laddr("web")

    st = d.stats()
    res.eq(st["rules"]["rules"], 1, "stats: one rule loaded")
    res.check(st["rules"]["file"].endswith("/rules/test.rules"), "stats: the rules file named",
              st["rules"])

    # A keep-alive connection opened before the reload.
    s = connect(web)
    port = s.getsockname()[1]
    res.eq(ask(s, "0000000a"), (200, b"one\n"), "before the reload: the first rule's reply")

    # --- The rule changes: the same connection gets the new one. ---
    write_file(rules_path, rules_text(2, "beta", "two\\n",
                                      extra="rule other family=gamma\n"
                                      "    match proto=raw\n    reply close\nend\n"))
    st = d.reload()
    res.eq(st["lists"]["reload_failures"], 0, "reload: no failure")
    res.eq(st["rules"]["rules"], 2, "stats: two rules after the reload")
    res.eq(ask(s, "0000000b"), (200, b"two\n"),
           "after the reload: the new rule answers on the same connection")

    # --- A mistake in the rules file: nothing changes. ---
    write_file(rules_path, rules_text(3, "delta", "three\\n")
               + "rule broken family=x\n    match http.path~\"(unclosed\"\nend\n")
    st = d.reload()
    res.eq(st["lists"]["reload_failures"], 1, "broken rules: the reload failed")
    err = st["lists"]["last_reload_error"]
    res.check(rules_path in err and ":" in err.split(rules_path, 1)[1][:2],
              "broken rules: the error names RULESFILE:LINE", err)
    res.check(rules_path in d.stderr(), "broken rules: the error is in the log",
              d.stderr()[-600:])
    res.eq(st["rules"]["rules"], 2, "broken rules: the old two rules stay")
    res.eq(ask(s, "0000000c"), (200, b"two\n"), "broken rules: the old rule still answers")
    s.close()

    # --- Reloads under traffic: every request answered by one rule set. ---
    write_file(rules_path, rules_text(4, "epsilon", "four\\n"))
    stop = threading.Event()
    seen = {"ok": 0, "bad": []}

    def load():
        c = connect(web)
        deadline = time.monotonic() + 20
        i = 0
        while not stop.is_set() and time.monotonic() < deadline and i < 20000:
            got = ask(c, "%08x" % (0x1000 + i))
            i += 1
            if got in ((200, b"two\n"), (200, b"four\n")):
                seen["ok"] += 1
            else:
                seen["bad"].append(got)
                break
        c.close()

    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.3)
    st = d.reload()
    time.sleep(0.3)
    stop.set()
    t.join(30)
    res.eq(seen["bad"], [], "reload under traffic: no request lost or misanswered")
    res.check(seen["ok"] > 10, "reload under traffic: requests were made", seen["ok"])
    res.eq(st["lists"]["reload_failures"], 1, "reload under traffic: it succeeded")

    # --- The events: family and bot id from the rules in force. ---
    evs = d.wait_conn_events(lambda e: len(e) >= 3 + seen["ok"], timeout=8)
    mine = sorted(by_src_port(evs, port), key=lambda e: e.get("http", {}).get("request", 0))
    res.eq(len(mine), 3, "three events from the first connection")
    if len(mine) == 3:
        check_fields(res, mine[0], {"family": "alpha", "bot_id": "0000000a",
                                    "rule": "checkin-1"}, "before the reload")
        check_fields(res, mine[1], {"family": "beta", "bot_id": "0000000b",
                                    "rule": "checkin-2"}, "after the reload")
        check_fields(res, mine[2], {"family": "beta", "bot_id": "0000000c",
                                    "rule": "checkin-2"}, "after the failed reload")
    d.check_stop(res, "reload daemon")


if __name__ == "__main__":
    run_main("test_listen_reload", body)
