#!/usr/bin/python3
"""Many concurrent kernel TCP connections, run inside the lab namespace.
  conn_client.py HOST PORT N [SRC_ADDRS]
Opens N connections (in waves, non-blocking; from the comma-separated source addresses in
turn when given), prints {"ready": N, ...} on a line once all are established and waits for
a line on standard input; then every connection sends 64 bytes of its own, reads them back
(an echo server), and closes; prints one JSON line of results. Exits non-zero on any failure.
"""
import json
import resource
import selectors
import socket
import sys
import time

HOST, PORT, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
SRCS = sys.argv[4].split(",") if len(sys.argv) > 4 and sys.argv[4] else [None]
WAVE = 500
DEADLINE = time.monotonic() + 240


def die(msg, **kw):
    print(json.dumps(dict(ok=False, error=msg, **kw)), flush=True)
    sys.exit(1)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, N + 100)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    sel = selectors.DefaultSelector()
    socks = []
    t0 = time.monotonic()
    opened = 0
    retries = 0
    while opened < N:
        wave = []
        for _ in range(min(WAVE, N - opened)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            src = SRCS[(opened + len(wave)) % len(SRCS)]
            if src:
                s.bind((src, 0))
            s.setblocking(False)
            s.connect_ex((HOST, PORT))
            sel.register(s, selectors.EVENT_WRITE)
            wave.append(s)
        pending = set(wave)
        while pending:
            if time.monotonic() > DEADLINE:
                die("connect timed out", opened=opened, pending=len(pending))
            for key, _ in sel.select(timeout=1.0):
                s = key.fileobj
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                sel.unregister(s)
                pending.discard(s)
                if err != 0:
                    die("connect failed: errno %d" % err, opened=opened)
        socks.extend(wave)
        opened += len(wave)
    setup = time.monotonic() - t0
    print(json.dumps({"ready": opened, "seconds": round(setup, 2), "retries": retries}), flush=True)
    sys.stdin.readline()

    # every connection: send 64 bytes of its own, read them back, close
    t1 = time.monotonic()
    want = {}
    got = {}
    for i, s in enumerate(socks):
        msg = (b"%08d" % i) * 8
        want[s] = msg
        got[s] = b""
        s.send(msg)
        sel.register(s, selectors.EVENT_READ)
    left = len(socks)
    bad = 0
    while left:
        if time.monotonic() > DEADLINE:
            die("echo timed out", left=left)
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            d = s.recv(4096)
            if not d:
                die("connection closed early")
            got[s] += d
            if len(got[s]) >= len(want[s]):
                if got[s] != want[s]:
                    bad += 1
                sel.unregister(s)
                s.shutdown(socket.SHUT_WR)
                left -= 1
    # clean close: the server's FIN arrives after ours
    for s in socks:
        s.setblocking(True)
        s.settimeout(10)
        try:
            if s.recv(1) != b"":
                bad += 1
        except OSError:
            bad += 1
        s.close()
    print(json.dumps({"ok": bad == 0, "connections": len(socks), "bad": bad,
                      "setup_seconds": round(setup, 2),
                      "echo_seconds": round(time.monotonic() - t1, 2)}), flush=True)
    sys.exit(0 if bad == 0 else 1)


main()
