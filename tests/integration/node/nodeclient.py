"""A small Cocaine 0.12 client for sluice-node's tests (python3-msgpack only).

It follows the dispatch graphs the way cocaine-framework-python does (cocaine-protocol.md 1.6):
a channel's methods are looked up by name in the graph the locator returned, every received
message is looked up in the channel's current receive state, and a state of {} ends that
direction. Frames are sent with 4 elements and an empty header array (12a.1) unless asked
otherwise; strings are packed in the old msgpack spec (raw) unless asked otherwise.
"""
import socket
import time

import msgpack

LOCATOR = ("127.0.0.1", 10053)
PRIMITIVE = {0: ["value", {}], 1: ["error", {}]}
STREAMING = {0: ["write", None], 1: ["error", {}], 2: ["close", {}]}
# The locator's graph is fixed (the Python framework hard-codes it, 1.6)
LOCATOR_GRAPH = {0: ["resolve", {}, PRIMITIVE], 1: ["connect", {}, STREAMING],
                 2: ["refresh", {}, PRIMITIVE], 3: ["cluster", {}, PRIMITIVE],
                 4: ["publish", {0: ["discard", {}]}, PRIMITIVE],
                 5: ["routing", {0: ["discard", {}]}, STREAMING], 6: ["uuid", {}, PRIMITIVE]}


class ProtocolError(Exception):
    pass


class ServiceError(Exception):
    """An `error [[category, code], message]` reply."""

    def __init__(self, category, code, message):
        super().__init__("[%#x, %d] %s" % (category, code, message))
        self.category = category
        self.code = code
        self.message = message


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def normalize_graph(g):
    """Graph with str names and int keys; None stays None (recursive)."""
    if g is None:
        return None
    out = {}
    for k, v in g.items():
        out[int(k)] = [_s(v[0])] + [normalize_graph(x) for x in v[1:]]
    return out


class Channel:
    def __init__(self, conn, ch, tx, rx):
        self.conn = conn
        self.id = ch
        self.tx = tx  # what we may send now ({} = done)
        self.rx = rx  # what the peer may send now
        self.inbox = []

    def send(self, name, *args, headers=None, three=False):
        if not self.tx:
            raise ProtocolError("channel %d: our direction is finished" % self.id)
        for mid, slot in self.tx.items():
            if slot[0] == name:
                self.conn.send_frame(self.id, mid, list(args), headers, three)
                if slot[1] is not None:
                    self.tx = slot[1]
                return
        raise ProtocolError("channel %d: %s not allowed now" % (self.id, name))

    def write(self, data, **kw):
        self.send("write", data, **kw)

    def close(self, **kw):
        self.send("close", **kw)

    def recv(self, timeout=10.0):
        """The next message: (name, args). Raises ServiceError for `error`."""
        deadline = time.time() + timeout
        while not self.inbox:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("channel %d: nothing within %.1f s" % (self.id, timeout))
            self.conn.pump(left)
        mid, args = self.inbox.pop(0)
        if not self.rx or mid not in self.rx:
            raise ProtocolError("channel %d: unexpected message %d (state %r)" % (self.id, mid, self.rx))
        slot = self.rx[mid]
        if slot[1] is not None:
            self.rx = slot[1]
        if slot[0] == "error":
            (cat, code), msg = args[0], _s(args[1]) if len(args) > 1 else ""
            raise ServiceError(cat, code, msg)
        return slot[0], args

    def done(self):
        return not self.rx

    def value(self, timeout=10.0):
        """The args of a primitive reply (`value`)."""
        name, args = self.recv(timeout)
        if name != "value":
            raise ProtocolError("expected value, got %s" % name)
        return args

    def chunks(self, timeout=10.0):
        """Read a streaming reply to its end: the write chunks (bytes)."""
        out = []
        while not self.done():
            name, args = self.recv(timeout)
            if name == "write":
                out.append(args[0])
        return out


class Connection:
    def __init__(self, addr, graph, timeout=10.0):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.graph = graph
        self.unpacker = msgpack.Unpacker(raw=True, strict_map_key=False)
        self.next_id = 1
        self.channels = {}
        self.closed = False
        self.use_bin = False

    def close(self):
        self.sock.close()

    def send_frame(self, ch, mid, args, headers=None, three=False):
        frame = [ch, mid, args] if three else [ch, mid, args, headers or []]
        self.sock.sendall(msgpack.packb(frame, use_bin_type=self.use_bin))

    def open(self, method, *args, headers=None, three=False, channel=None):
        """Open a channel with `method` of the service graph."""
        for mid, slot in self.graph.items():
            if slot[0] == method:
                ch = channel if channel is not None else self.next_id
                self.next_id = ch + 1
                c = Channel(self, ch, slot[1] if slot[1] is not None else self.graph,
                            slot[2] if slot[2] is not None else self.graph)
                self.channels[ch] = c
                self.send_frame(ch, mid, list(args), headers, three)
                return c
        raise ProtocolError("no method %s in %r" % (method, self.graph))

    def pump(self, timeout):
        """Read what arrives within timeout and file it by channel."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return
        if not data:
            self.closed = True
            raise ConnectionError("connection closed by the peer")
        self.unpacker.feed(data)
        for frame in self.unpacker:
            if not isinstance(frame, list) or len(frame) < 3:
                raise ProtocolError("bad frame %r" % (frame,))
            ch, mid, args = frame[0], frame[1], frame[2]
            if ch not in self.channels:
                raise ProtocolError("message on unknown channel %d" % ch)
            self.channels[ch].inbox.append((mid, args))


def resolve(name, locator=LOCATOR, timeout=10.0):
    """resolve: ([(host, port)], version, graph). Raises ServiceError (e.g. 0x0A, 1)."""
    c = Connection(locator, LOCATOR_GRAPH, timeout)
    try:
        ch = c.open("resolve", name)
        args = ch.value(timeout)
    finally:
        c.close()
    if len(args) != 3:
        raise ProtocolError("resolve: %d args" % len(args))
    endpoints = [(_s(h), p) for h, p in args[0]]
    return endpoints, args[1], normalize_graph(args[2])


def decode_services(m):
    """A connect stream's {service: [[[host, port]...], version, graph]} with str names:
    {name: ([(host, port)...], version, graph)}."""
    return {_s(k): ([(_s(h), p) for h, p in v[0]], v[1], normalize_graph(v[2]))
            for k, v in m.items()}


def locator_call(method, *args, locator=LOCATOR, timeout=10.0):
    c = Connection(locator, LOCATOR_GRAPH, timeout)
    try:
        return c.open(method, *args).value(timeout)
    finally:
        c.close()


class Service:
    """A resolved service with one connection (channels multiplexed on it)."""

    def __init__(self, name, locator=LOCATOR, timeout=10.0):
        self.name = name
        self.endpoints, self.version, self.graph = resolve(name, locator, timeout)
        self.conn = Connection(self.endpoints[0], self.graph, timeout)

    def open(self, method, *args, **kw):
        return self.conn.open(method, *args, **kw)

    def call(self, method, *args, timeout=10.0):
        """A primitive call: its value args."""
        return self.open(method, *args).value(timeout)

    def close(self):
        self.conn.close()


def enqueue(app, event, chunks, locator=LOCATOR, timeout=10.0, svc=None):
    """enqueue `event`, send the chunks and close; the reply chunks."""
    own = svc is None
    svc = svc or Service(app, locator, timeout)
    try:
        ch = svc.open("enqueue", event)
        for c in chunks:
            ch.write(c)
        ch.close()
        return ch.chunks(timeout)
    finally:
        if own:
            svc.close()
