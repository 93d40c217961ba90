#!/usr/bin/python3
"""The graceful drain on SIGTERM (issue 11): sluiced with limits.drain_timeout_ms 3000, run
by this test in the lab namespace (so its exit status is ours to read), clients from
http/drainc.py.

  inflight  6 uploads to /-/mirror mid-body at the signal, an idle keep-alive connection, and
            one with a /-/health head begun before the signal and ended after it: a new
            connection is refused (RST) and syn_refused_draining grows by one; `show info` and
            `show stats` say "stopping" and count the requests in flight; health answers 503
            with Connection: close; the uploads send the rest after the signal and each gets
            its complete 200 (Connection: close) with the right length and CRC-32; the idle
            connection is closed by sluiced (sl_http_server_drain()); sluiced exits 0 once
            all is done, well before the drain timeout.
  timeout   a request that never finishes: sluiced exits 0 at the drain timeout (+-1 s) and
            logs the one request it cut.
  twice     a second SIGTERM during the drain stops at once (exit 0 within 1 s)."""
import json
import os
import select
import signal
import subprocess
import threading
import time

import labtest as t

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "http", "drainc.py")
CFG = "/tmp/sluice-drain-%s.json" % t.NAME
STATE = "/run/sluice/%s" % t.NAME
SLUICED = os.path.join(t.BUILD, "apps", "sluiced", "sluiced")
DRAIN_MS = 3000
N_UPLOADS = 6


class Sluiced:
    """sluiced as our child in the lab namespace, with the lab's generated config."""

    def __init__(self):
        old = self._lab_pid()
        if old:
            os.kill(old, signal.SIGINT)  # at once
            for _ in range(100):
                if not os.path.exists("/proc/%d" % old):
                    break
                time.sleep(0.1)
        self.log0 = os.path.getsize(STATE + "/log") if os.path.exists(STATE + "/log") else 0
        self.logf = open(STATE + "/log", "ab")
        self.p = subprocess.Popen(["ip", "netns", "exec", t.NS, SLUICED, "--config", STATE + "/config.json"],
                                  stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        with open(STATE + "/pid", "w") as f:  # `tools/lab down` stops it if we fail
            f.write("%d\n" % self.p.pid)
        for _ in range(100):
            if self.p.poll() is not None:
                raise AssertionError("sluiced exited at start: %d\n%s" % (self.p.returncode, self.log()))
            if t.ctl("show", "info", check=False)[0] == 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("sluiced does not answer on its control socket\n" + self.log())
        r = t.nsx("/usr/bin/python3", "-c",
                  "import socket\ns=socket.create_connection(('198.18.0.2',80),timeout=10)\n"
                  "s.sendall(b'GET /-/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
                  "d=b''\nwhile True:\n c=s.recv(4096)\n if not c: break\n d+=c\nprint(d.split(b'\\r\\n')[0].decode())",
                  check=False, timeout=30)
        assert r.stdout.strip() == "HTTP/1.1 200 OK", "warm-up GET /-/health: %r %r" % (r.stdout, r.stderr)
        self._wait_idle()

    @staticmethod
    def _lab_pid():
        try:
            pid = int(open(STATE + "/pid").read())
            return pid if open("/proc/%d/comm" % pid).read().strip() == "sluiced" else None
        except (OSError, ValueError):
            return None

    def _wait_idle(self, wait=5):
        """The warm-up connection is gone (its linger and close)."""
        deadline = time.monotonic() + wait
        while t.ctl("show", "stats")[1]["http_total"]["active"] != 0:
            assert time.monotonic() < deadline, "the warm-up connection is still open after %d s" % wait
            time.sleep(0.1)

    def log(self):
        with open(STATE + "/log", "rb") as f:
            f.seek(self.log0)
            return f.read().decode(errors="replace")

    def term(self):
        """SIGTERM; a thread notes when sluiced exits, while the clients still run."""
        self.t_exit = None

        def waiter():
            self.p.wait()
            self.t_exit = time.monotonic()
        self.waiter = threading.Thread(target=waiter, daemon=True)
        self.waiter.start()
        self.t_sig = time.monotonic()
        self.p.send_signal(signal.SIGTERM)

    def wait_exit(self, within_s):
        """sluiced exited at most `within_s` after the signal; @return seconds from the signal
        to the exit."""
        self.waiter.join(timeout=max(self.t_sig + within_s - time.monotonic(), 0.01))
        if self.t_exit is None or self.t_exit - self.t_sig > within_s:
            raise AssertionError("sluiced still ran %.1f s after SIGTERM (drain timeout %d ms)\n%s" % (
                within_s, DRAIN_MS, self.log()))
        dt = self.t_exit - self.t_sig
        self.logf.close()
        os.unlink(STATE + "/pid")
        assert self.p.returncode == 0, "sluiced exit status %d after SIGTERM\n%s" % (self.p.returncode, self.log())
        assert "signal Terminated: stopping after a drain" in self.log(), self.log()
        t.log("sluiced exited 0, %.2f s after SIGTERM" % dt)
        return dt


class Client:
    """drainc.py in the namespace, one JSON line per step."""

    def __init__(self, *args):
        self.p = subprocess.Popen(["ip", "netns", "exec", t.NS, "/usr/bin/python3", CLIENT] + [str(a) for a in args],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""

    def line(self, timeout=30):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            rem = deadline - time.monotonic()
            r, _, _ = select.select([self.p.stdout], [], [], max(rem, 0))
            if not r:
                self.p.kill()
                raise AssertionError("drainc.py: no answer in %d s (stderr: %s)" % (
                    timeout, self.p.stderr.read().decode(errors="replace")[-2000:]))
            d = os.read(self.p.stdout.fileno(), 65536)
            if not d:
                raise AssertionError("drainc.py ended: %s" % self.p.stderr.read().decode(errors="replace")[-3000:])
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        res = json.loads(ln)
        t.log("drainc: %s" % json.dumps(res))
        if res.get("failures") or res.get("ok") is False:
            raise AssertionError("drainc.py: %s" % "\n  ".join(res.get("failures") or ["not ok"]))
        return res

    def say(self, word, timeout=30):
        self.p.stdin.write(word.encode() + b"\n")
        self.p.stdin.flush()
        return self.line(timeout)

    def end(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def stats():
    return t.ctl("show", "stats")[1]


def up():
    c = json.load(open(os.path.join(t.ROOT, "config", "lab.json")))
    c.setdefault("limits", {})["drain_timeout_ms"] = DRAIN_MS
    with open(CFG, "w") as f:
        json.dump(c, f, indent=2)
    t.lab("down", check=False)
    r = t.lab("up", "--workers", "2", "--config", CFG)
    os.unlink(CFG)
    assert t.socket_path() in r.stdout, r.stdout


def scenario_inflight():
    sd = Sluiced()
    cl = Client("inflight", N_UPLOADS, DRAIN_MS / 1000.0 + 1.5)
    try:
        cl.line(timeout=30)
        s0 = stats()
        assert s0["state"] == "running", s0["state"]
        assert s0["http_total"]["inflight"] == N_UPLOADS, "in flight before the signal: %d, expected %d" % (
            s0["http_total"]["inflight"], N_UPLOADS)
        refused0 = s0["tcp_total"]["syn_refused_draining"]
        assert refused0 == 0, refused0

        sd.term()
        time.sleep(0.3)
        info = t.ctl("show", "info")[1]
        assert info["state"] == "stopping", info.get("state")
        assert info["drain"]["inflight"] == N_UPLOADS, info["drain"]
        assert 0 < info["drain"]["timeout_in_ms"] <= DRAIN_MS, info["drain"]

        res = cl.say("refuse")
        assert res["refused"] == "refused", "a new connection after SIGTERM: %s" % res["refused"]
        assert res["refuse_ms"] < 1000, res
        assert res["health"] == "503 Service Unavailable: draining", res
        assert res["health_closes"] and res.get("health_eof"), res
        s1 = stats()
        assert s1["state"] == "stopping", s1["state"]
        assert s1["http_total"]["draining"] is True, s1["http_total"]
        assert s1["tcp_total"]["syn_refused_draining"] == refused0 + 1, \
            "syn_refused_draining %d -> %d" % (refused0, s1["tcp_total"]["syn_refused_draining"])
        assert s1["drain"]["inflight"] == N_UPLOADS, s1["drain"]
        t.log("after SIGTERM: state %s, drain %s, syn_refused_draining %d" % (
            s1["state"], json.dumps(s1["drain"]), s1["tcp_total"]["syn_refused_draining"]))

        res = cl.say("finish", timeout=30)
        assert res["answered"] == N_UPLOADS and res["closes"] == N_UPLOADS, res
    finally:
        cl.end()
    dt = sd.wait_exit(DRAIN_MS / 1000.0 + 1.0)
    log = sd.log()
    assert res["idle_closed"], "the idle keep-alive connection was not closed by the drain: %s" % (
        res.get("idle_detail"))
    assert "drained in" in log and "drain timeout" not in log, log
    assert dt < DRAIN_MS / 1000.0 - 1.0, "drained, yet the exit came %.2f s after SIGTERM" % dt


def scenario_timeout():
    sd = Sluiced()
    cl = Client("hang")
    try:
        cl.line(timeout=30)
        assert stats()["http_total"]["inflight"] == 1
        sd.term()
        dt = sd.wait_exit(DRAIN_MS / 1000.0 + 1.0)
        cl.say("finish")
    finally:
        cl.end()
    assert dt >= DRAIN_MS / 1000.0 - 1.0, "exit %.2f s after SIGTERM, before the drain timeout" % dt
    log = sd.log()
    assert "drain timeout (limits.drain_timeout_ms %d) reached" % DRAIN_MS in log, log
    assert "1 requests still in flight cut" in log, log


def scenario_twice():
    sd = Sluiced()
    cl = Client("hang")
    try:
        cl.line(timeout=30)
        sd.term()
        time.sleep(0.5)
        assert t.ctl("show", "info")[1]["state"] == "stopping"
        t2 = time.monotonic()
        sd.p.send_signal(signal.SIGTERM)
        sd.wait_exit(t2 - sd.t_sig + 1.0)
        cl.say("finish")
    finally:
        cl.end()
    log = sd.log()
    assert "signal Terminated: stopping at once" in log and "1 requests still in flight cut" in log, log
    assert "stopped" in log, log
    t.log("a second SIGTERM: exit %.2f s after it" % (sd.t_exit - t2))


def test():
    up()
    scenario_inflight()
    scenario_timeout()
    scenario_twice()


t.main(test, 300)
