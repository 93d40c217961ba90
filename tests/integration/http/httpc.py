#!/usr/bin/python3
"""HTTP clients for the lab HTTP tests (test_lab_http.py), run inside the lab namespace:

  httpc.py bad                      the malformed corpus (bad.py), one fresh connection each
  httpc.py good                     the valid corpus (good.py) against /-/mirror
  httpc.py keepalive N ROUNDS       N concurrent keep-alive clients, ROUNDS requests each
  httpc.py pipeline                 pipelined requests answered in order
  httpc.py upload MIB               MIB MiB chunked and Content-Length uploads, Expect, 413
  httpc.py slowloris N HEAD_MS      N one-byte-a-second connections while normal clients run
  httpc.py limits KEEPALIVE_MS HEAD_MS BODY_MS MAX_CONNS
                                    idle close, head and body timeouts, connection limit, drain
  httpc.py misc                     HTTP/1.0, Connection: close, HEAD, Expect without route, curl

Modes that drive sluicectl read its path and the control socket from HTTPC_CTL and
HTTPC_SOCK. Prints one JSON line: {"ok": ..., "failures": [...], ...}; exit status 0 when ok.
The server is 198.18.0.2:80; connections are bound to 198.18.0.1 (the address /-/mirror
reports in X-Forwarded-For)."""
import asyncio
import concurrent.futures
import difflib
import json
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

SERVER = "198.18.0.2"
PORT = 80
CLIENT_IP = "198.18.0.1"
RID_RE = re.compile(rb"[0-9a-f]{32}")
HEALTH = b"GET /-/health HTTP/1.1\r\nHost: lab\r\n\r\n"

REASONS = {
    100: ("Continue",),
    200: ("OK",),
    400: ("Bad Request",),
    405: ("Method Not Allowed",),
    408: ("Request Timeout",),
    413: ("Content Too Large", "Payload Too Large"),
    414: ("URI Too Long",),
    417: ("Expectation Failed",),
    431: ("Request Header Fields Too Large",),
    501: ("Not Implemented",),
    503: ("Service Unavailable",),
    505: ("HTTP Version Not Supported",),
}


class Fail(Exception):
    pass


def short(b, n=300):
    """A printable excerpt of bytes."""
    if b is None:
        return None
    s = repr(bytes(b[:n]))
    return s + ("... (%d bytes)" % len(b) if len(b) > n else "")


def crc_hex(b):
    return b"%08x" % zlib.crc32(b)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# ---- responses ----

class Resp:
    def __init__(self, version, status, reason, fields, raw):
        self.version, self.status, self.reason, self.fields, self.raw = version, status, reason, fields, raw
        self.body = b""
        self.framing = "none"
        self.t = time.monotonic()

    def get(self, name):
        name = name.lower()
        for n, v in self.fields:
            if n.lower() == name:
                return v
        return None

    def count(self, name):
        return sum(1 for n, _ in self.fields if n.lower() == name.lower())

    def tokens(self, name):
        out = set()
        for n, v in self.fields:
            if n.lower() == name.lower():
                out |= {x.strip().lower() for x in v.decode("latin-1").split(",") if x.strip()}
        return out

    def closes(self):
        return "close" in self.tokens("connection")

    def desc(self):
        return "%s%s" % (self.raw.decode("latin-1"), short(self.body, 400))


def parse_head(raw):
    lines = raw[:-4].split(b"\r\n")
    m = re.fullmatch(rb"(HTTP/\d\.\d) (\d\d\d) ([\x20-\x7e]*)", lines[0])
    if not m:
        raise Fail("malformed status line: %s" % short(raw))
    fields = []
    for ln in lines[1:]:
        if b":" not in ln:
            raise Fail("malformed field line %s in %s" % (short(ln), short(raw)))
        n, v = ln.split(b":", 1)
        if not re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", n):
            raise Fail("malformed field name %s in %s" % (short(n), short(raw)))
        fields.append((n.decode("latin-1"), v.strip(b" \t")))
    return Resp(m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"), fields, raw)


def body_kind(r, head):
    if head or 100 <= r.status < 200 or r.status in (204, 304):
        return "none", 0
    te = r.tokens("transfer-encoding")
    if te:
        if te != {"chunked"}:
            raise Fail("response with Transfer-Encoding %r" % r.get("transfer-encoding"))
        if r.get("content-length") is not None:
            raise Fail("response with both Content-Length and Transfer-Encoding:\n" + r.desc())
        return "chunked", 0
    cl = r.get("content-length")
    if cl is not None:
        if r.count("content-length") != 1 or not re.fullmatch(rb"\d+", cl):
            raise Fail("response with a bad Content-Length:\n" + r.desc())
        return "length", int(cl)
    return "eof", 0


class Conn:
    """A blocking client connection with a receive buffer."""

    def __init__(self, timeout=10, host=SERVER, port=PORT):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.settimeout(timeout)
        self.s.bind((CLIENT_IP, 0))
        self.s.connect((host, port))
        self.t_connect = time.monotonic()
        self.buf = bytearray()
        self.eof = False

    def send(self, data):
        self.s.sendall(data)

    def _more(self, deadline, what):
        rem = deadline - time.monotonic()
        if rem <= 0:
            raise Fail("timeout waiting for %s (have %s)" % (what, short(self.buf)))
        self.s.settimeout(rem)
        try:
            d = self.s.recv(1 << 18)
        except socket.timeout:
            raise Fail("timeout waiting for %s (have %s)" % (what, short(self.buf))) from None
        except ConnectionResetError:
            raise Fail("connection reset while waiting for %s (have %s)" % (what, short(self.buf))) from None
        if not d:
            self.eof = True
            raise Fail("connection closed while waiting for %s (have %s)" % (what, short(self.buf)))
        self.buf += d

    def read_until(self, sep, deadline, what, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise Fail("no %r within %d bytes: %s" % (sep, limit, short(self.buf)))
            self._more(deadline, what)

    def read_exact(self, n, deadline, what):
        while len(self.buf) < n:
            self._more(deadline, what)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def response(self, timeout=5, head=False):
        """The next response (a 1xx one too), its body read by its framing."""
        deadline = time.monotonic() + timeout
        r = parse_head(self.read_until(b"\r\n\r\n", deadline, "a response head", 65536))
        kind, n = body_kind(r, head)
        r.framing = kind
        if kind == "length":
            r.body = self.read_exact(n, deadline, "a %d-byte body" % n)
        elif kind == "chunked":
            parts = []
            while True:
                line = self.read_until(b"\r\n", deadline, "a chunk size", 4096)
                m = re.fullmatch(rb"([0-9a-fA-F]+)\r\n", line)
                if not m:
                    raise Fail("bad chunk line in the response: %s" % short(line))
                size = int(m.group(1), 16)
                if size == 0:
                    if self.read_until(b"\r\n", deadline, "the last CRLF", 4096) != b"\r\n":
                        raise Fail("trailers in a response")
                    break
                parts.append(self.read_exact(size, deadline, "chunk data"))
                if self.read_exact(2, deadline, "CRLF after chunk data") != b"\r\n":
                    raise Fail("no CRLF after chunk data in the response")
            r.body = b"".join(parts)
        elif kind == "eof":
            while not self.eof:
                try:
                    self._more(deadline, "the end of a close-delimited body")
                except Fail:
                    if not self.eof:
                        raise
            r.body = bytes(self.buf)
            self.buf.clear()
        r.t = time.monotonic()
        return r

    def expect_eof(self, timeout=3):
        """The server closes: recv gives b'' within `timeout`, with nothing else before it."""
        deadline = time.monotonic() + timeout
        if self.buf:
            raise Fail("unexpected bytes after the answer: %s" % short(self.buf))
        while True:
            rem = deadline - time.monotonic()
            if rem <= 0:
                raise Fail("no FIN from the server within %.1f s" % timeout)
            self.s.settimeout(rem)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                raise Fail("no FIN from the server within %.1f s" % timeout) from None
            except ConnectionResetError:
                raise Fail("the server reset the connection instead of a FIN") from None
            if not d:
                return time.monotonic()
            raise Fail("unexpected bytes after the answer: %s" % short(d))

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def check_error(r, status, detail=None):
    """An error answer: status line, Connection: close, Content-Type, Content-Length,
    X-Request-Id, body '<status> <reason>: <what>\\n'. Returns the problems found."""
    probs = []
    if r.status != status:
        return ["expected status %d, got %d: %s" % (status, r.status, r.desc())]
    if r.version != "HTTP/1.1":
        probs.append("status line version %s, expected HTTP/1.1" % r.version)
    if r.reason not in REASONS.get(status, (r.reason,)):
        probs.append("reason %r, expected %r (RFC 9110)" % (r.reason, REASONS[status][0]))
    if not r.closes():
        probs.append("no Connection: close")
    if r.get("content-type") != b"text/plain":
        probs.append("Content-Type %r, expected text/plain" % r.get("content-type"))
    if r.framing != "length":
        probs.append("no Content-Length (framing %s)" % r.framing)
    rid = r.get("x-request-id")
    if rid is None or not 1 <= len(rid) <= 128:
        probs.append("no X-Request-Id (1..128 bytes)")
    pat = rb"%d %s: [^\n]+\n" % (status, re.escape(r.reason.encode()))
    if detail is not None:
        pat = rb"%d %s: %s\n" % (status, re.escape(r.reason.encode()), re.escape(detail))
    if not re.fullmatch(pat, r.body):
        probs.append("body %s does not match %r" % (short(r.body), pat.decode()))
    if probs:
        probs.append("answer: " + r.desc())
    return probs


def ctl(*args):
    exe, sock = os.environ.get("HTTPC_CTL"), os.environ.get("HTTPC_SOCK")
    if not exe or not sock:
        raise Fail("HTTPC_CTL and HTTPC_SOCK must name sluicectl and the control socket")
    r = subprocess.run([exe, "--socket", sock, "--json"] + list(args), capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        raise Fail("sluicectl %s -> %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return json.loads(r.stdout) if r.stdout.strip() else None


def http_stats():
    return ctl("show", "stats")["http_total"]


def dump_diff(want, got):
    a = [repr(x) for x in want.decode("latin-1").split("\n")]
    b = [repr(x) for x in got.decode("latin-1").split("\n")]
    d = list(difflib.unified_diff(a, b, "expected", "got", lineterm="", n=1))
    d = [x if len(x) < 240 else x[:240] + "..." for x in d]
    return "\n".join(d[:60]) + ("\n... (%d more diff lines)" % (len(d) - 60) if len(d) > 60 else "")


class Tally:
    """Failures of many similar clients: counted by kind, a few examples kept."""

    def __init__(self, what):
        self.what, self.kinds = what, {}

    def add(self, who, msg):
        kind = re.sub(r"\d+(\.\d+)?", "N", msg.split("\n")[0])[:120]
        k = self.kinds.setdefault(kind, [0, []])
        k[0] += 1
        if len(k[1]) < 3:
            k[1].append("%s: %s" % (who, msg))

    def failures(self):
        out = []
        for kind, (n, ex) in sorted(self.kinds.items(), key=lambda x: -x[1][0]):
            out.append("%d %s: %s\n    e.g. %s" % (n, self.what, kind, "\n    e.g. ".join(ex)))
        return out


def finish(res):
    res["ok"] = not res.get("failures")
    print(json.dumps(res))
    sys.exit(0 if res["ok"] else 1)


# ---- bad: the malformed corpus ----

def run_bad():
    from bad import CASES
    t0 = time.monotonic()

    def one(case):
        name, raw, status = case
        fail = {"name": name, "request": short(raw, 200), "expected": status}
        try:
            c = Conn()
        except OSError as e:
            return dict(fail, got="connect: %r" % e)
        send_err = None
        try:
            try:
                c.send(raw)
            except OSError as e:  # the server may close before reading it all
                send_err = repr(e)
            try:
                r = c.response(timeout=5)
            except Fail as e:
                return dict(fail, got="%s%s" % (e, " (send: %s)" % send_err if send_err else ""))
            probs = check_error(r, status)
            if not probs:
                try:
                    c.expect_eof(3)
                except Fail as e:
                    probs.append(str(e))
            return dict(fail, got="\n".join(probs), status=r.status) if probs else None
        finally:
            c.close()

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(one, CASES))
    failures = [r for r in results if r]
    by_status = {}
    for _, _, st in CASES:
        by_status[st] = by_status.get(st, 0) + 1
    finish({"mode": "bad", "cases": len(CASES), "by_status": by_status, "failures": failures,
            "seconds": round(time.monotonic() - t0, 2)})


# ---- good: the valid corpus ----

def follow_up(c, name, mirror=True):
    """The connection is still in step: a health request on it is answered, and a /-/mirror
    request with a body (a connection's second mirror request must be as good as its first)."""
    rid = b"follow-" + name.encode()
    c.send(b"GET /-/health HTTP/1.1\r\nHost: example.com\r\nX-Request-Id: " + rid + b"\r\n\r\n")
    r = c.response(timeout=5)
    if r.status != 200 or r.body != b"200 OK\n" or r.get("x-request-id") != rid:
        raise Fail("the follow-up request on the same connection got: " + r.desc())
    if mirror:
        body = b"follow-up body of " + name.encode()
        c.send(mirror_req(b"/-/mirror?follow-up", body, rid + b"-m"))
        try:
            check_mirror_answer(c.response(timeout=5), b"/-/mirror?follow-up", body, rid + b"-m")
        except Fail as e:
            raise Fail("the follow-up /-/mirror request on the same connection: %s" % e) from None


def check_mirror(c, case):
    """Send a good case and check its answer; returns problems."""
    probs = []
    c.send(case["raw"])
    if case["cont"]:
        r = c.response(timeout=5)
        if r.status != 100 or r.reason != "Continue" or r.raw != b"HTTP/1.1 100 Continue\r\n\r\n":
            return ["expected 'HTTP/1.1 100 Continue' first, got: " + r.desc()]
    r = c.response(timeout=10, head=case["head"])
    if r.status != 200:
        return ["expected 200, got: " + r.desc()]
    if r.get("content-type") != b"text/plain":
        probs.append("Content-Type %r, expected text/plain" % r.get("content-type"))
    rid = r.get("x-request-id")
    if case["rid"] is not None:
        if rid != case["rid"]:
            probs.append("X-Request-Id %s, expected %s" % (short(rid), short(case["rid"])))
    elif rid is None or not RID_RE.fullmatch(rid):
        probs.append("X-Request-Id %s, expected 32 lowercase hex digits (generated)" % short(rid))
    want = case["dump"].replace(b"{RID}", rid or b"?")
    if case["head"]:
        if r.get("content-length") != str(len(want)).encode():
            probs.append("HEAD: Content-Length %s, expected %d (the GET dump's length)" %
                         (r.get("content-length"), len(want)))
        if r.get("transfer-encoding") is not None:
            probs.append("HEAD answered with Transfer-Encoding")
    else:
        kind = "chunked" if case["chunked"] else "length"
        if r.framing != kind:
            probs.append("answer framing %s, expected %s" % (r.framing, kind))
        if r.body != want:
            probs.append("dump differs:\n" + dump_diff(want, r.body))
    conn = case["conn"]
    if conn == "close":
        if not r.closes():
            probs.append("expected Connection: close, got %r" % r.get("connection"))
        else:
            try:
                c.expect_eof(3)
            except Fail as e:
                probs.append(str(e))
    else:
        if r.closes():
            probs.append("Connection: close on a persistent connection")
        if conn == "keep10" and "keep-alive" not in r.tokens("connection"):
            probs.append("HTTP/1.0 keep-alive answered without Connection: keep-alive")
        if not probs:
            # (after HEAD this also proves no body followed the answer's fields)
            try:
                follow_up(c, case["name"])
            except Fail as e:
                probs.append(str(e))
    return probs


def run_good():
    from good import CASES
    t0 = time.monotonic()
    failures = []
    for case in CASES:
        try:
            c = Conn()
        except OSError as e:
            failures.append({"name": case["name"], "got": "connect: %r" % e})
            continue
        try:
            probs = check_mirror(c, case)
        except Fail as e:
            probs = [str(e)]
        finally:
            c.close()
        if probs:
            failures.append({"name": case["name"], "request": short(case["raw"], 300),
                             "expected": "200 with the dump written in good.py", "got": "\n".join(probs)})
    finish({"mode": "good", "cases": len(CASES), "failures": failures,
            "seconds": round(time.monotonic() - t0, 2)})


# ---- asyncio helpers ----

async def aopen(timeout=30):
    return await asyncio.wait_for(asyncio.open_connection(SERVER, PORT, local_addr=(CLIENT_IP, 0)), timeout)


async def aresponse(reader, head=False):
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        raise Fail("connection closed before a response (have %s)" % short(e.partial)) from None
    r = parse_head(raw)
    kind, n = body_kind(r, head)
    r.framing = kind
    try:
        if kind == "length":
            r.body = await reader.readexactly(n)
        elif kind == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
                if size == 0:
                    await reader.readexactly(2)
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            r.body = b"".join(parts)
        elif kind == "eof":
            r.body = await reader.read()
    except asyncio.IncompleteReadError as e:
        raise Fail("connection closed inside a response body after %d of its bytes (%s)"
                   % (len(e.partial), r.desc())) from None
    r.t = time.monotonic()
    return r


def mirror_req(target, body, rid, extra=b""):
    return (b"POST " + target + b" HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " + rid + b"\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def check_mirror_answer(r, target, body, rid, method=b"POST"):
    """A /-/mirror answer to a request we built: its id, target and body at the end."""
    if r.status != 200:
        raise Fail("expected 200 from /-/mirror, got: " + r.desc())
    if r.get("x-request-id") != rid:
        raise Fail("X-Request-Id %s, expected %s" % (short(r.get("x-request-id")), short(rid)))
    head = b"method: " + method + b"\ntarget: " + target + b"\nversion: HTTP/1.1\n"
    end = b"forward: X-Request-Id: " + rid + b"\n"
    echo = body if len(body) <= 65536 else b""
    t = b"body-length: %d\nbody-crc32: %s\n\n" % (len(body), crc_hex(body)) + echo
    if not r.body.startswith(head) or end not in r.body or not r.body.endswith(t):
        raise Fail("mirror dump of %s is not what was sent: %s" % (short(rid), short(r.body, 600)))


# ---- keepalive: N concurrent persistent clients ----

def run_keepalive(n, rounds):
    raise_nofile()
    res = {"mode": "keepalive", "clients": n, "rounds": rounds, "failures": []}
    lat = []
    tally = Tally("clients")

    async def main():
        reached = [0]
        all_in = asyncio.Event()
        go = asyncio.Event()

        def arrive():
            reached[0] += 1
            if reached[0] == n:
                all_in.set()

        async def client(i):
            arrived = False
            w = None
            try:
                r, w = await aopen()
                for k in range(rounds):
                    rid = b"ka-%d-%d" % (i, k)
                    t = time.monotonic()
                    if (i + k) % 2 == 0:
                        w.write(b"GET /-/health HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " + rid + b"\r\n\r\n")
                        a = await asyncio.wait_for(aresponse(r), 60)
                        if a.status != 200 or a.body != b"200 OK\n" or a.get("x-request-id") != rid or a.closes():
                            raise Fail("health: " + a.desc())
                    else:
                        body = (b"client %d round %d;" % (i, k)) * (1 + (i * 7 + k) % 60)
                        target = b"/-/mirror?c=%d&r=%d" % (i, k)
                        w.write(mirror_req(target, body, rid))
                        a = await asyncio.wait_for(aresponse(r), 60)
                        check_mirror_answer(a, target, body, rid)
                        if a.closes():
                            raise Fail("Connection: close on a keep-alive connection: " + a.desc())
                    lat.append(time.monotonic() - t)
                    if k == 0:
                        arrived = True
                        arrive()
                        await asyncio.wait_for(go.wait(), 180)
                w.close()
            except (Fail, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                tally.add("client %d" % i, str(e) if isinstance(e, Fail) else repr(e))
                res["failed_clients"] = res.get("failed_clients", 0) + 1
                if w is not None:
                    w.close()
                if not arrived:
                    arrive()

        t0 = time.monotonic()
        tasks = [asyncio.create_task(client(i)) for i in range(n)]
        try:
            await asyncio.wait_for(all_in.wait(), 180)
        except asyncio.TimeoutError:
            res["failures"].append("only %d of %d clients made their first request in 180 s" % (reached[0], n))
        res["connect_and_first_s"] = round(time.monotonic() - t0, 2)
        try:
            st = http_stats()
            res["active_at_barrier"] = st["active"]
            if st["active"] < n:
                res["failures"].append("sluiced counts %d active HTTP connections while %d clients hold one"
                                       % (st["active"], n))
        except Fail as e:
            res["failures"].append(str(e))
        go.set()
        await asyncio.gather(*tasks)
        res["seconds"] = round(time.monotonic() - t0, 2)

    asyncio.run(main())
    res["failures"] += tally.failures()
    res["requests_ok"] = len(lat)
    if lat:
        lat.sort()
        res["latency_ms"] = {"p50": round(lat[len(lat) // 2] * 1000, 1),
                             "p99": round(lat[int(len(lat) * 0.99)] * 1000, 1),
                             "max": round(lat[-1] * 1000, 1)}
    if len(lat) != n * rounds and not res["failures"]:
        res["failures"].append("%d answers for %d requests" % (len(lat), n * rounds))
    finish(res)


# ---- pipeline ----

def send_async(c, data, errs):
    """Send from a thread (the server throttles a pipeliner that does not read)."""
    def run():
        try:
            c.send(data)
        except OSError as e:
            errs.append(repr(e))
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def chunk_body(body, rng):
    out, i = [], 0
    while i < len(body):
        n = rng.randint(1, 300)
        out.append(b"%x\r\n" % len(body[i:i + n]) + body[i:i + n] + b"\r\n")
        i += n
    return b"".join(out) + b"0\r\n\r\n"


def pipeline_requests(tag, n, rng, big=False):
    """n mixed requests and what answers them: (bytes, checker)."""
    reqs = []
    for i in range(n):
        rid = b"pipe-%s-%d" % (tag.encode(), i)
        kind = i % 6
        if kind == 0:
            reqs.append((b"GET /-/health HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " + rid + b"\r\n\r\n",
                         ("health", rid)))
        elif kind == 1:
            target = b"/-/mirror?get=%d" % i
            reqs.append((b"GET " + target + b" HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " + rid + b"\r\n\r\n",
                         ("mirror", rid, target, b"", b"GET")))
        elif kind in (2, 4):
            target = b"/-/mirror?cl=%d" % i
            body = rng.randbytes(rng.randint(0, 3000 if big else 400))
            reqs.append((mirror_req(target, body, rid), ("mirror", rid, target, body, b"POST")))
        elif kind == 3:
            target = b"/-/mirror?chunked=%d" % i
            body = rng.randbytes(rng.randint(1, 3000 if big else 600))
            reqs.append((b"POST " + target + b" HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " + rid +
                         b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk_body(body, rng),
                         ("mirror", rid, target, body, b"POST")))
        else:
            reqs.append((b"GET /no/route/%d HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " % i + rid + b"\r\n\r\n",
                         ("noroute", rid)))
    return reqs


def check_pipelined(r, chk):
    if r.get("x-request-id") != chk[1]:
        raise Fail("answer out of order: X-Request-Id %s where %s was expected: %s"
                   % (short(r.get("x-request-id")), short(chk[1]), r.desc()))
    if chk[0] == "health":
        if r.status != 200 or r.body != b"200 OK\n":
            raise Fail("health: " + r.desc())
    elif chk[0] == "noroute":  # /no/route/N: app "no" is not configured
        if r.status != 503 or r.body != b"503 Service Unavailable: no such application\n":
            raise Fail("expected the unknown-app 503: " + r.desc())
    else:
        check_mirror_answer(r, chk[2], chk[3], chk[1], method=chk[4])


def pipeline_batch(name, reqs, pieces=None, close_after=None):
    """Send all requests in one write (or in `pieces`), read the answers in order."""
    c = Conn(timeout=30)
    errs = []
    try:
        stream = b"".join(q for q, _ in reqs)
        if pieces is None:
            th = send_async(c, stream, errs)
        else:
            def trickle():
                i = 0
                try:
                    for n in pieces:
                        c.send(stream[i:i + n])
                        i += n
                        time.sleep(0.001)
                    c.send(stream[i:])
                except OSError as e:
                    errs.append(repr(e))
            th = threading.Thread(target=trickle, daemon=True)
            th.start()
        answers = 0
        for idx, (_, chk) in enumerate(reqs):
            if close_after is not None and idx > close_after:
                break
            if chk[0] == "bad":
                r = c.response(timeout=30)
                probs = check_error(r, chk[1])
                if probs:
                    raise Fail("%s: request %d: %s" % (name, idx, "; ".join(probs)))
            else:
                try:
                    r = c.response(timeout=30)
                    check_pipelined(r, chk)
                except Fail as e:
                    raise Fail("%s: request %d: %s" % (name, idx, e)) from None
                if close_after is not None and idx == close_after and not r.closes():
                    raise Fail("%s: request %d asked to close, answer without Connection: close" % (name, idx))
                if (close_after is None or idx < close_after) and r.closes():
                    raise Fail("%s: Connection: close on request %d: %s" % (name, idx, r.desc()))
            answers += 1
        if close_after is not None:
            try:
                c.expect_eof(5)
            except Fail as e:
                raise Fail("%s: after the last answer: %s" % (name, e)) from None
        th.join(30)
        if errs and close_after is None:
            raise Fail("%s: send failed: %s" % (name, errs))
        return answers
    finally:
        c.close()


def run_pipeline():
    rng = random.Random(7)
    res = {"mode": "pipeline", "failures": [], "batches": {}}
    t0 = time.monotonic()
    batches = []
    # 50 requests in one write: health, mirror GET, CL and chunked bodies, no route
    batches.append(("50-in-one-write", lambda: pipeline_batch("50-in-one-write", pipeline_requests("a", 50, rng))))
    # 600 larger ones: ~1 MB in one write, more than the receive window
    batches.append(("600-in-one-write", lambda: pipeline_batch("600-in-one-write",
                                                               pipeline_requests("b", 600, rng, big=True))))
    # 40 requests trickled in pieces of 1..40 bytes: requests split at every kind of boundary
    reqs_c = pipeline_requests("c", 40, rng)
    total = sum(len(q) for q, _ in reqs_c)
    pieces, s = [], 0
    while s < total:
        pieces.append(rng.randint(1, 40))
        s += pieces[-1]
    batches.append(("40-trickled", lambda: pipeline_batch("40-trickled", reqs_c, pieces=pieces)))
    # a bad request in the middle: the ones before it answered, then 400 and the close
    reqs_d = pipeline_requests("d", 4, rng)
    reqs_d.append((b"GET / HTTP/1.1\r\nHost: lab\r\nBad Field\r\n\r\n", ("bad", 400)))
    reqs_d += pipeline_requests("d2", 3, rng)
    batches.append(("bad-in-the-middle", lambda: pipeline_batch("bad-in-the-middle", reqs_d, close_after=4)))
    # Connection: close on the 3rd of 6: 3 answers, then the close
    reqs_e = pipeline_requests("e", 6, rng)
    q, chk = reqs_e[2]
    reqs_e[2] = (q.replace(b"\r\nHost: lab\r\n", b"\r\nHost: lab\r\nConnection: close\r\n", 1), chk)
    batches.append(("close-on-3rd", lambda: pipeline_batch("close-on-3rd", reqs_e, close_after=2)))
    # HTTP/1.0 keep-alive requests pipelined
    reqs_f = []
    for i in range(10):
        rid = b"pipe-f-%d" % i
        reqs_f.append((b"GET /-/health HTTP/1.0\r\nConnection: keep-alive\r\nX-Request-Id: " + rid + b"\r\n\r\n",
                       ("health", rid)))
    batches.append(("http10-keep-alive", lambda: pipeline_batch("http10-keep-alive", reqs_f)))
    # empty lines (CRLF) between pipelined requests are skipped (RFC 9112 2.2)
    reqs_g = [(b"\r\n" * (i % 3) + q, chk) for i, (q, chk) in enumerate(pipeline_requests("g", 24, rng))]
    batches.append(("crlf-between", lambda: pipeline_batch("crlf-between", reqs_g)))
    for name, fn in batches:
        t = time.monotonic()
        try:
            n = fn()
            res["batches"][name] = {"answers": n, "seconds": round(time.monotonic() - t, 2)}
        except (Fail, OSError) as e:
            res["failures"].append(str(e) if isinstance(e, Fail) else "%s: %r" % (name, e))
    res["seconds"] = round(time.monotonic() - t0, 2)
    finish(res)


# ---- upload ----

def upload_chunked(c, data, rng, rid, exts=True):
    head = (b"POST /-/mirror?upload=chunked HTTP/1.1\r\nHost: lab\r\nX-Request-Id: " + rid +
            b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    c.send(head)
    i, sizes = 0, []
    out = bytearray()
    while i < len(data):
        r = rng.random()
        n = rng.randint(1, 16) if r < 0.2 else rng.randint(1, 4096) if r < 0.6 else rng.randint(4096, 200000)
        piece = data[i:i + n]
        ext = b";n=%d" % len(sizes) if exts and rng.random() < 0.1 else b""
        out += b"%x%s\r\n" % (len(piece), ext) + piece + b"\r\n"
        sizes.append(len(piece))
        i += n
        if len(out) > 1 << 18:
            c.send(bytes(out))
            out.clear()
    out += b"0\r\nX-Upload-Chunks: %d\r\n\r\n" % len(sizes)
    c.send(bytes(out))
    return len(sizes)


def check_upload_answer(r, data, rid, chunked, trailer=None):
    if r.status != 200:
        raise Fail("expected 200, got: " + r.desc())
    if r.get("x-request-id") != rid:
        raise Fail("X-Request-Id %s, expected %s" % (short(r.get("x-request-id")), short(rid)))
    kind = "chunked" if chunked else "length"
    if r.framing != kind:
        raise Fail("answer framing %s, expected %s" % (r.framing, kind))
    t = b"body-length: %d\nbody-crc32: %s\n\n" % (len(data), crc_hex(data))
    if trailer is not None:
        t = trailer + t
    if not r.body.endswith(t):
        raise Fail("expected the dump to end with %s (no body echo over 64 KiB), got %s"
                   % (short(t), short(r.body[-400:])))


def run_upload(mib):
    rng = random.Random(11)
    res = {"mode": "upload", "failures": [], "steps": {}}
    size = mib << 20
    data = rng.randbytes(size)

    def step(name, fn):
        t = time.monotonic()
        try:
            out = fn()
            res["steps"][name] = dict(out if isinstance(out, dict) else {}, seconds=round(time.monotonic() - t, 2))
        except (Fail, OSError) as e:
            res["failures"].append("%s: %s" % (name, e if isinstance(e, Fail) else repr(e)))

    def chunked():
        c = Conn(timeout=120)
        try:
            n = upload_chunked(c, data, rng, b"up-chunked")
            r = c.response(timeout=120)
            check_upload_answer(r, data, b"up-chunked", True, trailer=b"trailer: X-Upload-Chunks: %d\n" % n)
            follow_up(c, "after-chunked-upload")
            return {"chunks": n, "mbit_s": round(size * 8 / (r.t - c.t_connect) / 1e6, 1)}
        finally:
            c.close()

    def length():
        c = Conn(timeout=120)
        try:
            c.send(b"PUT /-/mirror?upload=length HTTP/1.1\r\nHost: lab\r\nX-Request-Id: up-length\r\n"
                   b"Content-Length: %d\r\n\r\n" % size)
            for i in range(0, size, 1 << 18):
                c.send(data[i:i + (1 << 18)])
            r = c.response(timeout=120)
            check_upload_answer(r, data, b"up-length", False)
            follow_up(c, "after-length-upload")
            return {"mbit_s": round(size * 8 / (r.t - c.t_connect) / 1e6, 1)}
        finally:
            c.close()

    def expect_continue():
        c = Conn(timeout=60)
        body = data[:1 << 20]
        try:
            c.send(b"POST /-/mirror?expect HTTP/1.1\r\nHost: lab\r\nX-Request-Id: up-expect\r\n"
                   b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
            t = time.monotonic()
            r = c.response(timeout=3)
            if r.raw != b"HTTP/1.1 100 Continue\r\n\r\n":
                raise Fail("expected 'HTTP/1.1 100 Continue' before sending the body, got: " + r.desc())
            wait = time.monotonic() - t
            c.send(body)
            r = c.response(timeout=60)
            check_upload_answer(r, body, b"up-expect", False)
            # chunked with Expect, same connection
            c.send(b"POST /-/mirror?expect2 HTTP/1.1\r\nHost: lab\r\nX-Request-Id: up-expect2\r\n"
                   b"Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
            r = c.response(timeout=3)
            if r.raw != b"HTTP/1.1 100 Continue\r\n\r\n":
                raise Fail("chunked: expected 100 Continue, got: " + r.desc())
            c.send(chunk_body(body[:100000], rng))
            r = c.response(timeout=60)
            check_upload_answer(r, body[:100000], b"up-expect2", True)
            return {"continue_after_ms": round(wait * 1000, 1)}
        finally:
            c.close()

    def expect_too_large():
        # Content-Length over the limit with Expect: 413 at once, no 100, then the close
        c = Conn(timeout=10)
        try:
            c.send(b"POST /-/mirror HTTP/1.1\r\nHost: lab\r\nExpect: 100-continue\r\n"
                   b"Content-Length: 20000000\r\n\r\n")
            r = c.response(timeout=5)
            probs = check_error(r, 413)
            if probs:
                raise Fail("; ".join(probs))
            c.expect_eof(3)
        finally:
            c.close()

    def chunked_too_large():
        # a chunked body crossing limits.body_bytes (16 MiB): 413 once it crosses, then the close
        c = Conn(timeout=60)
        sent = [0]
        stop = threading.Event()
        errs = []
        try:
            c.send(b"POST /-/mirror?big HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n")
            block = b"%x\r\n" % 65536 + data[:65536] + b"\r\n"

            def pump():
                try:
                    while not stop.is_set() and sent[0] < (20 << 20):
                        c.send(block)
                        sent[0] += 65536
                except OSError as e:
                    errs.append(repr(e))
            th = threading.Thread(target=pump, daemon=True)
            th.start()
            r = c.response(timeout=60)
            at = sent[0]
            stop.set()
            probs = check_error(r, 413)
            if probs:
                raise Fail("; ".join(probs))
            if at < (16 << 20) - (4 << 20):
                raise Fail("413 after only %d body bytes sent (limit 16 MiB)" % at)
            c.expect_eof(5)
            th.join(10)
            return {"sent_at_answer": at}
        finally:
            stop.set()
            c.close()

    t0 = time.monotonic()
    step("chunked-%dMiB" % mib, chunked)
    step("length-%dMiB" % mib, length)
    step("expect-100-continue", expect_continue)
    step("expect-413", expect_too_large)
    step("chunked-over-16MiB-413", chunked_too_large)
    res["body_bytes_sent"] = 2 * size + (1 << 20) + 100000
    res["seconds"] = round(time.monotonic() - t0, 2)
    finish(res)


# ---- slowloris ----

def run_slowloris(n, head_ms):
    raise_nofile()
    res = {"mode": "slowloris", "slow": n, "header_timeout_ms": head_ms, "failures": []}
    limit = head_ms / 1000.0 + 2.0
    slow_done = []
    normal = []
    slow_tally, normal_tally = Tally("slow connections"), Tally("normal requests")

    async def slow(i):
        w = None
        try:
            r, w = await aopen(60)
            data = b"GET /-/health HTTP/1.1\r\nHost: slowloris\r\nX-Slow-%d: %s\r\n\r\n" % (i, b"z" * 40)
            reader = asyncio.create_task(aresponse(r))
            t_first = None
            for k in range(len(data)):
                w.write(data[k:k + 1])
                if t_first is None:
                    t_first = time.monotonic()
                done, _ = await asyncio.wait([reader], timeout=1.0)
                if done:
                    break
            else:
                raise Fail("the whole slow request was sent without an answer")
            a = reader.result()
            t_ans = time.monotonic()
            for p in check_error(a, 408):  # each property on its own
                if not p.startswith("answer: "):
                    slow_tally.add("slow %d" % i, p)
            if a.status != 408:
                raise Fail("expected 408")
            try:
                rest = await asyncio.wait_for(r.read(1), limit + 2)
            except asyncio.TimeoutError:
                raise Fail("no FIN %.1f s after the 408" % (limit + 2)) from None
            if rest != b"":
                raise Fail("bytes after the 408: %r" % rest)
            t_eof = time.monotonic()
            slow_done.append((t_ans - t_first, t_eof - t_first))
            if t_eof - t_first > limit:
                raise Fail("closed %.2f s after the first byte (limit: header timeout + 2 s = %.1f s)"
                           % (t_eof - t_first, limit))
            if t_ans - t_first < head_ms / 1000.0 - 0.2:
                raise Fail("408 after %.2f s, before the header timeout" % (t_ans - t_first))
        except (Fail, OSError, asyncio.TimeoutError) as e:
            slow_tally.add("slow %d" % i, str(e) if isinstance(e, Fail) else repr(e))
        finally:
            if w is not None:
                w.close()

    async def normal_client(j, stop):
        k = 0
        while not stop.is_set():
            t = time.monotonic()
            w = None
            try:
                r, w = await aopen(10)
                rid = b"normal-%d-%d" % (j, k)
                body = b"normal request %d %d" % (j, k)
                w.write(mirror_req(b"/-/mirror?n", body, rid))
                a = await asyncio.wait_for(aresponse(r), 10)
                check_mirror_answer(a, b"/-/mirror?n", body, rid)
                w.write(HEALTH)
                a = await asyncio.wait_for(aresponse(r), 10)
                if a.status != 200:
                    raise Fail("health: " + a.desc())
                normal.append(time.monotonic() - t)
            except (Fail, OSError, asyncio.TimeoutError) as e:
                normal_tally.add("normal %d/%d" % (j, k), str(e) if isinstance(e, Fail) else repr(e))
            finally:
                if w is not None:
                    w.close()
            k += 1
            await asyncio.sleep(0.05)

    async def main():
        stop = asyncio.Event()
        t0 = time.monotonic()
        normals = [asyncio.create_task(normal_client(j, stop)) for j in range(4)]
        slows = []
        for i in range(n):  # the ramp: 1,000 connections in about a second
            slows.append(asyncio.create_task(slow(i)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        await asyncio.gather(*slows)
        res["slow_seconds"] = round(time.monotonic() - t0, 2)
        await asyncio.sleep(1.0)  # and a moment after the storm
        stop.set()
        await asyncio.gather(*normals)

    t0 = time.monotonic()
    asyncio.run(main())
    res["seconds"] = round(time.monotonic() - t0, 2)
    res["failures"] += slow_tally.failures() + normal_tally.failures()
    res["slow_cut"] = len(slow_done)
    if slow_done:
        a = sorted(x[0] for x in slow_done)
        e = sorted(x[1] for x in slow_done)
        res["answer_after_s"] = {"min": round(a[0], 2), "max": round(a[-1], 2)}
        res["closed_after_s"] = {"min": round(e[0], 2), "max": round(e[-1], 2)}
    res["normal_requests"] = len(normal)
    if normal:
        normal.sort()
        res["normal_latency_ms"] = {"p50": round(normal[len(normal) // 2] * 1000, 1),
                                    "p99": round(normal[int(len(normal) * 0.99)] * 1000, 1),
                                    "max": round(normal[-1] * 1000, 1)}
        if normal[-1] > 2.0:
            res["failures"].append("a normal client waited %.2f s during the slowloris (want < 2 s)" % normal[-1])
    if len(normal) < 20:
        res["failures"].append("only %d normal client rounds completed" % len(normal))
    finish(res)


# ---- limits ----

def run_limits(keepalive_ms, head_ms, body_ms, max_conns, workers=1):
    res = {"mode": "limits", "failures": [], "steps": {}}
    K, H, B = keepalive_ms / 1000.0, head_ms / 1000.0, body_ms / 1000.0

    def within(what, dt, lo, hi):
        if not lo <= dt <= hi:
            raise Fail("%s after %.2f s, expected %.1f..%.1f s" % (what, dt, lo, hi))

    def idle_after_answer():
        c = Conn()
        try:
            c.send(HEALTH)
            r = c.response()
            if r.status != 200 or r.closes():
                raise Fail("health: " + r.desc())
            t = c.expect_eof(K + 5)
            within("idle close (keepalive_ms %d)" % keepalive_ms, t - r.t, K - 0.3, K + 1.5)
            return {"closed_after_s": round(t - r.t, 2)}
        finally:
            c.close()

    def idle_fresh():
        c = Conn()
        try:
            t = c.expect_eof(K + 5)
            within("a connection that never sent closed", t - c.t_connect, K - 0.3, K + 1.5)
            return {"closed_after_s": round(t - c.t_connect, 2)}
        finally:
            c.close()

    def timeout_case(what, first, later, limit, detail_re=None):
        """Send `first`, then `later` pieces 0.5 s apart; expect 408 `limit` s after the
        last byte that should restart the timer (the first byte for the head timeout)."""
        c = Conn()
        try:
            c.send(first)
            t_ref = time.monotonic()
            for piece, restarts in later:
                time.sleep(0.5)
                c.send(piece)
                if restarts:
                    t_ref = time.monotonic()
            r = c.response(timeout=limit + 5)
            probs = check_error(r, 408)
            if probs:
                raise Fail("; ".join(probs))
            within("408 (%s)" % what, r.t - t_ref, limit - 0.3, limit + 1.5)
            t = c.expect_eof(3)
            return {"answer_after_s": round(r.t - t_ref, 2), "closed_after_answer_s": round(t - r.t, 2)}
        finally:
            c.close()

    def head_timeout():
        # bytes keep coming, but the head is not complete within header_timeout_ms of its first byte
        return timeout_case("head", b"GET /-/health HTTP/1.1\r\n", [(b"X-A: 1\r\n", False), (b"X-B: 2\r\n", False)], H)

    def body_timeout_none():
        return timeout_case("no body byte", b"POST /-/mirror HTTP/1.1\r\nHost: lab\r\nContent-Length: 10\r\n\r\n", [], B)

    def body_timeout_cl():
        return timeout_case("body stalls", b"POST /-/mirror HTTP/1.1\r\nHost: lab\r\nContent-Length: 10\r\n\r\n",
                            [(b"abc", True)], B)

    def body_timeout_chunked():
        return timeout_case("chunked body stalls",
                            b"POST /-/mirror HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n",
                            [(b"5\r\nab", True)], B)

    def body_progress():
        # a body byte every B/2 s keeps the request alive well past body_timeout_ms
        c = Conn()
        try:
            body = b"steady!!"
            c.send(b"POST /-/mirror HTTP/1.1\r\nHost: lab\r\nX-Request-Id: steady\r\nContent-Length: %d\r\n\r\n"
                   % len(body))
            t0 = time.monotonic()
            for k in range(len(body)):
                time.sleep(B / 2.5)
                c.send(body[k:k + 1])
            r = c.response(timeout=5)
            check_mirror_answer(r, b"/-/mirror", body, b"steady")
            return {"request_lasted_s": round(time.monotonic() - t0, 2)}
        finally:
            c.close()

    def conn_limit():
        conns = []
        try:
            for i in range(max_conns):
                c = Conn()
                conns.append(c)
                c.send(HEALTH)
            for i, c in enumerate(conns):
                r = c.response()
                if r.status != 200 or r.closes():
                    raise Fail("connection %d of %d: %s" % (i + 1, max_conns, r.desc()))
            # the limit is per worker: with W workers the refusal comes after max_conns
            # and at most W * max_conns connections, wherever the flows land
            refused = None
            for j in range(max_conns * (workers - 1) + 1):
                extra = Conn()
                extra.send(HEALTH)
                r = extra.response()
                if r.status == 200 and not r.closes():
                    conns.append(extra)
                    continue
                try:
                    if r.status != 503 or r.body != b"503 Service Unavailable: too busy\n" or not r.closes():
                        raise Fail("connection %d (over http_connections_per_worker %d on one of %d "
                                   "workers): expected 503 too busy with Connection: close, got: %s"
                                   % (max_conns + j + 1, max_conns, workers, r.desc()))
                    extra.expect_eof(3)
                finally:
                    extra.close()
                refused = max_conns + j + 1
                break
            if refused is None:
                raise Fail("no refusal after %d connections (limit %d per worker, %d workers)"
                           % (max_conns * workers + 1, max_conns, workers))
            # the ones inside the limit are still served
            conns[0].send(HEALTH)
            r = conns[0].response()
            if r.status != 200:
                raise Fail("a connection inside the limit after the refusal: " + r.desc())
            for c in conns:
                c.close()
            conns = []
            # once they are gone a new connection is served again
            deadline = time.monotonic() + 5
            while True:
                c = Conn()
                try:
                    c.send(HEALTH)
                    r = c.response()
                finally:
                    c.close()
                if r.status == 200:
                    break
                if time.monotonic() > deadline:
                    raise Fail("still refused 5 s after the connections closed: " + r.desc())
                time.sleep(0.2)
            return {}
        finally:
            for c in conns:
                c.close()

    def drain():
        out = {}
        c1 = Conn()
        c2 = None
        try:
            c1.send(HEALTH)
            r = c1.response()
            if r.status != 200 or r.closes():
                raise Fail("before drain: " + r.desc())
            ctl("drain", "on")
            st = http_stats()
            if st.get("draining") is not True:
                raise Fail("show stats: draining %r after drain on" % st.get("draining"))
            c2 = Conn()
            c2.send(HEALTH)
            r = c2.response()
            if r.status != 503 or not r.closes() or r.get("content-type") != b"text/plain":
                raise Fail("/-/health while draining: expected 503 with Connection: close, got: " + r.desc())
            c2.expect_eof(3)
            c2.close()
            c2 = Conn()
            c2.send(b"HEAD /-/health HTTP/1.1\r\nHost: lab\r\n\r\n")
            r = c2.response(head=True)
            if r.status != 503 or not r.closes():
                raise Fail("HEAD /-/health while draining: " + r.desc())
            c2.expect_eof(3)
            # the persistent connection from before: its next answer closes it
            c1.send(mirror_req(b"/-/mirror", b"draining", b"drain-1"))
            r = c1.response()
            check_mirror_answer(r, b"/-/mirror", b"draining", b"drain-1")
            if not r.closes():
                raise Fail("a keep-alive connection's next answer while draining lacks Connection: close: "
                           + r.desc())
            c1.expect_eof(3)
            ctl("drain", "off")
            st = http_stats()
            if st.get("draining") is not False:
                raise Fail("show stats: draining %r after drain off" % st.get("draining"))
            c3 = Conn()
            try:
                for _ in range(2):
                    c3.send(HEALTH)
                    r = c3.response()
                    if r.status != 200 or r.body != b"200 OK\n" or r.closes():
                        raise Fail("/-/health after drain off: " + r.desc())
            finally:
                c3.close()
            return out
        finally:
            c1.close()
            if c2 is not None:
                c2.close()

    def linger():
        # after an error answer and its FIN, sluiced reads and drops what still comes (no RST)
        # for up to 2 s (SL_HTTP_LINGER_MS), then lets go
        c = Conn()
        try:
            c.send(b"GET / HTTP/1.1\r\nHost: lab\r\nBad Field\r\n\r\n")
            r = c.response()
            if r.status != 400 or not r.closes():
                raise Fail("expected 400 with Connection: close: " + r.desc())
            c.expect_eof(3)
            t_fin = time.monotonic()
            try:
                while time.monotonic() - t_fin < 1.2:
                    c.send(b"still talking after the 400\r\n" * 20)
                    time.sleep(0.2)
                time.sleep(0.3)
                c.send(b"x")  # an RST to the sends above would fail this one
            except OSError as e:
                raise Fail("reset within the 2 s linger after the 400: %r" % e) from None
            return {}
        finally:
            time.sleep(1.5)  # past the linger: counted as linger_expired
            c.close()

    t0 = time.monotonic()
    steps = [("conn-limit", conn_limit), ("drain", drain)]
    timed = [("idle-after-answer", idle_after_answer), ("idle-fresh", idle_fresh), ("head-timeout", head_timeout),
             ("body-timeout-no-byte", body_timeout_none), ("body-timeout-cl", body_timeout_cl),
             ("body-timeout-chunked", body_timeout_chunked), ("body-progress", body_progress),
             ("linger", linger)]

    def run_step(name, fn):
        t = time.monotonic()
        try:
            out = fn()
            res["steps"][name] = dict(out if isinstance(out, dict) else {}, seconds=round(time.monotonic() - t, 2))
        except (Fail, OSError) as e:
            res["failures"].append("%s: %s" % (name, e if isinstance(e, Fail) else repr(e)))

    for name, fn in steps:
        run_step(name, fn)
    # the timed ones run side by side (each measures its own clock)
    ths = [threading.Thread(target=run_step, args=(name, fn)) for name, fn in timed]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    res["seconds"] = round(time.monotonic() - t0, 2)
    finish(res)


# ---- misc ----

def run_misc():
    res = {"mode": "misc", "failures": [], "steps": {}}

    def step(name, fn):
        t = time.monotonic()
        try:
            out = fn()
            res["steps"][name] = dict(out if isinstance(out, dict) else {}, seconds=round(time.monotonic() - t, 2))
        except (Fail, OSError, subprocess.SubprocessError) as e:
            res["failures"].append("%s: %s" % (name, e if isinstance(e, Fail) else repr(e)))

    def one(req, status, body=None, closes=False, head=False, follow=True):
        """One request on a fresh connection. closes: the answer must close (True), must
        keep the connection (False, then a follow-up is answered), or either (None)."""
        c = Conn()
        try:
            c.send(req)
            r = c.response(head=head)
            if r.status != status or (body is not None and r.body != body):
                raise Fail("expected %d %s, got: %s" % (status, short(body), r.desc()))
            if head and (r.body or r.get("content-length") is None):
                raise Fail("HEAD answer: " + r.desc())
            if closes is None:  # either: the connection must then behave accordingly
                closes = r.closes()
            if closes:
                if not r.closes():
                    raise Fail("expected Connection: close: " + r.desc())
                c.expect_eof(3)
            else:
                if r.closes():
                    raise Fail("unexpected Connection: close: " + r.desc())
                if follow:
                    follow_up(c, "misc")
            return r
        finally:
            c.close()

    OK = b"200 OK\n"
    # no /<app>/<event>: 404 (docs/dispatch.md "Routing"); /-/healthz names app "-": 503
    NOROUTE = b"404 Not Found: invalid url: expected /<app>/<event>\n"
    NOAPP = b"503 Service Unavailable: no such application\n"
    step("http10-without-keep-alive", lambda: one(b"GET /-/health HTTP/1.0\r\n\r\n", 200, OK, closes=True))
    step("http10-keep-alive-header", lambda: one(b"GET /-/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                                                 200, OK))
    step("http11-connection-close",
         lambda: one(b"GET /-/health HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n", 200, OK, closes=True))
    step("http11-connection-close-mixed-case",
         lambda: one(b"GET /-/health HTTP/1.1\r\nHost: lab\r\nConnection: keep-alive, CLOSE\r\n\r\n",
                     200, OK, closes=True))

    def head_health():
        r = one(b"HEAD /-/health HTTP/1.1\r\nHost: lab\r\n\r\n", 200, b"", head=True)
        if r.get("content-length") != b"7":
            raise Fail("HEAD /-/health Content-Length %r, expected 7 (as GET)" % r.get("content-length"))
    step("head-health-no-body", head_health)
    step("head-no-route", lambda: one(b"HEAD /nothing HTTP/1.1\r\nHost: lab\r\n\r\n", 404, b"", head=True,
                                              closes=None))
    step("no-route", lambda: one(b"GET /index.html HTTP/1.1\r\nHost: lab\r\n\r\n", 404, NOROUTE, closes=None))
    step("no-route-healthz", lambda: one(b"GET /-/healthz HTTP/1.1\r\nHost: lab\r\n\r\n", 503, NOAPP, closes=None))
    step("no-route-post-body-read",
         lambda: one(b"POST /upload HTTP/1.1\r\nHost: lab\r\nContent-Length: 11\r\n\r\nhello world", 404, NOROUTE,
                     closes=None))
    step("options-asterisk", lambda: one(b"OPTIONS * HTTP/1.1\r\nHost: lab\r\n\r\n", 404, NOROUTE, closes=None))
    step("health-query", lambda: one(b"GET /-/health?probe=1 HTTP/1.1\r\nHost: lab\r\n\r\n", 200, OK))
    step("health-absolute-form", lambda: one(b"GET http://lab/-/health HTTP/1.1\r\nHost: lab\r\n\r\n", 200, OK))

    def post_health():
        r = one(b"POST /-/health HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n\r\nhello", 405, closes=None)
        if not re.fullmatch(rb"405 Method Not Allowed: [^\n]+\n", r.body):
            raise Fail("405 body: " + r.desc())
    step("post-health-405", post_health)
    step("delete-health-405", lambda: one(b"DELETE /-/health HTTP/1.1\r\nHost: lab\r\n\r\n", 405, closes=None))

    def expect_no_route():
        c = Conn()
        try:
            c.send(b"POST /upload HTTP/1.1\r\nHost: lab\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n")
            r = c.response(timeout=5)
            if r.status == 100:
                raise Fail("100 Continue for a request nothing will take")
            if r.status != 404 or r.body != NOROUTE or not r.closes():
                raise Fail("expected the no-route 404 with Connection: close, got: " + r.desc())
            c.expect_eof(3)
        finally:
            c.close()
    step("expect-100-no-route", expect_no_route)

    def expect_http10():
        # HTTP/1.0 clients do not expect 100 (RFC 9110 10.1.1): no 100 for them
        c = Conn()
        try:
            c.send(b"POST /-/mirror HTTP/1.0\r\nExpect: 100-continue\r\nX-Request-Id: e10\r\n"
                   b"Content-Length: 3\r\n\r\nabc")
            r = c.response(timeout=5)
            if r.status == 100:
                raise Fail("100 Continue sent to an HTTP/1.0 client")
            if r.status != 200 or r.get("x-request-id") != b"e10" or not r.body.endswith(
                    b"body-length: 3\nbody-crc32: %s\n\nabc" % crc_hex(b"abc")):
                raise Fail("expected the mirror's 200: " + r.desc())
        finally:
            c.close()
    step("expect-http10-no-100", expect_http10)

    def client_half_close():
        # a request then our FIN: answered, then the server closes too
        c = Conn()
        try:
            c.send(HEALTH)
            c.s.shutdown(socket.SHUT_WR)
            r = c.response()
            if r.status != 200:
                raise Fail("health before our FIN: " + r.desc())
            c.expect_eof(3)
        finally:
            c.close()
    step("half-close-after-request", client_half_close)

    curl = shutil.which("curl")
    res["curl"] = curl
    if curl:
        base = "http://%s" % SERVER

        def run_curl(*args, data=None, timeout=20):
            r = subprocess.run([curl, "-sS", "--max-time", "15", "--interface", CLIENT_IP] + list(args),
                               input=data, capture_output=True, timeout=timeout)
            if r.returncode != 0:
                raise Fail("curl %s -> %d: %s" % (" ".join(args), r.returncode, r.stderr.decode(errors="replace")))
            return r.stdout

        def curl_health():
            out = run_curl("-i", base + "/-/health")
            if not out.startswith(b"HTTP/1.1 200 OK\r\n") or not out.endswith(b"\r\n\r\n200 OK\n"):
                raise Fail("curl -i /-/health: %s" % short(out))
            out = run_curl("-I", base + "/-/health")
            if not out.startswith(b"HTTP/1.1 200 OK\r\n") or b"Content-Length: 7" not in out:
                raise Fail("curl -I /-/health: %s" % short(out))
            out = run_curl("--http1.0", "-i", base + "/-/health")
            if not out.startswith(b"HTTP/1.1 200 OK\r\n") or b"Connection: close" not in out:
                raise Fail("curl --http1.0: %s" % short(out))

        def curl_reuse():
            out = run_curl("-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n",
                           base + "/-/health", base + "/-/mirror", base + "/-/health")
            if out.split() != [b"1", b"0", b"0"]:
                raise Fail("curl did not reuse its connection: num_connects %r" % out)

        def curl_upload():
            body = random.Random(3).randbytes(300000)
            out = run_curl("--data-binary", "@-", "-H", "Content-Type: application/octet-stream",
                           "-H", "Expect:", base + "/-/mirror?curl=cl", data=body)
            if not out.endswith(b"body-length: %d\nbody-crc32: %s\n\n" % (len(body), crc_hex(body))):
                raise Fail("curl Content-Length upload: %s" % short(out[-300:]))
            out = run_curl("--data-binary", "@-", "-H", "Transfer-Encoding: chunked", "-H", "Expect:",
                           base + "/-/mirror?curl=chunked", data=body)
            if not out.endswith(b"body-length: %d\nbody-crc32: %s\n\n" % (len(body), crc_hex(body))):
                raise Fail("curl chunked upload: %s" % short(out[-300:]))
            t = time.monotonic()
            small = body[:5000]
            out = run_curl("--expect100-timeout", "5", "-H", "Expect: 100-continue", "--data-binary", "@-",
                           base + "/-/mirror?curl=expect", data=small)
            dt = time.monotonic() - t
            if not out.endswith(b"body-length: %d\nbody-crc32: %s\n\n%s" % (len(small), crc_hex(small), small)):
                raise Fail("curl Expect upload: %s" % short(out[-300:]))
            if dt > 3:
                raise Fail("curl with Expect: 100-continue took %.1f s (no 100 Continue?)" % dt)
            return {"expect_s": round(dt, 2)}

        step("curl-health", curl_health)
        step("curl-connection-reuse", curl_reuse)
        step("curl-uploads", curl_upload)
    finish(res)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    mode, a = sys.argv[1], [int(x) for x in sys.argv[2:]]
    try:
        if mode == "bad":
            run_bad()
        elif mode == "good":
            run_good()
        elif mode == "keepalive":
            run_keepalive(*(a or [1000, 5]))
        elif mode == "pipeline":
            run_pipeline()
        elif mode == "upload":
            run_upload(*(a or [10]))
        elif mode == "slowloris":
            run_slowloris(*(a or [1000, 2000]))
        elif mode == "limits":
            run_limits(*a)
        elif mode == "misc":
            run_misc()
        else:
            sys.exit("unknown mode %r\n%s" % (mode, __doc__))
    except Fail as e:
        finish({"mode": mode, "failures": ["aborted: %s" % e]})


if __name__ == "__main__":
    main()
