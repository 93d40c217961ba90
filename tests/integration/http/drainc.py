#!/usr/bin/python3
"""Clients for the graceful drain test (test_lab_drain.py), run inside the lab namespace.
Driven by lines on standard input; each step prints one JSON line.

  drainc.py inflight N IDLE_WAIT_S
      before: N uploads to /-/mirror (even ones chunked, odd ones Content-Length, 100-400 KB
      of random bytes) send their head and the first half of their body; one keep-alive
      connection asks /-/health and stays idle; another ("health") does the same, then sends
      a /-/health head without its final CRLF. Prints {"ready": N}.
      "refuse": a new connection to 198.18.0.2:80 must be refused (RST); then the "health"
      connection ends its head: 503 draining with Connection: close, then the close.
      Prints {"refused": ..., "health": ...}.
      "finish": the uploads send the rest; each must get its complete 200 with the body's
      length and CRC-32; then the idle connection must be closed by sluiced (FIN) within
      IDLE_WAIT_S. Prints the result: {"ok": ..., "failures": [...], "idle_closed": ...}.
  drainc.py hang
      one upload that sends its head and 1,000 of its 100,000 body bytes and never more.
      Prints {"ready": 1}; on "finish" (or the end of input) it closes and prints the result.
"""
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from httpc import CLIENT_IP, HEALTH, PORT, SERVER, Conn, Fail, check_mirror_answer, short  # noqa: E402


def out(obj):
    print(json.dumps(obj), flush=True)


def wait_line(want):
    line = sys.stdin.readline().strip()
    if line != want:
        out({"ok": False, "failures": ["expected %r on stdin, got %r" % (want, line)]})
        sys.exit(1)


class Upload:
    def __init__(self, i):
        rnd = random.Random(1000 + i)
        self.i = i
        self.chunked = i % 2 == 0
        self.body = rnd.randbytes(100000 + 50000 * i)
        self.rid = b"drain-%02d" % i
        self.half = len(self.body) // 2
        self.c = Conn(timeout=10)
        head = b"POST /-/mirror HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " + self.rid + b"\r\n"
        if self.chunked:
            head += b"Transfer-Encoding: chunked\r\n\r\n"
        else:
            head += b"Content-Length: %d\r\n\r\n" % len(self.body)
        self.c.send(head + self.frame(self.body[:self.half]))

    def frame(self, data, last=False):
        if not self.chunked:
            return data
        parts = [b"%x\r\n" % len(data[k:k + 8192]) + data[k:k + 8192] + b"\r\n"
                 for k in range(0, len(data), 8192)]
        return b"".join(parts) + (b"0\r\n\r\n" if last else b"")

    def finish(self):
        self.c.send(self.frame(self.body[self.half:], last=True))

    def check(self):
        r = self.c.response(timeout=10)
        check_mirror_answer(r, b"/-/mirror", self.body, self.rid)
        want = b"body-length: %d\n" % len(self.body)
        if want not in r.body:
            raise Fail("upload %d: no %r in the dump" % (self.i, want))
        return r


def run_inflight(n, idle_wait):
    ups = [Upload(i) for i in range(n)]
    idle = Conn(timeout=10)
    health = Conn(timeout=10)
    for c in (idle, health):
        c.send(HEALTH)
        r = c.response(timeout=5)
        if r.status != 200 or r.closes():
            out({"ok": False, "failures": ["keep-alive /-/health before the drain: " + r.desc()]})
            sys.exit(1)
    health.send(HEALTH[:-2])  # a request begun: not idle
    time.sleep(0.3)  # the heads and first halves are in
    out({"ready": n, "bytes_first_half": sum(u.half for u in ups)})

    wait_line("refuse")
    res = {}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    s.bind((CLIENT_IP, 0))
    t0 = time.monotonic()
    try:
        s.connect((SERVER, PORT))
        res["refused"] = "connected"
    except ConnectionRefusedError:
        res["refused"] = "refused"
    except socket.timeout:
        res["refused"] = "timeout"
    except OSError as e:
        res["refused"] = "error: %s" % e
    res["refuse_ms"] = round((time.monotonic() - t0) * 1000, 1)
    s.close()
    try:
        health.send(HEALTH[-2:])
        r = health.response(timeout=5)
        res["health"] = r.body.decode("latin-1").strip()
        res["health_closes"] = r.closes()
        health.expect_eof(timeout=3)
        res["health_eof"] = True
    except (Fail, OSError) as e:
        res["health"] = "closed before: %s" % e
    health.close()  # done with it: sluiced need not linger
    out(res)

    wait_line("finish")
    failures = []
    res = {"uploads": n, "answered": 0, "closes": 0}
    for u in ups:
        try:
            u.finish()
        except OSError as e:
            failures.append("upload %d: sending the second half: %s" % (u.i, e))
    for u in ups:
        try:
            r = u.check()
            res["answered"] += 1
            res["closes"] += r.closes()
        except Fail as e:
            failures.append("upload %d (%s, %d bytes): %s" % (u.i, "chunked" if u.chunked else "length",
                                                            len(u.body), e))
        u.c.close()
    t0 = time.monotonic()
    try:
        idle.expect_eof(timeout=idle_wait)
        res["idle_closed"] = True
    except Fail as e:
        res["idle_closed"] = False
        res["idle_detail"] = str(e)
    res["idle_wait_ms"] = round((time.monotonic() - t0) * 1000, 1)
    idle.close()
    res["failures"] = failures
    res["ok"] = not failures
    out(res)


def run_hang():
    c = Conn(timeout=10)
    c.send(b"POST /-/mirror HTTP/1.1\r\nHost: lab\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
    time.sleep(0.3)
    out({"ready": 1})
    sys.stdin.readline()
    got = b""
    c.s.setblocking(False)
    try:
        got = c.s.recv(65536)
    except (BlockingIOError, OSError):
        pass
    c.close()
    out({"ok": True, "failures": [], "got": short(got)})


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "inflight":
        run_inflight(int(sys.argv[2]), float(sys.argv[3]))
    elif mode == "hang":
        run_hang()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        out({"ok": False, "failures": ["aborted: %s" % e]})
        sys.exit(1)
