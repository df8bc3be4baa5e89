"""Start NSD and the sinkhole on loopback, serving the same seized names.

Both get their files in a temp dir and a free 127.0.0.1 port. NSD runs in
the foreground (nsd -d) with no database, no remote control, no privilege
drop and no rate limiting; each seized name is its own zone with SOA and NS
at the apex and the list's addresses at the apex and at "*" below it. A
seized name below another one also gets a delegation (NS) in the parent's
zone, as the parent zone of a real child would hold it.

Each server is stopped by the PID we started, never by name.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import dnswire


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (just now)."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            u.close()
            continue
        t.close()
        u.close()
        return port
    raise RuntimeError("no free port on 127.0.0.1")


def probe(port, name, timeout=0.3):
    """One SOA query over UDP; True when any reply comes back."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(dnswire.build_query(0x4242, name, 6), ("127.0.0.1", port))
        data, _ = s.recvfrom(65535)
        return len(data) >= 12
    except OSError:
        return False
    finally:
        s.close()


class Server:
    label = "server"

    def __init__(self, workdir, port):
        self.dir = workdir
        self.port = port
        self.proc = None
        self.log_path = os.path.join(workdir, "stderr.log")

    def _spawn(self, argv):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)

    def wait_ready(self, probe_name, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.label, self.proc.returncode,
                                                                self.log_tail()))
            if probe(self.port, probe_name):
                return
            time.sleep(0.1)
        raise RuntimeError("%s not answering on port %d after %.0fs:\n%s" % (
            self.label, self.port, timeout, self.log_tail()))

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        extra = getattr(self, "extra_log", None)
        if extra and os.path.exists(extra):
            with open(extra, "rb") as f:
                data += f.read()
        return data[-n:].decode("utf-8", "replace")

    def stop(self, timeout=10.0):
        """SIGTERM to our own child; returns its exit status (None if it
        had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._log.close()
                return None
        self._log.close()
        return self.proc.returncode


def zone_text(apex, zone, answers, children):
    lines = ["$ORIGIN %s." % apex, "$TTL %d" % zone["ttl"],
             "@ IN SOA %s. %s. %s %s %s %s %s" % (
                 zone["soa_mname"], zone["soa_rname"], zone["soa_serial"],
                 zone["soa_refresh"], zone["soa_retry"], zone["soa_expire"],
                 zone["soa_minimum"])]
    for ns in zone["ns"]:
        lines.append("@ IN NS %s." % ns)
    for owner in ("@", "*"):
        for a in answers["a"]:
            lines.append("%s IN A %s" % (owner, a))
        for a in answers["aaaa"]:
            lines.append("%s IN AAAA %s" % (owner, a))
    for child in children:
        for ns in zone["ns"]:
            lines.append("%s. IN NS %s." % (child, ns))
    return "\n".join(lines) + "\n"


def closest_children(apex, all_names):
    """Seized names below apex with no other seized name in between."""
    below = [n for n in all_names if n != apex and n.endswith("." + apex)]
    out = []
    for n in below:
        between = [m for m in below if m != n and n.endswith("." + m)]
        if not between:
            out.append(n)
    return sorted(out)


def sbin(name):
    """A program from /usr/sbin, which is often not on a user's PATH."""
    found = shutil.which(name)
    if found:
        return found
    path = os.path.join("/usr/sbin", name)
    return path if os.path.exists(path) else None


class Nsd(Server):
    label = "nsd"

    def __init__(self, workdir, port, zone, lists):
        super().__init__(workdir, port)
        self.binary = sbin("nsd")
        self.extra_log = os.path.join(workdir, "nsd.log")
        all_names = [n for lst in lists for n in lst["names"]]
        conf = [
            "server:",
            "    ip-address: 127.0.0.1@%d" % port,
            "    port: %d" % port,
            "    do-ip4: yes",
            "    do-ip6: no",
            "    server-count: 1",
            '    username: ""',
            '    chroot: ""',
            '    database: ""',
            "    zonesdir: \"%s\"" % workdir,
            "    zonelistfile: \"%s/zone.list\"" % workdir,
            "    xfrdfile: \"%s/xfrd.state\"" % workdir,
            "    xfrdir: \"%s\"" % workdir,
            "    pidfile: \"%s/nsd.pid\"" % workdir,
            "    logfile: \"%s/nsd.log\"" % workdir,
            "    zonefiles-write: 0",
            "    verbosity: 1",
            "    hide-version: yes",
            "    hide-identity: yes",
            "    rrl-ratelimit: 0",
            "    minimal-responses: yes",
            "    refuse-any: no",
            "    ipv4-edns-size: 1232",
            "    ipv6-edns-size: 1232",
            "    tcp-count: 256",
            "    tcp-query-count: 0",
            "remote-control:",
            "    control-enable: no",
        ]
        for lst in lists:
            for apex in lst["names"]:
                fname = apex + ".zone"
                with open(os.path.join(workdir, fname), "w") as f:
                    f.write(zone_text(apex, zone, lst["answers"],
                                      closest_children(apex, all_names)))
                conf += ["zone:", "    name: %s" % apex, "    zonefile: \"%s\"" % fname]
        self.conf_path = os.path.join(workdir, "nsd.conf")
        with open(self.conf_path, "w") as f:
            f.write("\n".join(conf) + "\n")

    def check(self):
        r = subprocess.run([sbin("nsd-checkconf") or "nsd-checkconf", self.conf_path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nsd-checkconf: " + r.stdout + r.stderr)

    def start(self):
        self._spawn([self.binary, "-d", "-c", self.conf_path])


class Sinkhole(Server):
    label = "sinkhole"

    def __init__(self, workdir, port, zone, lists, defaults, binary, extra=()):
        super().__init__(workdir, port)
        self.binary = binary
        os.makedirs(os.path.join(workdir, "lists"), exist_ok=True)
        conf = [
            "[server]",
            "node = diff",
            "data_dir = data",
            "workers = 2",
            "log_level = warn",
            "",
            "[dns]",
            "listen = 127.0.0.1:%d" % port,
            "answer_a = " + " ".join(defaults["a"]),
            "answer_aaaa = " + " ".join(defaults["aaaa"]),
            "ttl = %d" % zone["ttl"],
            "not_seized = refuse",
        ]
        for k in ("soa_mname", "soa_rname", "soa_serial", "soa_refresh", "soa_retry",
                  "soa_expire", "soa_minimum"):
            conf.append("%s = %s" % (k, zone[k]))
        conf += ["ns = " + " ".join(zone["ns"]), "rrl_ratelimit = 0"]
        # KEY=VALUE overrides of [dns] keys, to see the test catch a change.
        for kv in extra:
            key = kv.split("=", 1)[0].strip()
            conf = [c for c in conf if c.split("=", 1)[0].strip() != key]
            conf.append(kv)
        conf.append("")
        for lst in lists:
            path = os.path.join("lists", lst["name"] + ".txt")
            with open(os.path.join(workdir, path), "w") as f:
                f.write("# list %s\n" % lst["name"])
                f.write("\n".join(lst["names"]) + "\n")
            conf += ["[seized.%s]" % lst["name"], "file = " + path]
            if lst["own_answers"]:
                if lst["answers"]["a"]:
                    conf.append("answer_a = " + " ".join(lst["answers"]["a"]))
                if lst["answers"]["aaaa"]:
                    conf.append("answer_aaaa = " + " ".join(lst["answers"]["aaaa"]))
            conf.append("")
        for line in conf:
            if len(line) >= 199:  # libinih reads at most 200 bytes a line
                raise ValueError("sinkhole config line too long: " + line[:60])
        self.conf_path = os.path.join(workdir, "sinkhole.ini")
        with open(self.conf_path, "w") as f:
            f.write("\n".join(conf))

    def check(self):
        r = subprocess.run([self.binary, "check-config", "-c", self.conf_path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("sinkhole check-config: " + r.stdout + r.stderr)

    def start(self):
        self._spawn([self.binary, "serve", "-c", self.conf_path])
