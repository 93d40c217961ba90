#!/usr/bin/python3
"""locator publish (cocaine-protocol.md 2.3) in a two-node multicast cluster (clusterlab.py):
a client publishes a service on node 1; it appears in node 1's connect stream (what node 2
follows) and node 2 resolves it and reaches it; it disappears from the stream and from node 2
when the client disconnects, and when it sends discard. A publish without [version, graph]
is a non-native service (version 0, graph {}). Errors: a graph with version 0 (0x0A, 3),
a name already taken, no endpoints, limits.services."""
import errno
import socket

import clusterlab as cl
import nodeclient as nc
import nodetest as t

INTERVAL = 1.0


def wait_until(pred, timeout, what):
    return t.wait_for(pred, timeout=timeout, step=0.05, what=what)


def resolvable(nd, name):
    try:
        return nd.resolve(name, timeout=2)
    except nc.ServiceError:
        return None


def expect_error(fn, cat, code):
    try:
        fn()
    except nc.ServiceError as e:
        assert (e.category, e.code) == (cat, code), e
        return e
    raise AssertionError("no error")


def observe(nd):
    """A connect stream on nd, as a remote node opens it: (connection, channel, snapshot)."""
    conn = nc.Connection(nd.locator, nc.LOCATOR_GRAPH)
    ch = conn.open("connect", "observer")
    name, args = ch.recv()
    assert name == "write" and nc._s(args[0]) == nd.uuid
    return conn, ch, nc.decode_services(args[1])


def next_diff(ch):
    name, args = ch.recv(timeout=5)
    assert name == "write", (name, args)
    return nc.decode_services(args[1])


def test_publish_in_cluster():
    lab = cl.Lab("pub", 2)
    a = cl.LabNode(lab, 1, interval=INTERVAL, runlist={"echo": "fast"},
                   extra={"limits": {"services": 4}})
    b = cl.LabNode(lab, 2, interval=INTERVAL)
    with cl.running(lab, [a, b]):
        wait_until(lambda: a.uuid in b.cluster(), 3, "node 2 links node 1")
        eps, _, graph = a.resolve("echo")
        obs, stream, snap = observe(a)
        assert "ext" not in snap
        # publish the echo app's endpoint under another name
        pub = nc.Connection(a.locator, nc.LOCATOR_GRAPH)
        ch = pub.open("publish", "ext", [list(eps[0])], [1, graph])
        assert ch.value() == []
        assert next_diff(stream) == {"ext": (eps, 1, graph)}
        assert a.resolve("ext") == (eps, 1, graph)  # resolvable where it is published too
        got = wait_until(lambda: resolvable(b, "ext"), 2 * INTERVAL, "node 2 resolves ext")
        assert got == (eps, 1, graph), got
        svc = nc.Service("ext", locator=b.locator)
        assert nc.enqueue(None, "ping", [b"published"], svc=svc) == [b"published"]
        svc.close()
        # the client disconnects: unpublished everywhere
        pub.close()
        assert next_diff(stream) == {"ext": ([], 0, {})}
        wait_until(lambda: resolvable(b, "ext") is None, 2 * INTERVAL, "node 2 forgets ext")
        assert resolvable(a, "ext") is None
        # discard unpublishes too; a publish without metadata is non-native (version 0, {})
        pub = nc.Connection(a.locator, nc.LOCATOR_GRAPH)
        ch = pub.open("publish", "plain", [["192.0.2.1", 80], ["192.0.2.2", 81]])
        assert ch.value() == []
        assert next_diff(stream) == {"plain": ([("192.0.2.1", 80), ("192.0.2.2", 81)], 0, {})}
        got = wait_until(lambda: resolvable(b, "plain"), 2 * INTERVAL, "node 2 resolves plain")
        assert got == ([("192.0.2.1", 80), ("192.0.2.2", 81)], 0, {}), got
        ch.send("discard")
        assert next_diff(stream) == {"plain": ([], 0, {})}
        wait_until(lambda: resolvable(b, "plain") is None, 2 * INTERVAL, "node 2 forgets plain")
        # the publishing connection is still usable
        ch = pub.open("publish", "again", [["192.0.2.3", 1]])
        assert ch.value() == []
        assert next_diff(stream) == {"again": ([("192.0.2.3", 1)], 0, {})}
        # errors
        expect_error(lambda: pub.open("publish", "v0", [["192.0.2.1", 1]], [0, graph]).value(), 0x0A, 3)
        e = expect_error(lambda: pub.open("publish", "echo", [["192.0.2.1", 1]]).value(), 0x0C, errno.EEXIST)
        assert "exists" in e.message
        expect_error(lambda: pub.open("publish", "again", [["192.0.2.1", 1]]).value(), 0x0C, errno.EEXIST)
        expect_error(lambda: pub.open("publish", "noeps", []).value(), 0x0C, errno.EINVAL)
        expect_error(lambda: pub.open("publish", "x" * 200, [["192.0.2.1", 1]]).value(), 0x0C, errno.EINVAL)
        names = []
        try:
            for i in range(10):
                pub.open("publish", "many%d" % i, [["192.0.2.9", i + 1]]).value()
                names.append(i)
            raise AssertionError("limits.services not applied")
        except nc.ServiceError as e:
            assert "limits.services" in e.message, e
        assert len(names) == 3, names  # "again" + 3 = limits.services (4)
        # a malformed publish (endpoints not a list) drops the connection, as the peers do
        bad = nc.Connection(a.locator, nc.LOCATOR_GRAPH)
        try:
            bad.open("publish", "bad", 42).value(timeout=5)
            raise AssertionError("a malformed publish was answered")
        except ConnectionError:
            pass
        bad.close()
        pub.close()
        # (the stream has the additions of many0..2 first, then every removal)
        state = {}
        want = {n: ([], 0, {}) for n in ["again", "many0", "many1", "many2"]}
        while state != want:
            state.update(next_diff(stream))
            assert set(state) <= set(want), state
        obs.close()


def test_connect_without_cluster():
    """A node without a cluster closes connect at once, as before (2.3); publish works."""
    ns = t.Namespace("sl-node-pub-solo")
    try:
        solo()
    finally:
        ns.delete()


def solo():
    with t.node_running(t.Node()):
        conn = nc.Connection(nc.LOCATOR, nc.LOCATOR_GRAPH)
        ch = conn.open("connect", "x")
        assert ch.recv()[0] == "close"
        assert nc.locator_call("cluster") == [{}]
        # publish works without a cluster (resolvable here)
        p = conn.open("publish", "solo", [["127.0.0.1", 9]])
        assert p.value() == []
        assert nc.resolve("solo") == ([("127.0.0.1", 9)], 0, {})
        conn.close()
        t.wait_for(lambda: _gone("solo"), timeout=5, what="solo unpublished")


def _gone(name):
    try:
        nc.resolve(name)
        return False
    except nc.ServiceError:
        return True


if __name__ == "__main__":
    cl.run([test_publish_in_cluster, test_connect_without_cluster])
