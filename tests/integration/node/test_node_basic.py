#!/usr/bin/python3
"""sluice-node basics: locator resolve (and its error), enqueue with streaming both ways on
the C echo worker, the node service's list and info, the wire dialects a real client may
use (3-element frames, new-spec strings, compressed headers), protocol violations, and
--check-config."""
import os
import socket
import subprocess
import tempfile
import time

import msgpack

import nodeclient as nc
import nodetest as t
from nodetest import log


def test_resolve_echo():
    with t.node_running(t.Node()):
        eps, version, graph = nc.resolve("echo")
        assert eps[0][0] == "127.0.0.1" and eps[0][1] > 0, eps
        assert version == 1, version
        assert graph == {0: ["enqueue", nc.STREAMING, nc.STREAMING],
                         1: ["info", {}, nc.PRIMITIVE],
                         2: ["control", nc.STREAMING, nc.PRIMITIVE]}, graph
        eps, version, graph = nc.resolve("locator")
        assert eps == [("127.0.0.1", 10053)] and version == 3, (eps, version)
        assert graph == nc.LOCATOR_GRAPH, graph
        eps, version, graph = nc.resolve("node")
        assert version == 2 and [graph[i][0] for i in sorted(graph)] == [
            "start_app", "pause_app", "list", "info", "control", "enqueue"], graph


def test_ping_three_writes():
    with t.node_running(t.Node()):
        svc = nc.Service("echo")
        ch = svc.open("enqueue", "ping")
        for c in (b"one", b"two", b"three"):
            ch.write(c)
        ch.close()
        got = []
        while not ch.done():
            got.append(ch.recv())
        assert got == [("write", [b"one"]), ("write", [b"two"]), ("write", [b"three"]),
                       ("close", [])], got
        svc.close()


def test_unknown_app():
    with t.node_running(t.Node()):
        try:
            nc.resolve("nosuch")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x0A, 1), e
            assert "nosuch" in e.message
        else:
            raise AssertionError("resolve of an unknown app succeeded")


def test_events():
    with t.node_running(t.Node()):
        svc = nc.Service("echo")
        req = msgpack.packb(["POST", "/echo?x=1", "1.1", [["Host", "a"], ["X-A", "b"]], b"payload"],
                            use_bin_type=False)
        first, body = nc.enqueue("echo", "http", [req], svc=svc)[0:2]
        code, headers = msgpack.unpackb(first, raw=False)
        assert code == 200 and ["Content-Length", "7"] in headers, (code, headers)
        assert body == b"payload", body
        uuid = nc.locator_call("uuid")[0]
        assert nc.enqueue("echo", "whoami", [], svc=svc) == [uuid], uuid
        t0 = time.time()
        assert nc.enqueue("echo", "sleep", [b"300"], svc=svc) == [b"300"]
        assert time.time() - t0 >= 0.29
        try:
            nc.enqueue("echo", "nosuch", [b"x"], svc=svc)
        except nc.ServiceError as e:
            assert (e.category, e.code) == (42, 1), e
        else:
            raise AssertionError("unknown event answered")
        try:
            nc.enqueue("echo", "error", [], svc=svc)
        except nc.ServiceError as e:
            assert (e.category, e.code) == (43, 1), e
        else:
            raise AssertionError("error event answered")
        svc.close()


def test_multiplexed_channels():
    """64 channels in flight on one connection, writes interleaved, each echoed in order."""
    with t.node_running(t.Node(profiles={"fast": dict(t.FAST_PROFILE, concurrency=100,
                                                      **{"queue-limit": 100})})):
        svc = nc.Service("echo")
        chans = [svc.open("enqueue", "ping") for _ in range(64)]
        for i, ch in enumerate(chans):
            ch.write(b"a%d" % i)
        for i, ch in enumerate(reversed(chans)):
            ch.write(b"b%d" % (63 - i))
            ch.close()
        for i, ch in enumerate(chans):
            assert ch.chunks() == [b"a%d" % i, b"b%d" % i], i
        svc.close()


def test_wire_dialects():
    """3-element frames, str8/bin strings (a modern msgpack), any first channel id, and
    headers with the dynamic table (12a.2-12a.4)."""
    with t.node_running(t.Node()):
        svc = nc.Service("echo")
        svc.conn.use_bin = True
        ch = svc.open("enqueue", "ping", three=True, channel=999999)
        ch.write(b"x" * 40, three=True)  # bin8 on the wire
        ch.write("y" * 40)  # str8
        ch.close(three=True)
        assert ch.chunks() == [b"x" * 40, b"y" * 40]
        # [true, name, value] stores; 83 then refers to it (newest first); [true, 83, v] by name
        trace = (1).to_bytes(8, "little")
        ch = svc.open("enqueue", "ping", headers=[[True, "trace_id", trace], [False, "x-a", "1"]])
        ch.write(b"h1", headers=[83, [True, 83, (2).to_bytes(8, "little")], 80])
        ch.close(headers=[84, 83])
        assert ch.chunks() == [b"h1"]
        svc.close()


def test_node_service_list_info():
    with t.node_running(t.Node()):
        node = nc.Service("node")
        assert node.call("list") == [[b"echo"]]
        brief = t.decode(node.call("info", "echo")[0])
        assert brief == {"state": "running"}, brief
        full = t.decode(node.call("info", "echo", 1 | 2 | 4)[0])
        for k in ("state", "uptime", "profile", "requests", "queue", "timings", "load", "pool",
                  "manifest"):
            assert k in full, (k, full)
        assert full["profile"]["pool-limit"] == 1, full["profile"]
        try:
            node.call("info", "nosuch")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x51FF, 6), e
        else:
            raise AssertionError("info of an unknown app")
        # node.enqueue [app, event] goes to the app
        ch = node.open("enqueue", "echo", "ping")
        ch.write(b"via node")
        ch.close()
        assert ch.chunks() == [b"via node"]
        node.close()


def test_app_info_fields():
    with t.node_running(t.Node()) as n:
        nc.enqueue("echo", "ping", [b"x"])
        info = n.info()
        assert info["state"] == "running"
        assert info["queue"]["capacity"] == 10 and info["queue"]["depth"] == 0, info["queue"]
        assert "oldest_event_age" in info["queue"]
        pool = info["pool"]
        assert pool["active"] == 1 and pool["capacity"] == 1 and pool["total:spawned"] == 1, pool
        assert info["requests"]["accepted"] >= 1 and info["requests"]["rejected"] == 0
        assert set(info["timings"]) == {"50.00%", "75.00%", "90.00%", "95.00%", "98.00%",
                                        "99.00%", "99.95%"}, info["timings"]
        assert info["load"] == 0


def test_protocol_violations():
    """A message on a revoked channel, an unknown method, garbage: the connection is
    dropped (1.5) and the node goes on serving others."""
    with t.node_running(t.Node()):
        eps, _, _ = nc.resolve("echo")
        cases = [
            # channel 5 enqueue+close, then a write on 3 (<= max id, never opened): revoked
            [[5, 0, ["ping"], []], [5, 2, [], []], [3, 0, ["x"], []]],
            [[1, 7, [], []]],  # no method 7
            [[1, 1, [], []], [1, 0, [], []]],  # info then a message after it: revoked
        ]
        for frames in cases:
            s = socket.create_connection(eps[0], timeout=5)
            s.sendall(b"".join(msgpack.packb(f) for f in frames))
            s.settimeout(5)
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            s.close()
        # not msgpack; a string declared over limits.frame_bytes (refused from its header);
        # a frame that is not an array
        for junk in (b"\xc1garbage", b"\x94\x01\x00\x91\xdb\x7f\xff\xff\xff", b"\xa3abc"):
            s = socket.create_connection(eps[0], timeout=5)
            s.sendall(junk)
            assert s.recv(100) == b"", junk
            s.close()
        assert nc.enqueue("echo", "ping", [b"still"]) == [b"still"]


def test_client_disconnect():
    """A client that goes away mid-request: the worker's channel is failed, the worker is
    free again."""
    with t.node_running(t.Node()) as n:
        svc = nc.Service("echo")
        ch = svc.open("enqueue", "sleep")
        ch.write(b"300")
        ch.close()
        svc.close()
        time.sleep(0.6)
        info = n.info()
        assert info["load"] == 0 and info["requests"]["accepted"] == 1, info
        assert nc.enqueue("echo", "ping", [b"ok"]) == [b"ok"]


def test_check_config():
    def check(cfg, want_status, want_text, files=None):
        d = tempfile.mkdtemp()
        for name, text in (files or {}).items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        with open(os.path.join(d, "node.json"), "w") as f:
            f.write(cfg)
        r = subprocess.run([t.NODE_BIN, "--check-config", os.path.join(d, "node.json")],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        assert r.returncode == want_status and want_text in out, (cfg, r.returncode, out)

    base = '{"paths": {"apps": "apps", "profiles": "profiles"}, %s}'
    check(base % '"locator": {"port": 70000}', 2, "locator.port: must be an integer in 1..65535")
    check(base % '"locatr": {}', 2, "locatr: unknown key")
    check(base % '"address": "1.2.3"', 2, 'address: not an IPv4 or IPv6 address: "1.2.3"')
    check(base % '"runlist": {"echo": "fast"}', 2, "runlist.echo")
    check(base % '"runlist": {"echo": "fast"}', 2, "pool-limit: must be an integer in 1..1024",
          {"apps/echo/manifest.json": '{"slave": "%s"}' % t.ECHO_BIN,
           "profiles/fast.json": '{"pool-limit": 0}'})
    check(base % '"runlist": {"echo": "fast"}', 2, "slave: missing",
          {"apps/echo/manifest.json": '{}', "profiles/fast.json": '{}'})
    check(base % '"runlist": {"../x": "fast"}', 2, "not a valid app name")
    check('{', 2, "node.json:")
    check(base % '"runlist": {"echo": "fast"}', 0, ": ok",
          {"apps/echo/manifest.json": '{"slave": "%s"}' % t.ECHO_BIN,
           "profiles/fast.json": '{"heartbeat-timeout": 0.5, "isolate": {"type": "process"}}'})
    r = subprocess.run([t.NODE_BIN, "--check-config", os.path.join(t.ROOT, "config", "node.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([t.NODE_BIN], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_demo_config():
    """config/node.json: locator on 127.0.0.1:10053, echo started at boot."""
    p = subprocess.Popen([t.NODE_BIN, "--config", os.path.join(t.ROOT, "config", "node.json")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t.wait_for(lambda: _try_ping(), timeout=10, what="echo on config/node.json")
    finally:
        p.terminate()
        assert p.wait(15) == 0


def _try_ping():
    try:
        return nc.enqueue("echo", "ping", [b"demo"], timeout=2) == [b"demo"]
    except (OSError, nc.ServiceError, nc.ProtocolError):
        return False


if __name__ == "__main__":
    t.run([test_resolve_echo, test_ping_three_writes, test_unknown_app, test_events,
           test_multiplexed_channels, test_wire_dialects, test_node_service_list_info,
           test_app_info_fields, test_protocol_violations, test_client_disconnect,
           test_check_config, test_demo_config], "sl-node-basic")
