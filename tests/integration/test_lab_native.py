#!/usr/bin/python3
"""The native front (issue 12): unmodified Cocaine 0.12 clients resolve and call apps through
sluiced. sluiced in the lab with a `native` listener on 198.18.0.2:10053 (app ports from
20000) in front of three sluice-node nodes (tools/lab nodes 3) running the echo app
(deadline_ms 2000, retries 2). The client is tests/integration/native/ncl.py; the test moves
into the lab's namespace and talks to the addresses directly.

  test_lab_native.py MODE [--target sluiced|node]

  basic      resolve echo -> [198.18.0.2:20000], version 1, the app graph of 4.2 (raw strings,
             three value args); several resolves on one locator connection; an unknown app ->
             error [[0x0A, 1], ...]; another locator method answered (value or error) with the
             connection kept; ping with three writes and close echoed;
             `error` -> [[43, 1], "requested error"] exactly, and the client's close after it
             is not a violation; 3-element frames, str8/bin strings, a first channel of
             999999, headers sent compressed (stored, bare indices, name indices) as the
             Python framework does, reply headers decoded with the dynamic table; `info` on the
             app port -> value [map] counting 3 nodes serving echo; the second app, hdr
             (native/hdrworker.py), on app port 20001: the client's trace_id, span_id,
             parent_id and other headers reach the worker unchanged, sent plain or compressed;
             large writes: 16 x 64 KiB, one 300 KB and one 512 KiB chunk, a 900 KB http
             request, all echoed
  spread     30 whoami answered by all three nodes (their locators' uuids); 1,000 ping
             exchanges (three writes, close) on 4 connections with 25 in flight each, every
             one echoed exactly; every node's own info shows >= 250 of them accepted, and
             sluicectl show nodes' counters.requests agree node by node
  inflight   64 sleep 300 at once on one connection (all answered, in well under 64 x 300
             ms); 64 pings interleaved write by write on one connection, each echoed exactly
  timeout    request_timeout 300 against sleep 2000 -> [[0x01, 110]] in 300..450 ms;
             deadline_ms 2000 against sleep 3000 -> [[0x01, 110]] in 2000..2150 ms;
             request_timeout 5000 does not raise the deadline; a ping left open: whatever it
             gets, the client's later write/close does not cost the connection; the
             connection serves afterwards
  kill       24 sleep 1500 (under the 2 s deadline) spread over the nodes, node 1 SIGKILLed
             once all are at the nodes: exactly the
             channels node 1 held (its own info `load`) get [[0x01, 104]] within 1 s of the
             kill, the others answer "1500"; the connection keeps serving on nodes 2 and 3;
             all nodes killed -> enqueue gets [[0x0A, 1]]
  malformed  while 4 connections carry 40 sleeps and 12 open pings: garbage bytes, a frame
             that is not an array, frames of the wrong shape, [1, 99, []], an unknown message
             id on an open channel, a write on a channel the client closed -- each closes only
             its own connection (within 1 s); every channel of the other connections is
             answered correctly and sluiced's connections to the nodes stay up
  all        every mode above on one lab (for development)

--target node points the same client and checks at sluice-node 1's locator (198.18.0.11:10053,
its app port from its resolve) with the lab's default config: what is sluiced's own (app port
20000, the 3-node spread, sluiced's timeout errors, info's node count, the node connection
lost) is replaced by what a single node does or skipped, and said so in the log.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import time

import labtest as t

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "native"))
sys.dont_write_bytecode = True
import ncl  # noqa: E402

args = [a for a in sys.argv[1:] if not a.startswith("--")]
MODE = args[0] if args else "basic"
TARGET = "sluiced"
for i, a in enumerate(sys.argv):
    if a == "--target" and i + 1 < len(sys.argv):
        TARGET = sys.argv[i + 1]
    elif a.startswith("--target="):
        TARGET = a.split("=", 1)[1]
if TARGET not in ("sluiced", "node"):
    sys.exit("--target: sluiced or node")
ON_NODE = TARGET == "node"

NODES = ["198.18.0.11:10053", "198.18.0.12:10053", "198.18.0.13:10053"]
FRONT = "198.18.0.2"
LOCATOR = ("198.18.0.11", 10053) if ON_NODE else (FRONT, 10053)
APP_PORT0 = 20000
DEADLINE_MS = 2000
TMP = tempfile.mkdtemp(prefix="sl-nat-")
LEAVE = []


UP = []


def node_config():
    """config/node.json with a second app, `hdr` (native/hdrworker.py), beside echo."""
    apps = os.path.join(TMP, "apps")
    shutil.copytree(os.path.join(t.ROOT, "config", "node", "apps"), apps, dirs_exist_ok=True)
    os.makedirs(os.path.join(apps, "hdr"), exist_ok=True)
    with open(os.path.join(apps, "hdr", "manifest.json"), "w") as f:
        json.dump({"slave": os.path.join(HERE, "native", "hdrworker.py"),
                   "environment": {"PYWORKER_HEARTBEAT": "1"}}, f)
    nc = json.load(open(os.path.join(t.ROOT, "config", "node.json")))
    nc["paths"]["apps"] = apps
    nc["paths"]["profiles"] = os.path.join(t.ROOT, "config", "node", "profiles")
    nc["runlist"] = {"echo": "default", "hdr": "default"}
    path = os.path.join(TMP, "node.json")
    with open(path, "w") as f:
        json.dump(nc, f, indent=2)
    return path


def up():
    if UP:  # mode "all": one lab; the nodes back if a mode stopped them
        t.lab("nodes", "3", "--config", node_config(), timeout=120)
        wait_nodes_up()
        return
    UP.append(1)
    c = json.load(open(os.path.join(t.ROOT, "config", "lab.json")))
    c["eal"]["args"] = ["--no-huge", "-m", "1024", "--no-pci"]
    c.setdefault("dataplane", {})["mbufs_per_port"] = 65535
    c["nodes"] = [{"locator": a} for a in NODES]
    # echo on app port 20000, hdr on 20001
    c["apps"] = {"echo": {"deadline_ms": DEADLINE_MS, "retries": 2},
                 "hdr": {"deadline_ms": DEADLINE_MS, "retries": 2}}
    c["discovery"] = {"resolve_interval_ms": 1000, "info_interval_ms": 300, "timeout_ms": 300,
                      "down_after": 2}
    # the native listener (config/lab.json may have it already); none on --target node
    c["listeners"] = [x for x in c["listeners"] if x.get("protocol") != "native"]
    if not ON_NODE:
        c["listeners"].append({"address": FRONT + ":10053", "protocol": "native",
                               "app_ports": APP_PORT0})
    path = os.path.join(TMP, "sluiced.json")
    with open(path, "w") as f:
        json.dump(c, f, indent=2)
    t.lab("down", check=False)
    t.lab("up", "--workers", "2", "--config", path)
    t.lab("nodes", "3", "--config", node_config(), timeout=120)
    wait_nodes_up()
    if not LEAVE:
        LEAVE.append(ncl.enter_netns(t.NS))
    # the front may need a moment after the view has the nodes: resolve until it answers
    t.wait_for("resolve echo at %s:%d" % LOCATOR, lambda: try_resolve() is not None, 10)


def try_resolve():
    try:
        return ncl.resolve(LOCATOR[0], LOCATOR[1], "echo", timeout=1.0)
    except (OSError, ncl.ServiceError, ncl.ProtocolError, TimeoutError):
        return None






def wait_nodes_up(which=NODES, limit=10):
    def ok():
        ns = t.nodes()
        return all(ns[a]["state"] == "up" and ns[a]["apps"]["echo"]["state"] == "present" and
                   ns[a]["apps"]["hdr"]["state"] == "present" for a in which)
    return t.wait_for("nodes %s up with echo and hdr" % which, ok, limit)


def wait_nodes_down(which, limit=5):
    return t.wait_for("nodes %s down" % which, lambda: all(t.nodes()[a]["state"] != "up" for a in which), limit)




def app_conn(**kw):
    return ncl.app_connection(LOCATOR[0], LOCATOR[1], "echo", **kw)


def node_info(k):
    """Node k's own echo info (straight to the node, not through sluiced)."""
    c = ncl.app_connection("198.18.0.1%d" % k, 10053, "echo")
    try:
        return ncl.strs(c.info())
    finally:
        c.shutdown()


def node_uuid(k):
    return ncl.locator_call("198.18.0.1%d" % k, 10053, "uuid")[0].decode()


def node_conns():
    """sluiced's established connections to the nodes, as the kernel side sees them."""
    r = t.nsx("ss", "-Htn", "state", "established")
    out = set()
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[-2].startswith("198.18.0.1") and f[-1].startswith(FRONT + ":"):
            out.add((f[-2], f[-1]))
    return out


def short(v):
    """A readable repr: long byte strings by their length."""
    if isinstance(v, (list, tuple)):
        return type(v)(short(x) for x in v)
    if isinstance(v, bytes) and len(v) > 64:
        return "<%d bytes>" % len(v)
    return v


def expect_echo(ch, chunks, what):
    assert ch.result() == ("close", list(chunks)), "%s: channel %d: %r, expected close after %r" % (
        what, ch.id, short(ch.result()), short(list(chunks)))


def expect_error(ch, cat, code, what):
    r = ch.result()
    assert r[0] == "error" and (r[1], r[2]) == (cat, code), "%s: channel %d: %r, expected error [%#x, %d]" % (
        what, ch.id, r, cat, code)


def skip(what):
    t.log("SKIPPED on --target node: %s" % what)


# ---- basic ----

def check_resolve():
    eps, version, graph = ncl.resolve(LOCATOR[0], LOCATOR[1], "echo")
    t.log("resolve echo at %s:%d: %s, version %d" % (LOCATOR[0], LOCATOR[1], eps, version))
    if ON_NODE:
        assert len(eps) == 1 and eps[0][0] == LOCATOR[0] and 0 < eps[0][1] < 65536, eps
    else:
        assert eps == [(FRONT, APP_PORT0)], eps
    assert version == 1, version
    assert graph == ncl.APP_GRAPH, graph
    # as received (12a.5): three value args, the host and the graph's names raw strings
    raw = ncl.resolve_raw(LOCATOR[0], LOCATOR[1], "echo")
    assert len(raw) == 3 and isinstance(raw[0][0][0], bytes) and isinstance(raw[0][0][1], int), raw
    assert all(isinstance(v[0], bytes) for v in raw[2].values()), raw[2]
    # an unknown app
    try:
        r = ncl.resolve(LOCATOR[0], LOCATOR[1], "nosuchapp")
        raise AssertionError("resolve nosuchapp: %r" % (r,))
    except ncl.ServiceError as e:
        t.log("resolve nosuchapp: [%#x, %d] %s" % (e.category, e.code, e.message))
        assert (e.category, e.code) == (ncl.CAT_LOCATOR, 1), e
    # one locator connection, several resolves in turn and at once; another method in between
    lc = ncl.Connection(LOCATOR, ncl.LOCATOR_GRAPH)
    for _ in range(3):
        assert ncl.resolve(None, None, "echo", conn=lc)[0] == eps
    other = lc.open("uuid")
    assert lc.wait([other], 3), "uuid on the locator: no answer (%s)" % ("closed" if lc.eof else "silent")
    t.log("locator uuid: %r" % (other.result(),))
    assert other.result()[0] in ("value", "error"), other.result()
    chs = [lc.open("resolve", n) for n in ("echo", "nosuchapp", "echo", "locator-x")]
    assert lc.wait(chs, 3) and not lc.eof, [c.result() for c in chs]
    assert chs[0].value[0] == raw[0] and chs[2].value[0] == raw[0], chs[0].value
    assert chs[1].error[0] == (ncl.CAT_LOCATOR, 1) and chs[3].error[0] == (ncl.CAT_LOCATOR, 1), chs[1].error
    lc.shutdown()
    return eps


def check_basic_app(eps):
    c = app_conn()
    # ping, three writes
    ch = ncl.exchange(c, "ping", [b"one", b"two", b"three"])
    expect_echo(ch, [b"one", b"two", b"three"], "ping")
    # error: as the node sent it; then the client's close is allowed (12a.6)
    ch = c.enqueue("error")
    assert c.wait([ch], 5), ch.result()
    assert ch.result() == ("error", 43, 1, "requested error"), ch.result()
    assert ch.msgs[-1][1] == [[43, 1], b"requested error"], ch.msgs
    ch.write(b"after the error")
    ch.close()
    ch2 = ncl.exchange(c, "ping", [b"still here"])
    assert not c.eof, "a write/close after the server's error closed the connection (12a.6)"
    expect_echo(ch2, [b"still here"], "ping after the error")
    # sleep, whoami
    ch = ncl.exchange(c, "sleep", [b"100"])
    expect_echo(ch, [b"100"], "sleep 100")
    assert ch.elapsed >= 0.099, ch.elapsed
    ch = ncl.exchange(c, "whoami", [])
    assert ch.closed and len(ch.chunks) == 1 and len(ch.chunks[0]) == 36, ch.result()
    # an unknown event: the worker's error passes through
    ch = ncl.exchange(c, "nosuchevent", [b"x"])
    t.log("unknown event: %r" % (ch.result(),))
    assert ch.result()[:3] == ("error", 42, 1), ch.result()
    # info on the app port
    info = ncl.strs(c.info())
    t.log("info on the app port: %s" % json.dumps(info)[:600])
    assert isinstance(info, dict) and info, info
    if ON_NODE:
        assert info["state"] == "running", info
    else:
        n = count_nodes(info)
        assert n == 3, "info: %r nodes serving echo, expected 3: %s" % (n, info)
    assert not c.eof
    c.shutdown()


def count_nodes(info):
    """The number of nodes an info map says serve the app: a `nodes` entry (a count, a list or
    a map), else the first integer under a key naming nodes."""
    for k in ("nodes", "nodes_up", "up"):
        v = info.get(k)
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            return v
        if isinstance(v, (list, dict)):
            return len(v)
    for k, v in info.items():
        if "node" in k and isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def check_compat(eps):
    """What real 0.12 clients do (12a): 3-element frames, str8/bin, a first channel of 999999,
    compressed headers; the reply headers decode with the dynamic table."""
    c = ncl.Connection(eps[0], use_bin=True, three=True)
    ch = c.enqueue("ping", channel=999999)
    s8 = "a str8 string: more than 31 bytes long, " * 2
    ch.write(b"bin payload")
    ch.write(s8)
    ch.close()
    assert c.wait([ch], 5), ch.result()
    expect_echo(ch, [b"bin payload", s8.encode()], "3-element frames, str8/bin, first channel 999999")
    ch = ncl.exchange(c, "ping", [b"next"])
    assert ch.id == 1000000, ch.id
    expect_echo(ch, [b"next"], "channel 1000000")
    c.shutdown()
    # headers the way cocaine-framework-python sends them (12a.3): stored names, then bare
    # indices for a full match and [true, idx, value] for a name match; every trace value
    # differs, and 3000-byte entries now and then evict the older ones
    c = app_conn(compress=True)
    chs = []
    for i in range(60):
        tid = ncl.u64(0x1000 + i)
        trace = [("trace_id", tid), ("span_id", tid), ("parent_id", ncl.u64(0))]
        ch = c.enqueue("ping", headers=trace + [("x-big", (b"%d" % (i // 10)) * 3000)])
        ch.write(b"t%d" % i, headers=[("x-extra", b"v" * 100)] + trace)
        ch.close(headers=trace)
        chs.append(ch)
    assert c.wait(chs, 10), [x.result() for x in chs if not x.done][:3]
    for i, ch in enumerate(chs):
        expect_echo(ch, [b"t%d" % i], "compressed headers")
    assert not c.eof
    hdrs = [h for ch in chs for (_, _, hs) in ch.msgs for h in hs]
    t.log("60 pings with compressed headers echoed; reply headers seen: %d (names %s)" % (
        len(hdrs), sorted(set(n for n, _ in hdrs))[:10]))
    c.shutdown()
    # static indices (80-82 trace/span/parent, a name index into the static table)
    c = app_conn()
    ch = ncl.exchange(c, "ping", [b"static"], headers=[80, 81, [False, 82, ncl.u64(5)], 2, [True, 38, b"h"]])
    expect_echo(ch, [b"static"], "static header indices")
    ch = ncl.exchange(c, "ping", [b"stored"], headers=[83])  # the host entry stored just before
    expect_echo(ch, [b"stored"], "a stored entry by index")
    # a request_timeout header given in wire form with a stored name
    ch = ncl.exchange(c, "ping", [b"rt"], headers=[[True, b"request_timeout", ncl.u64(1500)]])
    expect_echo(ch, [b"rt"], "request_timeout stored")
    ch = ncl.exchange(c, "ping", [b"rt2"], headers=[83])
    expect_echo(ch, [b"rt2"], "request_timeout by index")
    assert not c.eof
    c.shutdown()


def check_headers():
    """The second app port, and the client's headers as the node's worker got them."""
    eps, _, graph = ncl.resolve(LOCATOR[0], LOCATOR[1], "hdr")
    t.log("resolve hdr: %s" % eps)
    if ON_NODE:
        assert len(eps) == 1 and eps[0][0] == LOCATOR[0], eps
    else:
        assert eps == [(FRONT, APP_PORT0 + 1)], eps
    assert graph == ncl.APP_GRAPH, graph
    c = ncl.Connection(eps[0], graph)
    expect_echo(ncl.exchange(c, "ping", [b"p1", b"p2"]), [b"p1", b"p2"], "ping on the hdr app")
    ch = ncl.exchange(c, "whoami", [])  # echo's event, not hdr's: this port is the hdr app
    assert ch.result()[:3] == ("error", 42, 200), ch.result()
    sent = [("trace_id", ncl.u64(0x1122334455667788)), ("span_id", ncl.u64(0x99aabbccddeeff00)),
            ("parent_id", ncl.u64(7)), ("x-custom", b"custom value")]

    def seen(ch):
        assert ch.closed, ch.result()
        return dict(x.decode().split("=", 1) for x in ch.chunks)
    got = seen(ncl.exchange(c, "hdrs", [], headers=sent))
    t.log("headers at the worker for [false, name, value] headers: %s" % got)
    for n, v in sent:
        assert got.get(n) == v.hex(), "header %s: sent %s, the worker got %s" % (n, v.hex(), got.get(n))
    # compressed the way the Python framework does it: what arrives is the same
    cc = ncl.Connection(eps[0], graph, compress=True)
    for i in range(5):
        tr = [("trace_id", ncl.u64(0x500 + i)), ("span_id", ncl.u64(0x600 + i)), ("parent_id", ncl.u64(0)),
              ("x-custom", b"custom value")]
        got = seen(ncl.exchange(cc, "hdrs", [], headers=tr))
        for n, v in tr:
            assert got.get(n) == v.hex(), "compressed request %d: header %s: sent %s, got %s" % (
                i, n, v.hex(), got.get(n))
    t.log("5 requests with compressed headers: the worker got every trace id as sent")
    # a request_timeout header reaches the node too (with its value, or lowered by sluiced)
    got = seen(ncl.exchange(c, "hdrs", [], headers=[ncl.request_timeout(1500)] + sent[:1]))
    t.log("with request_timeout 1500: %s" % got)
    assert got.get("trace_id") == sent[0][1].hex(), got
    c.shutdown()
    cc.shutdown()


def check_large():
    """Large writes: 1 MiB in 16 chunks of 64 KiB, then single chunks of 300 KB and 512 KiB,
    and an empty one (frames under 1 MiB: the protocol sets no limit, sluiced's is 1 MiB)."""
    c = app_conn()
    big = [os.urandom(64 << 10) for _ in range(16)]
    ch = ncl.exchange(c, "ping", big, timeout=5)
    expect_echo(ch, big, "1 MiB in 64 KiB chunks")
    for size in (300000, 512 << 10):
        chunks = [os.urandom(size), b""]
        ch = ncl.exchange(c, "ping", chunks, timeout=5)
        r = ch.result()
        t.log("a %d-byte write: %s after %.3f s" % (size, r[:3] if r[0] == "error" else (r[0], [len(x) for x in r[1]]),
                                                   ch.elapsed))
        expect_echo(ch, chunks, "a %d-byte write" % size)
    # the same through the http event: one 900 KB request chunk, the body echoed in one chunk
    body = os.urandom(900000)
    ch = ncl.exchange(c, "http", [ncl.msgpack.packb(["POST", "/", "1.1", [], body], use_bin_type=False)], timeout=5)
    assert ch.closed and len(ch.chunks) == 2 and ch.chunks[1] == body, ch.result()[:3]
    c.shutdown()


def test_basic():
    up()
    eps = check_resolve()
    check_basic_app(eps)
    check_compat(eps)
    check_headers()
    check_large()


# ---- spread ----

def run_pings(conns, total, window, nwrites=3, payload=16):
    """`total` ping exchanges over the connections, `window` in flight on each; every reply
    checked. Returns the seconds taken."""
    todo = list(range(total))
    expect = {}
    inflight = {c: [] for c in conns}
    done = 0
    t0 = time.monotonic()
    while done < total:
        for c in conns:
            while todo and len(inflight[c]) < window:
                i = todo.pop()
                chunks = [b"%d:%d:" % (i, k) + os.urandom(payload) for k in range(nwrites)]
                ch = c.enqueue("ping")
                for x in chunks:
                    ch.write(x)
                ch.close()
                expect[ch] = chunks
                inflight[c].append(ch)
        for c in conns:
            if inflight[c]:
                c.pump(0.01)
                assert not c.eof, "connection closed with %d channels in flight" % len(inflight[c])
                left = []
                for ch in inflight[c]:
                    if ch.done:
                        expect_echo(ch, expect.pop(ch), "ping")
                        done += 1
                    elif ch.elapsed > 10:
                        raise AssertionError("ping channel %d: no reply in 10 s (%r)" % (ch.id, ch.result()))
                    else:
                        left.append(ch)
                inflight[c] = left
    return time.monotonic() - t0


def test_spread():
    up()
    c = app_conn()
    uuids = {}
    for _ in range(30):
        ch = ncl.exchange(c, "whoami", [])
        assert ch.closed and len(ch.chunks) == 1, ch.result()
        u = ch.chunks[0].decode()
        uuids[u] = uuids.get(u, 0) + 1
    known = {node_uuid(k): NODES[k - 1] for k in (1, 2, 3)}
    by_node = {known.get(u, u): n for u, n in uuids.items()}
    t.log("30 whoami by node: %s" % by_node)
    if ON_NODE:
        assert list(by_node) == [NODES[0]], by_node
    else:
        assert sorted(by_node) == NODES and min(by_node.values()) >= 5, by_node
    before = {k: node_info(k)["requests"]["accepted"] for k in (1, 2, 3)}
    ctr0 = {} if ON_NODE else {a: n["counters"]["requests"] for a, n in t.nodes().items()}
    conns = [c] + [app_conn() for _ in range(3)]
    secs = run_pings(conns, 1000, 25)
    after = {k: node_info(k)["requests"]["accepted"] for k in (1, 2, 3)}
    delta = {NODES[k - 1]: after[k] - before[k] for k in (1, 2, 3)}
    t.log("1,000 pings x 3 writes on 4 connections (25 in flight each) in %.2f s, accepted by node: %s" % (
        secs, delta))
    if ON_NODE:
        assert delta[NODES[0]] == 1000, delta
    else:
        assert sum(delta.values()) == 1000 and min(delta.values()) >= 250, delta
        # sluiced's own per-node counters (show nodes) agree with the nodes
        ctr = {a: n["counters"]["requests"] - ctr0[a] for a, n in t.nodes().items()}
        t.log("sluicectl show nodes: counters.requests by node: %s" % ctr)
        assert ctr == delta, (ctr, delta)
    for x in conns:
        assert not x.eof
        x.shutdown()


# ---- inflight ----

def test_inflight():
    up()
    c = app_conn()
    t0 = time.monotonic()
    chs = []
    for i in range(64):
        ch = c.enqueue("sleep")
        ch.write(b"300")
        ch.close()
        chs.append(ch)
    assert c.wait(chs, 10), [x.result() for x in chs if not x.done][:3]
    secs = time.monotonic() - t0
    for ch in chs:
        expect_echo(ch, [b"300"], "64 sleeps")
        assert ch.elapsed >= 0.29, ch.elapsed
    t.log("64 sleep 300 on one connection: all answered in %.3f s" % secs)
    assert secs < 1.5, secs
    # 64 pings interleaved write by write
    chs = [c.enqueue("ping") for _ in range(64)]
    for k in range(3):
        for i, ch in enumerate(chs):
            ch.write(b"c%d-w%d" % (i, k))
        c.pump(0)
    for ch in reversed(chs):
        ch.close()
    assert c.wait(chs, 10), [x.result() for x in chs if not x.done][:3]
    for i, ch in enumerate(chs):
        expect_echo(ch, [b"c%d-w%d" % (i, k) for k in range(3)], "64 interleaved pings")
    # the echo streams: a write comes back before the close is sent
    chs = [c.enqueue("ping") for _ in range(64)]
    for i, ch in enumerate(chs):
        ch.write(b"first %d" % i)
    end = time.monotonic() + 5
    while not all(ch.chunks for ch in chs) and time.monotonic() < end:
        c.pump(0.1)
    assert all(ch.chunks == [b"first %d" % i] for i, ch in enumerate(chs)), \
        "64 open pings: not every first write echoed before the close"
    for ch in chs:
        ch.close()
    assert c.wait(chs, 5)
    for i, ch in enumerate(chs):
        expect_echo(ch, [b"first %d" % i], "64 streaming pings")
    t.log("64 interleaved pings and 64 streaming pings on one connection: all echoed")
    assert not c.eof
    c.shutdown()


# ---- timeout ----

def test_timeout():
    up()
    if ON_NODE:
        skip("sluiced's deadline and request_timeout (sluice-node does not read request_timeout)")
        c = app_conn()
        ch = ncl.exchange(c, "sleep", [b"500"], headers=[ncl.request_timeout(300)])
        expect_echo(ch, [b"500"], "the node ignores request_timeout")
        c.shutdown()
        return
    c = app_conn()
    ch = ncl.exchange(c, "sleep", [b"2000"], headers=[ncl.request_timeout(300)], timeout=5)
    t.log("request_timeout 300 against sleep 2000: %r after %.3f s" % (ch.result(), ch.elapsed))
    expect_error(ch, ncl.CAT_ERRNO, ncl.ETIMEDOUT, "request_timeout 300")
    assert 0.3 <= ch.elapsed <= 0.45, ch.elapsed
    # the app's deadline
    ch = ncl.exchange(c, "sleep", [b"3000"], timeout=5)
    t.log("deadline_ms %d against sleep 3000: %r after %.3f s" % (DEADLINE_MS, ch.result(), ch.elapsed))
    expect_error(ch, ncl.CAT_ERRNO, ncl.ETIMEDOUT, "deadline")
    assert DEADLINE_MS / 1000.0 <= ch.elapsed <= DEADLINE_MS / 1000.0 + 0.15, ch.elapsed
    # a request_timeout above the deadline does not raise it
    ch = ncl.exchange(c, "sleep", [b"3000"], headers=[ncl.request_timeout(5000)], timeout=5)
    expect_error(ch, ncl.CAT_ERRNO, ncl.ETIMEDOUT, "request_timeout 5000")
    assert DEADLINE_MS / 1000.0 <= ch.elapsed <= DEADLINE_MS / 1000.0 + 0.15, ch.elapsed
    # request_timeout in the middle of other headers, and a quick request under it
    ch = ncl.exchange(c, "sleep", [b"100"], headers=[("trace_id", ncl.u64(9)), ncl.request_timeout(400)])
    expect_echo(ch, [b"100"], "sleep 100 under request_timeout 400")
    # several at once, different timeouts: each its own
    chs = []
    for ms in (300, 600, 900):
        x = c.enqueue("sleep", headers=[ncl.request_timeout(ms)])
        x.write(b"5000")
        x.close()
        chs.append((ms, x))
    assert c.wait([x for _, x in chs], 5)
    for ms, x in chs:
        expect_error(x, ncl.CAT_ERRNO, ncl.ETIMEDOUT, "request_timeout %d" % ms)
        assert ms / 1000.0 <= x.elapsed <= ms / 1000.0 + 0.15, (ms, x.elapsed)
    # a ping the client keeps open past its request_timeout: whatever comes, the client's
    # later write and close must not cost the connection (12a.6)
    ch = c.enqueue("ping", headers=[ncl.request_timeout(300)])
    ch.write(b"open")
    c.wait([ch], 1.0)
    t.log("a ping kept open with request_timeout 300: after 1 s %r" % (ch.result(),))
    ch.write(b"late")
    ch.close()
    c.wait([ch], 2.0)
    t.log("  after its late write and close: %r" % (ch.result(),))
    ch = ncl.exchange(c, "ping", [b"after"])
    expect_echo(ch, [b"after"], "ping after the timeouts")
    assert not c.eof
    c.shutdown()


# ---- kill ----

def test_kill():
    up()
    if ON_NODE:
        skip("node connection lost through sluiced: one connection per node instead, node 1 killed")
        conns = {k: ncl.app_connection("198.18.0.1%d" % k, 10053, "echo") for k in (1, 2, 3)}
        chs = {k: [] for k in (1, 2, 3)}
        for k, c in conns.items():
            for _ in range(8):
                ch = c.enqueue("sleep")
                ch.write(b"1500")
                ch.close()
                chs[k].append(ch)
        time.sleep(0.5)
        os.kill(t.node_pid(1), signal.SIGKILL)
        assert conns[1].wait_eof(1.0), "node 1's connection not closed within 1 s of the kill"
        assert all(ch.lost for ch in chs[1]), [ch.result() for ch in chs[1]]
        for k in (2, 3):
            assert conns[k].wait(chs[k], 5)
            for ch in chs[k]:
                expect_echo(ch, [b"1500"], "node %d" % k)
        t.log("node 1 killed: its connection closed, nodes 2 and 3 answered all 16")
        return
    c = app_conn()
    loads0 = {k: node_info(k)["load"] for k in (1, 2, 3)}
    chs = []
    for _ in range(24):
        ch = c.enqueue("sleep")
        ch.write(b"1500")
        ch.close()
        chs.append(ch)
    c.pump(0)

    def all_at_nodes():
        c.pump(0)
        loads = {k: node_info(k)["load"] - loads0[k] for k in (1, 2, 3)}
        all_at_nodes.loads = loads
        return sum(loads.values()) == 24
    t.wait_for("24 sleeps at the nodes", all_at_nodes, 2)
    on1 = all_at_nodes.loads[1]
    t.log("24 sleep 1500 by node (their own info `load`): %s" % all_at_nodes.loads)
    assert min(all_at_nodes.loads.values()) >= 4, all_at_nodes.loads
    t_kill = time.monotonic()
    os.kill(t.node_pid(1), signal.SIGKILL)
    # the channels node 1 held fail quickly, with ECONNRESET
    end = time.monotonic() + 1.0
    while time.monotonic() < end and sum(ch.done for ch in chs) < on1:
        c.pump(0.05)
    failed = [ch for ch in chs if ch.done]
    t.log("SIGKILL of node 1: %d channels ended within %.2f s: %s" % (
        len(failed), time.monotonic() - t_kill, sorted(set(repr(ch.result()) for ch in failed))))
    assert len(failed) == on1, "%d channels ended after the kill, node 1 held %d" % (len(failed), on1)
    for ch in failed:
        expect_error(ch, ncl.CAT_ERRNO, ncl.ECONNRESET, "node 1 killed")
    # the rest complete normally
    assert c.wait(chs, 5), [ch.result() for ch in chs if not ch.done]
    for ch in chs:
        if ch not in failed:
            expect_echo(ch, [b"1500"], "nodes 2 and 3")
            assert ch.elapsed >= 1.49, ch.elapsed
    assert not c.eof, "the client's connection was closed"
    # the connection keeps serving, on nodes 2 and 3 (once node 1 is down in the view)
    wait_nodes_down([NODES[0]], 5)
    uu = {node_uuid(k): NODES[k - 1] for k in (2, 3)}
    seen = {}
    for i in range(12):
        ch = ncl.exchange(c, "whoami", [])
        assert ch.closed, "whoami %d after the kill: %r" % (i, ch.result())
        n = uu.get(ch.chunks[0].decode(), "?")
        seen[n] = seen.get(n, 0) + 1
    t.log("12 whoami after node 1 is down: %s" % seen)
    assert sorted(seen) == NODES[1:], seen
    # no node left: error [[0x0A, 1]]
    for k in (2, 3):
        os.kill(t.node_pid(k), signal.SIGKILL)
    wait_nodes_down(NODES, 5)
    ch = ncl.exchange(c, "ping", [b"anyone?"], timeout=5)
    t.log("every node killed: %r after %.3f s" % (ch.result(), ch.elapsed))
    expect_error(ch, ncl.CAT_LOCATOR, 1, "no node serves echo")
    assert ch.elapsed < 1.0, ch.elapsed
    try:
        r = ncl.resolve(LOCATOR[0], LOCATOR[1], "echo")
        t.log("resolve echo with no node up: %r" % (r[:2],))
    except ncl.ServiceError as e:
        t.log("resolve echo with no node up: [%#x, %d] %s" % (e.category, e.code, e.message))
    assert not c.eof
    c.shutdown()


# ---- malformed ----

def violations():
    """(name, function(conn) -> None) sending one protocol violation on the connection."""
    def garbage(c):
        c.send_raw(b"\xc1\xc1\xc1\xc1")

    def not_array(c):
        c.send_raw(ncl.msgpack.packb({"a": 1}))

    def short(c):
        c.send_raw(ncl.msgpack.packb([c.next_id, 0]))

    def string_channel(c):
        c.send_raw(ncl.msgpack.packb([b"x", 0, [b"ping"], []]))

    def args_not_array(c):
        c.send_raw(ncl.msgpack.packb([c.next_id, 0, b"ping", []]))

    def unknown_method(c):
        c.send_frame(c.next_id, 99, [])
        c.next_id += 1

    def unknown_method_1(c):  # the brief's [1, 99, []] on a fresh connection
        c.send_raw(ncl.msgpack.packb([1, 99, []]))

    def unknown_on_open(c):
        ch = c.enqueue("ping")
        ch.write(b"x")
        c.send_frame(ch.id, 7, [])

    def write_after_close(c):
        ch = c.enqueue("ping")
        ch.write(b"x")
        ch.close()
        c.wait([ch], 3)
        assert ch.result() == ("close", [b"x"]), ch.result()
        c.send_frame(ch.id, 0, [b"late"])

    def close_after_close(c):
        ch = c.enqueue("ping")
        ch.close()
        c.send_frame(ch.id, 2, [])

    return [("garbage bytes", garbage, False), ("a map, not a frame", not_array, False),
            ("a 2-element frame", short, False), ("a string channel id", string_channel, False),
            ("args not an array", args_not_array, False), ("[1, 99, []] first", unknown_method_1, True),
            ("an unknown method id", unknown_method, False),
            ("an unknown message id on an open channel", unknown_on_open, False),
            ("a write on a channel the client closed", write_after_close, False),
            ("a close after close", close_after_close, False)]


def test_malformed():
    up()
    eps = ncl.resolve(LOCATOR[0], LOCATOR[1], "echo")[0]
    goods = [ncl.Connection(eps[0]) for _ in range(4)]
    sleeps, pings = [], []
    for i, g in enumerate(goods):
        for _ in range(10):
            ch = g.enqueue("sleep")
            ch.write(b"1500")
            ch.close()
            sleeps.append(ch)
        for k in range(3):
            ch = g.enqueue("ping")
            ch.write(b"g%d-%d-a" % (i, k))
            pings.append(ch)
        g.pump(0)
    end = time.monotonic() + 3
    while not all(ch.chunks for ch in pings) and time.monotonic() < end:
        for g in goods:
            g.pump(0.02)
    assert all(len(ch.chunks) == 1 for ch in pings), [ch.result() for ch in pings]
    before = set() if ON_NODE else node_conns()
    t0 = time.monotonic()
    for name, fn, fresh in violations():
        b = ncl.Connection(eps[0])
        own = []
        if not fresh:
            # the bad client has work in flight too (lost with its connection)
            ch = b.enqueue("sleep")
            ch.write(b"1000")
            ch.close()
            own.append(ch)
            ok = ncl.exchange(b, "ping", [b"before"])
            expect_echo(ok, [b"before"], name + ": the bad client's first ping")
        tv = time.monotonic()
        fn(b)
        closed = b.wait_eof(1.0)
        t.log("%-42s -> %s" % (name, "connection closed after %.3f s" % (b.eof_at - tv) if closed else "OPEN"))
        assert closed, "%s: the connection was not closed within 1 s" % name
        # what the bad client had in flight ended with its connection, unanswered
        assert all(x.lost for x in own), [x.result() for x in own]
        b.shutdown()
        for g in goods:
            g.pump(0)
            assert not g.eof, "%s: another client's connection was closed" % name
    t.log("%d violations in %.2f s; the other connections still open" % (len(violations()), time.monotonic() - t0))
    # informational: a new channel with a lower id than one used (revoked on a Cocaine peer)
    b = ncl.Connection(eps[0])
    ch = b.enqueue("ping", channel=5)
    ch.write(b"5")
    ch.close()
    b.wait([ch], 2)
    low = b.enqueue("ping", channel=3)
    low.close()
    b.wait([low], 1)
    t.log("informational: a new channel 3 after channel 5: %s" % ("connection closed" if b.eof else repr(low.result())))
    b.shutdown()
    # the good connections: every channel answered
    for ch in pings:
        ch.write(ch.chunks[0][:-1] + b"b")
        ch.close()
    for g in goods:
        assert g.wait(None, 5), [ch.result() for ch in g.channels.values() if not ch.done][:3]
        assert not g.eof
    for ch in sleeps:
        expect_echo(ch, [b"1500"], "sleeps beside the violations")
    for ch in pings:
        a = ch.chunks[0]
        expect_echo(ch, [a, a[:-1] + b"b"], "pings beside the violations")
    t.log("4 other connections: 40 sleeps and 12 pings all answered")
    if not ON_NODE:
        after = node_conns()
        t.log("sluiced's node connections: %d before, %d after, %d kept" % (len(before), len(after), len(before & after)))
        assert before and before <= after, ("node connections lost", before - after)
    # and a new client is served
    c = app_conn()
    expect_echo(ncl.exchange(c, "ping", [b"new"]), [b"new"], "a new client")
    c.shutdown()
    for g in goods:
        g.shutdown()


def test_all():
    for name, fn in (("basic", test_basic), ("spread", test_spread), ("inflight", test_inflight),
                     ("timeout", test_timeout), ("malformed", test_malformed), ("kill", test_kill)):
        t.log("---- %s" % name)
        fn()


MODES = {"basic": (test_basic, 180), "spread": (test_spread, 240), "inflight": (test_inflight, 180),
         "timeout": (test_timeout, 180), "kill": (test_kill, 180), "malformed": (test_malformed, 180),
         "all": (test_all, 500)}
if __name__ != "__main__":
    pass
elif MODE not in MODES:
    sys.exit("usage: test_lab_native.py %s [--target sluiced|node]" % "|".join(MODES))
else:
    t.log("native front test %s against %s (locator %s:%d)" % (MODE, TARGET, LOCATOR[0], LOCATOR[1]))
    try:
        t.main(MODES[MODE][0], MODES[MODE][1])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
