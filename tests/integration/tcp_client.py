#!/usr/bin/python3
"""Kernel-side TCP clients for the lab tests, run inside the lab namespace.
  tcp_client.py echo HOST PORT BYTES        send BYTES while reading them back, compare SHA-256
  tcp_client.py chargen HOST PORT N BYTES   N sequential connections, read BYTES, check the lines
  tcp_client.py discard HOST PORT N BYTES   N sequential connections, send BYTES, clean close
  tcp_client.py rr HOST PORT CONNS ROUNDS   1-byte request/response on CONNS connections
Prints one JSON line of results; exits non-zero on any mismatch."""
import hashlib
import json
import os
import socket
import sys
import threading
import time


def connect(host, port):
    s = socket.create_connection((host, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def echo(host, port, total):
    s = connect(host, port)
    block = os.urandom(1 << 20)
    sent_hash, recv_hash = hashlib.sha256(), hashlib.sha256()
    err = []

    def sender():
        try:
            left, i = total, 0
            while left > 0:
                # vary the block so a shifted stream cannot match
                chunk = block[i % 997:] + block[:i % 997]
                chunk = chunk[:min(left, len(chunk))]
                s.sendall(chunk)
                sent_hash.update(chunk)
                left -= len(chunk)
                i += 1
            s.shutdown(socket.SHUT_WR)
        except Exception as e:  # noqa: BLE001
            err.append(repr(e))

    t0 = time.monotonic()
    th = threading.Thread(target=sender)
    th.start()
    got = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        recv_hash.update(d)
        got += len(d)
    th.join()
    s.close()
    dt = time.monotonic() - t0
    ok = not err and got == total and sent_hash.hexdigest() == recv_hash.hexdigest()
    return ok, {"bytes": got, "expected": total, "seconds": round(dt, 2),
                "mbit_s": round(got * 8 / dt / 1e6, 1), "sha256_match": sent_hash.hexdigest() == recv_hash.hexdigest(),
                "errors": err}


def chargen_expected(n):
    chars = "".join(chr(c) for c in range(32, 127))
    out, line = [], 0
    size = 0
    while size < n:
        l = "".join(chars[(line + k) % 95] for k in range(72)) + "\r\n"
        out.append(l)
        size += 74
        line += 1
    return "".join(out).encode()[:n]


def chargen(host, port, n, nbytes):
    want = chargen_expected(nbytes)
    bad = 0
    t0 = time.monotonic()
    for _ in range(n):
        s = connect(host, port)
        buf = b""
        while len(buf) < nbytes:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        if buf[:nbytes] != want:
            bad += 1
    return bad == 0, {"connections": n, "bad": bad, "seconds": round(time.monotonic() - t0, 2)}


def discard(host, port, n, nbytes):
    data = os.urandom(nbytes)
    bad = 0
    t0 = time.monotonic()
    for _ in range(n):
        s = connect(host, port)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        # discard sends nothing and closes once it has seen our FIN
        if s.recv(1) != b"":
            bad += 1
        s.close()
    return bad == 0, {"connections": n, "bad": bad, "seconds": round(time.monotonic() - t0, 2)}


def rr(host, port, conns, rounds):
    socks = [connect(host, port) for _ in range(conns)]
    t0 = time.monotonic()
    for r in range(rounds):
        for s in socks:
            s.sendall(b"x")
        for s in socks:
            if s.recv(1) != b"x":
                return False, {"error": "bad echo"}
    dt = time.monotonic() - t0
    for s in socks:
        s.close()
    n = conns * rounds
    return True, {"round_trips": n, "seconds": round(dt, 3), "rtt_us": round(dt / rounds * 1e6, 1)}


def main():
    kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = [int(a) for a in sys.argv[4:]]
    ok, res = {"echo": echo, "chargen": chargen, "discard": discard, "rr": rr}[kind](host, port, *args)
    res["ok"] = ok
    print(json.dumps(res))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
