#!/usr/bin/python3
"""Routing groups (cocaine-protocol.md 7.4): a group stored in storage ("groups", tags
["group", "active"]) and loaded by refresh maps `echo` to echo@1 (weight 3) and echo@2
(weight 1). Over 4,000 keyless resolves the split is about 3:1 (the exact share of the
ketama ring, computed here independently with hashlib); a seed always gets the same
version, the one the ring gives; the `routing` stream sends the ring point for point and
again on every refresh; refresh errors, group removal, members that are not running,
groups loaded at start."""
import hashlib
import math
import struct

import msgpack

import nodeclient as nc
import nodetest as t

PROF = dict(t.FAST_PROFILE)
GROUP = {"echo@1": 3, "echo@2": 1}
RESOLVES = 4000
BATCH = 50  # channels in flight on one locator connection (its table holds 64)


def ring(group):
    """The ketama ring of Cocaine 0.12's locator: [(point, member)] sorted."""
    total = float(sum(group.values()))
    points = []
    for name in sorted(group):
        steps = int(math.floor(group[name] / total * 64 * len(group) + 0.5))
        for step in range(steps):
            digest = hashlib.md5(name.encode() + struct.pack("<Q", step)).digest()
            points += [(p, name) for p in struct.unpack("<4I", digest)]
    return sorted(points)


def ring_pick(points, key_point):
    for p, name in points:
        if p > key_point:
            return name
    return points[0][1]


def seed_point(seed):
    a, b, c, d = struct.unpack("<4I", hashlib.md5(seed.encode()).digest())
    return a ^ b ^ c ^ d


def shares(points):
    out = {}
    prev = points[-1][0] - 2 ** 32
    for p, name in points:
        out[name] = out.get(name, 0) + (p - prev)
        prev = p
    return {k: v / 2.0 ** 32 for k, v in out.items()}


def node():
    n = t.Node(apps={"echo@1": t.echo_manifest(), "echo@2": t.echo_manifest()},
               profiles={"fast": PROF}, runlist={"echo@1": "fast", "echo@2": "fast"},
               extra={"storage": {"path": "storage"}})
    return n


def set_group(st, name, members, tags=("group", "active")):
    assert st.call("write", "groups", name, msgpack.packb(members), list(tags)) == []


def resolve_many(name, count, seed=None):
    """Ports of `count` resolves, BATCH at a time on one connection."""
    c = nc.Connection(nc.LOCATOR, nc.LOCATOR_GRAPH)
    ports = []
    try:
        while len(ports) < count:
            k = min(BATCH, count - len(ports))
            chans = [c.open("resolve", name) if seed is None else c.open("resolve", name, seed)
                     for _ in range(k)]
            for ch in chans:
                eps, _, _ = ch.value()
                ports.append(eps[0][1])
    finally:
        c.close()
    return ports


def ports_by_app():
    return {nc.resolve(a)[0][0][1]: a for a in ("echo@1", "echo@2")}


def test_weighted_split():
    with t.node_running(node()):
        st = nc.Service("storage")
        set_group(st, "echo", GROUP)
        assert nc.locator_call("refresh", ["echo"]) == []
        by_port = ports_by_app()
        counts = {"echo@1": 0, "echo@2": 0}
        for p in resolve_many("echo", RESOLVES):
            counts[by_port[p]] += 1
        expect = shares(ring(GROUP))["echo@1"]
        got = counts["echo@1"] / float(RESOLVES)
        sigma = math.sqrt(expect * (1 - expect) / RESOLVES)
        ratio = counts["echo@1"] / float(counts["echo@2"])
        t.log("split over %d resolves: %r, ratio %.2f (ring share %.3f, got %.3f)"
              % (RESOLVES, counts, ratio, expect, got))
        assert abs(got - expect) < 4 * sigma, (got, expect, sigma)
        assert 2.5 <= ratio <= 3.5, ratio
        # an app resolved through the group is the app itself
        assert nc.enqueue("echo", "ping", [b"via group"]) == [b"via group"]
        st.close()


def test_seed_is_sticky():
    with t.node_running(node()):
        st = nc.Service("storage")
        set_group(st, "echo", GROUP)
        assert nc.locator_call("refresh", ["echo"]) == []
        by_port = ports_by_app()
        points = ring(GROUP)
        seen = set()
        for i in range(200):
            seed = "user-%d" % i
            got = {by_port[p] for p in resolve_many("echo", 5, seed)}
            assert len(got) == 1, (seed, got)
            version = got.pop()
            assert version == ring_pick(points, seed_point(seed)), (seed, version)
            seen.add(version)
        assert seen == {"echo@1", "echo@2"}, seen
        # an empty seed is no seed: random
        assert len({by_port[p] for p in resolve_many("echo", 200, "")}) == 2
        st.close()


def test_routing_stream():
    with t.node_running(node()):
        st = nc.Service("storage")
        conn = nc.Connection(nc.LOCATOR, nc.LOCATOR_GRAPH)
        ch = conn.open("routing", "router-1")
        name, args = ch.recv()
        assert (name, args) == ("write", [{}]), (name, args)
        set_group(st, "echo", GROUP)
        assert nc.locator_call("refresh", ["echo"]) == []
        name, args = ch.recv()
        assert name == "write"
        got = [(p, nc._s(m)) for p, m in args[0][b"echo"]]
        assert got == ring(GROUP), "the ring differs from Cocaine's"
        assert len(got) == 4 * 128
        # a change is streamed whole again
        set_group(st, "echo", {"echo@1": 1, "echo@2": 1})
        set_group(st, "other", {"echo@2": 5})
        assert nc.locator_call("refresh", ["echo", "other"]) == []
        name, args = ch.recv()
        assert sorted(args[0]) == [b"echo", b"other"]
        assert [(p, nc._s(m)) for p, m in args[0][b"echo"]] == ring({"echo@1": 1, "echo@2": 1})
        assert [(p, nc._s(m)) for p, m in args[0][b"other"]] == ring({"echo@2": 5})
        # the same router id again replaces the first stream (it is closed)
        conn2 = nc.Connection(nc.LOCATOR, nc.LOCATOR_GRAPH)
        ch2 = conn2.open("routing", "router-1")
        assert sorted(ch2.recv()[1][0]) == [b"echo", b"other"]
        assert ch.recv()[0] == "close"
        # an id with a NUL byte (or a control character) is refused: kept as a C string,
        # "router-1\0x" would otherwise replace (close) the stream of "router-1"
        conn3 = nc.Connection(nc.LOCATOR, nc.LOCATOR_GRAPH)
        for bad in (b"router-1\x00x", b"router-1\nx"):
            try:
                conn3.open("routing", bad).recv()
                raise AssertionError("routing stream with the id %r" % bad)
            except nc.ServiceError as e:
                assert (e.category, e.code) == (0x0C, 22), e
        set_group(st, "other", {"echo@2": 4})
        assert nc.locator_call("refresh", ["other"]) == []
        assert ch2.recv()[0] == "write", "the stream of router-1 was replaced"
        conn3.close()
        # discard stops it
        ch2.send("discard")
        assert ch2.recv()[0] == "close"
        conn.close()
        conn2.close()
        st.close()


def test_refresh_errors_and_removal():
    with t.node_running(node()) as n:
        st = nc.Service("storage")
        set_group(st, "echo", GROUP)
        assert nc.locator_call("refresh", "echo") == []  # 0.11 form: one name
        eps, _, _ = nc.resolve("echo")
        assert eps[0][1] in ports_by_app()
        # a bad stored value: refresh fails and the group stays as it was
        assert st.call("write", "groups", "echo", b"\xc1junk", ["group", "active"]) == []
        try:
            nc.locator_call("refresh", ["echo"])
            raise AssertionError("refresh of a malformed group succeeded")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x0A, 2), e
            assert "echo" in e.message
        assert nc.resolve("echo")[0][0][1] in ports_by_app()
        for bad in ({}, {"echo@1": 0}, {"echo@1": "x"}):
            set_group(st, "echo", bad)
            try:
                nc.locator_call("refresh", ["echo"])
                raise AssertionError("refresh of %r succeeded" % (bad,))
            except nc.ServiceError as e:
                assert (e.category, e.code) == (0x0A, 2), e
        # a member that is not running: resolve names it
        set_group(st, "echo", {"echo@1": 1, "echo@9": 1000})
        assert nc.locator_call("refresh", ["echo"]) == []
        try:
            for _ in range(20):
                nc.resolve("echo")
            raise AssertionError("echo@9 was never picked")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x0A, 1) and "echo@9" in e.message and "echo" in e.message, e
        # no longer active: removed (echo itself does not exist); a name given twice counts
        # once (it used to underflow the group count: "more than 64 routing groups")
        set_group(st, "echo", GROUP, tags=("group",))
        assert nc.locator_call("refresh", ["echo", "echo"]) == []
        try:
            nc.resolve("echo")
            raise AssertionError("echo resolved after its group was removed")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x0A, 1), e
        n.wait_log("group echo removed")
        # twice, active: loaded once
        set_group(st, "echo", {"echo@2": 1})
        assert nc.locator_call("refresh", ["echo", "echo", "echo"]) == []
        assert nc.resolve("echo")[0][0][1] == nc.resolve("echo@2")[0][0][1]
        st.close()


def test_groups_loaded_at_start():
    n = node()
    try:
        n.start()
        st = nc.Service("storage")
        set_group(st, "echo", {"echo@2": 1})
        st.close()
        assert n.stop() == 0
        n.start()
        assert nc.resolve("echo")[0][0][1] == nc.resolve("echo@2")[0][0][1]
        assert n.stop() == 0
    finally:
        n.cleanup()


def test_no_storage():
    with t.node_running(t.Node()):
        try:
            nc.locator_call("refresh", ["echo"])
            raise AssertionError("refresh without storage succeeded")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x0A, 2) and "storage" in e.message, e
        assert nc.locator_call("refresh", []) == []


if __name__ == "__main__":
    t.run([test_weighted_split, test_seed_is_sticky, test_routing_stream,
           test_refresh_errors_and_removal, test_groups_loaded_at_start, test_no_storage],
          "sl-node-routing")
