#!/usr/bin/python3
"""A Cocaine worker (protocol v1, cocaine-protocol.md 5.3) in Python with python3-msgpack
only, as the frameworks behave on the wire (12a.1, 12a.7): 3-element frames, handshake then
heartbeat on channel 1, terminate echoed, unknown events answered [[42, 200], ...].

Events: ping (echo each chunk), upper (the whole body upper-cased, one chunk), headers
(one chunk per invoke header: its name), cache (the body is a key: read it from the storage
service, collection "qr-codes", found through --locator; on a miss compute the value (the key
upper-cased), write it and answer "miss:<value>", else "hit:<value>" — as the QR-code worker
of the "Cocaine in action" article uses storage)."""
import os
import select
import socket
import sys
import time

import msgpack


def arg(name, default=None):
    try:
        return sys.argv[sys.argv.index(name) + 1]
    except (ValueError, IndexError):
        return default


class Session:
    def __init__(self, event, headers):
        self.event = event
        self.headers = headers
        self.body = []
        self.done = False  # our side finished


class Worker:
    def __init__(self):
        self.uuid = arg("--uuid")
        self.endpoint = arg("--endpoint")
        self.app = arg("--app")
        if arg("--protocol") != "1" or not self.uuid or not self.endpoint:
            sys.stderr.write("pyworker: need --uuid, --endpoint and --protocol 1\n")
            sys.exit(2)
        self.heartbeat = float(os.environ.get("PYWORKER_HEARTBEAT", "5"))
        self.disown = max(5.0, 10 * self.heartbeat)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.endpoint)
        self.unpacker = msgpack.Unpacker(raw=True, strict_map_key=False)
        self.sessions = {}

    def send(self, *frame):
        self.sock.sendall(msgpack.packb(list(frame), use_bin_type=False))

    def reply(self, ch, mid, *args):
        self.send(ch, mid, list(args))

    def run(self):
        self.send(1, 0, [self.uuid])  # handshake
        self.send(1, 0, [])  # heartbeat
        next_hb = time.time() + self.heartbeat
        last_rx = time.time()
        sys.stderr.write("pyworker %s for %s: running\n" % (self.uuid, self.app))
        sys.stderr.flush()
        while True:
            now = time.time()
            if now >= next_hb:
                self.send(1, 0, [])
                next_hb = now + self.heartbeat
            if now - last_rx > self.disown:
                sys.stderr.write("pyworker: disowned\n")
                return 1
            r, _, _ = select.select([self.sock], [], [], max(0.0, next_hb - now))
            if not r:
                continue
            data = self.sock.recv(65536)
            if not data:
                sys.stderr.write("pyworker: the runtime closed the connection\n")
                return 1
            last_rx = time.time()
            self.unpacker.feed(data)
            for frame in self.unpacker:
                if self.handle(frame):
                    return 0

    def cache(self, key):
        import nodeclient as nc  # from this file's directory
        host, port = arg("--locator").rsplit(":", 1)
        storage = nc.Service("storage", locator=(host, int(port)), timeout=5)
        try:
            try:
                return b"hit:" + storage.call("read", "qr-codes", key)[0]
            except nc.ServiceError:
                value = key.upper()
                storage.call("write", "qr-codes", key, value, ["cache"])
                return b"miss:" + value
        finally:
            storage.close()

    def handle(self, frame):
        ch, mid, args = frame[0], frame[1], frame[2]
        headers = frame[3] if len(frame) > 3 else []
        if ch == 1:
            if mid == 1:  # terminate: echo, then exit
                self.send(1, 1, args)
                return True
            return False  # heartbeat reply
        s = self.sessions.get(ch)
        if s is None:
            if mid != 0:
                return False  # not an invoke: dropped silently (12a.7)
            event = args[0].decode()
            s = self.sessions[ch] = Session(event, headers)
            if event not in ("ping", "upper", "headers", "cache"):
                self.reply(ch, 1, [42, 200], "there is no handler for event %s" % event)
                s.done = True
            elif event == "headers":
                for h in headers:
                    name = h[1] if isinstance(h, list) else h
                    self.reply(ch, 0, name if isinstance(name, bytes) else str(name).encode())
            return False
        if mid == 0:  # write
            if not s.done and s.event == "ping":
                self.reply(ch, 0, args[0])
            s.body.append(args[0])
        elif mid in (1, 2):  # error or close from the runtime
            if not s.done:
                if s.event == "upper":
                    self.reply(ch, 0, b"".join(s.body).upper())
                elif s.event == "cache":
                    self.reply(ch, 0, self.cache(b"".join(s.body)))
                self.reply(ch, 2)
            del self.sessions[ch]
        return False


if __name__ == "__main__":
    sys.exit(Worker().run())
