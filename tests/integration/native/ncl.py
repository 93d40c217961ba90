"""ncl: a Cocaine 0.12 client for the native-front tests (python3-msgpack only).

It speaks what an unmodified Cocaine 0.12 client puts on the wire (cocaine-protocol.md 1, 2.3,
4.2, 12a): frames `[channel, type, [args], headers]` with `[false, name, value]` headers or an
empty header array, strings in the old msgpack spec (raw) unless asked otherwise. It reads
3- or 4-element frames, decodes the header list with the 83-entry static table and a
per-connection 4096-byte dynamic table (1.4, 12a.3), and follows each channel's dispatch graph
the way cocaine-framework-python does (1.6): a reply that the channel's state does not allow,
or a message on a channel it never opened, raises ProtocolError.

Shared pieces (the graphs, ServiceError, graph normalisation) come from
tests/integration/node/nodeclient.py; that client ignores received headers and reads one
channel at a time, so the connection here is its own: non-blocking, with an output buffer, so
that many channels can be in flight on one connection without either side blocking.

    import ncl
    eps, version, graph = ncl.resolve("198.18.0.2", 10053, "echo")
    c = ncl.Connection(eps[0], graph)
    ch = c.enqueue("ping", headers=[("trace_id", ncl.u64(7))])
    c.write(ch, b"a"); c.write(ch, b"b"); c.close(ch)
    c.wait([ch], 5)
    ch.chunks, ch.closed, ch.error      # [b"a", b"b"], True, None
    c.send_raw(b"\\xc1")                 # malformed input
    c.wait_eof(1.0)                     # True: the peer closed the connection

Run with /usr/bin/python3. `enter_netns(name)` moves the calling thread into a network
namespace (/run/netns/NAME) so that a test can reach the lab's addresses directly.
"""
import ctypes
import os
import select
import socket
import struct
import sys
import time

import msgpack

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node"))
from nodeclient import (LOCATOR_GRAPH, PRIMITIVE, STREAMING, ProtocolError,  # noqa: E402
                        ServiceError, normalize_graph)

APP_GRAPH = {0: ["enqueue", STREAMING, STREAMING], 1: ["info", {}, PRIMITIVE],
             2: ["control", STREAMING, PRIMITIVE]}

# error categories (6.3)
CAT_ERRNO = 0x01
CAT_LOCATOR = 0x0A
CAT_WORKER_USER = 43
ETIMEDOUT = 110
ECONNRESET = 104


def u64(n):
    """An 8-byte little-endian header value (trace ids, request_timeout; 1.4)."""
    return struct.pack("<Q", n)


def request_timeout(ms):
    return ("request_timeout", u64(ms))


def _b(v):
    return v.encode() if isinstance(v, str) else v


# ---- headers (1.4) ----

_STATIC = [(b"", b""), (b":authority", b""), (b":method", b"GET"), (b":method", b"POST"),
           (b":path", b"/"), (b":path", b"/index.html"), (b":scheme", b"http"),
           (b":scheme", b"https"), (b":status", b"200"), (b":status", b"204"),
           (b":status", b"206"), (b":status", b"304"), (b":status", b"400"),
           (b":status", b"404"), (b":status", b"500"), (b"accept-charset", b""),
           (b"accept-encoding", b"gzip, deflate")] + [(n.encode(), b"") for n in (
               "accept-language accept-ranges accept access-control-allow-origin age allow "
               "authorization cache-control content-disposition content-encoding "
               "content-language content-length content-location content-range content-type "
               "cookie date etag expect expires from host if-match if-modified-since "
               "if-none-match if-range if-unmodified-since last-modified link location "
               "max-forwards proxy-authenticate proxy-authorization range referer refresh "
               "retry-after server set-cookie strict-transport-security transfer-encoding "
               "user-agent vary via www-authenticate").split()]
assert len(_STATIC) == 62 and _STATIC[61][0] == b"www-authenticate"
_STATIC += [(b"", b"")] * 18 + [(b"trace_id", bytes(8)), (b"span_id", bytes(8)),
                                 (b"parent_id", bytes(8))]
STATIC_SIZE = 83
assert len(_STATIC) == STATIC_SIZE
HPACK_CAPACITY = 4096
HPACK_OVERHEAD = 32


class HeaderTable:
    """The receive side of one direction of one connection: static + dynamic table."""

    def __init__(self):
        self.dyn = []  # newest first: index 83 is dyn[0]
        self.size = 0

    def get(self, idx):
        if isinstance(idx, bool) or not isinstance(idx, int) or idx <= 0:
            raise ProtocolError("header index %r" % (idx,))
        if idx < STATIC_SIZE:
            return _STATIC[idx]
        k = idx - STATIC_SIZE
        if k >= len(self.dyn):
            raise ProtocolError("header index %d past the dynamic table (%d entries)" % (idx, len(self.dyn)))
        return self.dyn[k]

    def add(self, name, value):
        size = len(name) + len(value) + HPACK_OVERHEAD
        if size > HPACK_CAPACITY:
            self.dyn = []
            self.size = 0
            return
        while self.size + size > HPACK_CAPACITY:
            n, v = self.dyn.pop()
            self.size -= len(n) + len(v) + HPACK_OVERHEAD
        self.dyn.insert(0, (name, value))
        self.size += size

    def decode(self, hlist):
        """A received header list -> [(name, value)] (bytes), strictly in order (12a.3)."""
        if not isinstance(hlist, list):
            raise ProtocolError("headers are not an array: %r" % (hlist,))
        out = []
        for h in hlist:
            if isinstance(h, int) and not isinstance(h, bool):
                out.append(self.get(h))
                continue
            if not (isinstance(h, list) and len(h) == 3 and isinstance(h[0], bool)):
                raise ProtocolError("bad header %r" % (h,))
            store, name, value = h
            if isinstance(name, int) and not isinstance(name, bool):
                name = self.get(name)[0]
            if not isinstance(name, bytes) or not isinstance(value, bytes):
                raise ProtocolError("bad header %r" % (h,))
            if store:
                self.add(name, value)
            out.append((name, value))
        return out


class HeaderEncoder:
    """The send side as cocaine-framework-python does it (12a.3): a full match in our dynamic
    table goes as its bare index, a name match as [true, idx, value], anything else as
    [true, name, value]; every [true, ...] entry is stored (the mirror of the peer's table)."""

    def __init__(self):
        self.table = HeaderTable()

    def encode(self, headers):
        out = []
        for name, value in headers:
            name, value = _b(name), _b(value)
            full = named = None
            for k, (n, v) in enumerate(self.table.dyn):
                if n == name:
                    if v == value:
                        full = STATIC_SIZE + k
                        break
                    if named is None:
                        named = STATIC_SIZE + k
            if full is not None:
                out.append(full)
                continue
            out.append([True, named if named is not None else name, value])
            self.table.add(name, value)
        return out


def encode_headers(headers):
    """(name, value) tuples become [false, name, value]; lists and ints (already in wire form:
    [store, name|idx, value] or a bare index) are sent as they are."""
    out = []
    for h in headers or ():
        if isinstance(h, tuple):
            out.append([False, _b(h[0]), _b(h[1])])
        else:
            out.append(h)
    return out


# ---- channels and connections ----

class Channel:
    """One channel: what we sent, what came back. After done: chunks (write payloads), closed
    (a `close` came), error ((category, code), message) or value (the args of `value`)."""

    def __init__(self, conn, ch, method, tx, rx):
        self.conn = conn
        self.id = ch
        self.method = method
        self.tx = tx
        self.rx = rx
        self.msgs = []  # (name, args, headers)
        self.chunks = []
        self.closed = False
        self.error = None
        self.value = None
        self.t_open = time.monotonic()
        self.t_done = None
        self.lost = False  # the connection ended before the reply did

    @property
    def done(self):
        return not self.rx

    @property
    def elapsed(self):
        return (self.t_done or time.monotonic()) - self.t_open

    def result(self):
        """A comparable summary: ("close", [chunks]), ("error", cat, code, msg),
        ("value", args), ("lost", [chunks]) or ("open", [chunks])."""
        if self.error is not None:
            return ("error", self.error[0][0], self.error[0][1], self.error[1])
        if self.closed:
            return ("close", self.chunks)
        if self.value is not None:
            return ("value", self.value)
        return ("lost" if self.lost else "open", self.chunks)

    def send(self, name, *args, headers=None):
        if not self.tx:
            raise ProtocolError("channel %d: our direction is finished" % self.id)
        for mid, slot in self.tx.items():
            if slot[0] == name:
                self.conn.send_frame(self.id, mid, list(args), headers)
                if slot[1] is not None:
                    self.tx = slot[1]
                return
        raise ProtocolError("channel %d: %s not allowed now" % (self.id, name))

    def write(self, data, headers=None):
        # a str goes as a str: raw on an old-spec connection, str8 past 31 bytes with use_bin
        self.send("write", data if self.conn.use_bin else _b(data), headers=headers)

    def close(self, headers=None):
        self.send("close", headers=headers)

    def _got(self, mid, args, headers):
        if not self.rx:
            raise ProtocolError("channel %d: message %d after the end of the reply" % (self.id, mid))
        slot = self.rx.get(mid)
        if slot is None:
            raise ProtocolError("channel %d: message %d not allowed (state %r)" % (self.id, mid, self.rx))
        name = slot[0]
        self.msgs.append((name, args, headers))
        if slot[1] is not None:
            self.rx = slot[1]
        if name == "write":
            if len(args) != 1 or not isinstance(args[0], bytes):
                raise ProtocolError("channel %d: write %r" % (self.id, args))
            self.chunks.append(args[0])
        elif name == "close":
            self.closed = True
        elif name == "error":
            if (len(args) not in (1, 2) or not isinstance(args[0], list) or len(args[0]) != 2
                    or not all(isinstance(x, int) for x in args[0])):
                raise ProtocolError("channel %d: error not [[category, code], message]: %r" % (self.id, args))
            msg = args[1] if len(args) > 1 else b""
            self.error = ((args[0][0], args[0][1]), msg.decode(errors="replace") if isinstance(msg, bytes) else msg)
        elif name == "value":
            self.value = args
        if not self.rx:
            self.t_done = time.monotonic()


class Connection:
    """One TCP connection to a service, channels multiplexed on it (ids from 1, growing)."""

    def __init__(self, addr, graph=None, timeout=5.0, use_bin=False, three=False, compress=False):
        self.addr = (addr[0] if isinstance(addr[0], str) else addr[0].decode(), int(addr[1]))
        self.graph = graph if graph is not None else APP_GRAPH
        self.sock = socket.create_connection(self.addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.unpacker = msgpack.Unpacker(raw=True, strict_map_key=False, max_buffer_size=64 << 20)
        self.rx_headers = HeaderTable()
        self.next_id = 1
        self.channels = {}
        self.out = bytearray()
        self.use_bin = use_bin  # str8/bin (a modern msgpack's defaults, 12a.2)
        self.three = three  # 3-element frames (pre-0.12.2 peers)
        # compress: headers given as (name, value) tuples go through a HeaderEncoder (then
        # only tuples may be given: wire-form entries would put its table out of step)
        self.encoder = HeaderEncoder() if compress else None
        self.eof = False
        self.eof_at = None
        self.eof_error = None
        self.frames_in = 0

    # -- sending --

    def send_raw(self, data):
        self.out += data
        self._flush()

    def send_frame(self, ch, mid, args, headers=None, three=None):
        three = self.three if three is None else three
        if self.encoder is not None and headers:
            if not all(isinstance(h, tuple) for h in headers):
                raise ValueError("a compressing connection takes (name, value) headers only")
            hl = self.encoder.encode(headers)
        else:
            hl = encode_headers(headers)
        frame = [ch, mid, args] if three and not headers else [ch, mid, args, hl]
        self.send_raw(msgpack.packb(frame, use_bin_type=self.use_bin))

    def open(self, method, *args, headers=None, channel=None):
        for mid, slot in self.graph.items():
            if slot[0] == method:
                ch = channel if channel is not None else self.next_id
                self.next_id = ch + 1
                c = Channel(self, ch, method, slot[1] if slot[1] is not None else self.graph,
                            slot[2] if slot[2] is not None else self.graph)
                self.channels[ch] = c
                self.send_frame(ch, mid, [a if self.use_bin else _b(a) for a in args], headers)
                return c
        raise ProtocolError("no method %s in %r" % (method, self.graph))

    def enqueue(self, event, headers=None, channel=None):
        return self.open("enqueue", event, headers=headers, channel=channel)

    def write(self, ch, data, headers=None):
        ch.write(data, headers)

    def close(self, ch, headers=None):
        ch.close(headers)

    def _flush(self):
        while self.out and not self.eof:
            try:
                n = self.sock.send(self.out)
            except BlockingIOError:
                return
            except OSError as e:
                self._lost(e)
                return
            del self.out[:n]

    # -- receiving --

    def _lost(self, err=None):
        if self.eof:
            return
        self.eof = True
        self.eof_at = time.monotonic()
        self.eof_error = err
        self.out.clear()
        for c in self.channels.values():
            if not c.done:
                c.lost = True

    def pump(self, timeout):
        """Send what is buffered and read what arrives within timeout. False once the
        connection has ended."""
        if self.eof:
            return False
        w = [self.sock] if self.out else []
        r, w, _ = select.select([self.sock], w, [], max(timeout, 0))
        if w:
            self._flush()
        if not r:
            return not self.eof
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return True
        except OSError as e:
            self._lost(e)
            return False
        if not data:
            self._lost()
            return False
        self.unpacker.feed(data)
        for frame in self.unpacker:
            self._frame(frame)
        return True

    def _frame(self, frame):
        self.frames_in += 1
        if not isinstance(frame, list) or len(frame) < 3:
            raise ProtocolError("bad frame %r" % (frame,))
        ch, mid, args = frame[0], frame[1], frame[2]
        if not isinstance(ch, int) or not isinstance(mid, int) or not isinstance(args, list):
            raise ProtocolError("bad frame %r" % (frame,))
        headers = self.rx_headers.decode(frame[3]) if len(frame) > 3 else []
        c = self.channels.get(ch)
        if c is None:
            raise ProtocolError("message on channel %d, which we never opened" % ch)
        c._got(mid, args, headers)

    def wait(self, chs=None, timeout=10.0):
        """Pump until every channel of chs (default: all) is done, the connection ends or
        timeout passes. True when all are done."""
        chs = list(self.channels.values()) if chs is None else list(chs)
        end = time.monotonic() + timeout
        while True:
            if all(c.done for c in chs):
                return True
            left = end - time.monotonic()
            if left <= 0 or not self.pump(min(left, 0.5)):
                return all(c.done for c in chs)

    def wait_eof(self, timeout):
        """True when the peer ends the connection within timeout (anything it sends before
        is read and filed)."""
        end = time.monotonic() + timeout
        while not self.eof:
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.pump(min(left, 0.5))
        return True

    def call(self, method, *args, headers=None, timeout=5.0):
        """A primitive call: its value args; ServiceError for an error reply."""
        c = self.open(method, *args, headers=headers)
        if not self.wait([c], timeout):
            raise TimeoutError("%s on %s:%d: %s" % (method, self.addr[0], self.addr[1],
                                                   "connection closed" if self.eof else "no reply"))
        if c.error:
            raise ServiceError(c.error[0][0], c.error[0][1], c.error[1])
        return c.value

    def info(self, timeout=5.0):
        v = self.call("info", timeout=timeout)
        if len(v) != 1:
            raise ProtocolError("info: value %r" % (v,))
        return v[0]

    def shutdown(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.eof = True


# ---- the locator ----

def resolve_raw(host, port, name, timeout=5.0, conn=None):
    """resolve on a locator: the value args as received (raw bytes)."""
    c = conn or Connection((host, port), LOCATOR_GRAPH, timeout)
    try:
        return c.call("resolve", name, timeout=timeout)
    finally:
        if conn is None:
            c.shutdown()


def resolve(host, port, name, timeout=5.0, conn=None):
    """([(host, port)...], version, graph); ServiceError (e.g. 0x0A, 1) for an unknown name."""
    args = resolve_raw(host, port, name, timeout, conn)
    if len(args) != 3:
        raise ProtocolError("resolve: value with %d args (12a.5 wants 3)" % len(args))
    endpoints = [(h.decode() if isinstance(h, bytes) else h, p) for h, p in args[0]]
    return endpoints, args[1], normalize_graph(args[2])


def locator_call(host, port, method, *args, timeout=5.0):
    c = Connection((host, port), LOCATOR_GRAPH, timeout)
    try:
        return c.call(method, *args, timeout=timeout)
    finally:
        c.shutdown()


def app_connection(host, port, name, timeout=5.0, **kw):
    """resolve `name` on the locator at host:port and connect to its first endpoint."""
    eps, _, graph = resolve(host, port, name, timeout)
    return Connection(eps[0], graph, timeout, **kw)


def strs(obj):
    """bytes -> str throughout (map keys and values), for reading info maps."""
    if isinstance(obj, bytes):
        return obj.decode(errors="replace")
    if isinstance(obj, list):
        return [strs(x) for x in obj]
    if isinstance(obj, dict):
        return {strs(k): strs(v) for k, v in obj.items()}
    return obj


def exchange(conn, event, chunks, headers=None, timeout=10.0):
    """enqueue, the writes, close; wait for the reply; the channel."""
    ch = conn.enqueue(event, headers=headers)
    for x in chunks:
        ch.write(x)
    ch.close()
    conn.wait([ch], timeout)
    return ch


# ---- network namespaces ----

CLONE_NEWNET = 0x40000000


def enter_netns(name):
    """Move the calling thread into /run/netns/NAME; returns a function that moves it back."""
    libc = ctypes.CDLL(None, use_errno=True)
    back = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/%s" % name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (name, os.strerror(e)))
    finally:
        os.close(fd)

    def leave():
        if libc.setns(back, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns back: %s" % os.strerror(e))
        os.close(back)
    return leave


__all__ = ["APP_GRAPH", "LOCATOR_GRAPH", "PRIMITIVE", "STREAMING", "Channel", "Connection",
           "HeaderEncoder", "HeaderTable", "ProtocolError", "ServiceError", "app_connection", "encode_headers",
           "enter_netns", "exchange", "locator_call", "request_timeout", "resolve",
           "resolve_raw", "strs", "u64"]
