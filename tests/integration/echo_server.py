#!/usr/bin/python3
"""A kernel TCP echo server for the lab tests (one thread per connection, blocking I/O, so a
slow reader is never dropped): echo_server.py ADDR PORT [SECONDS]. Prints "listening" once
ready; exits after SECONDS (default 600)."""
import socket
import sys
import threading
import time


def serve(c):
    try:
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    life = float(sys.argv[3]) if len(sys.argv) > 3 else 600.0
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    s.settimeout(0.5)
    print("listening", flush=True)
    end = time.monotonic() + life
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()


main()
