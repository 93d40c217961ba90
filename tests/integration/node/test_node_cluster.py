#!/usr/bin/python3
"""Multicast clusters of sluice-nodes with no static peers (cocaine-protocol.md 2.3, 7.3): two,
then three nodes, each in its own namespace joined by a bridge (clusterlab.py), announcing
every second. Each lists the others in `cluster` within two intervals; `resolve` on one finds
an app that runs only on another (and the app answers there); the `connect` stream gives the
snapshot, then diffs when an app starts and stops (an empty endpoint list = removed), which
the other nodes follow; a node that goes silent (SIGSTOP) is dropped within 3 intervals and
linked again when it is heard again; a node stopped with SIGTERM is dropped at once (its
streams close) — within 3 intervals in any case. Also the predefine cluster type (a fixed
list of nodes, re-linked every interval)."""
import signal
import socket
import sys
import time

import msgpack

import clusterlab as cl
import nodeclient as nc
import nodetest as t

INTERVAL = 1.0
SLACK = 0.5  # polling and the 100 ms tick


def wait_until(pred, timeout, what):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return time.time() - t0
        time.sleep(0.05)
    raise AssertionError("%s: not within %.1f s" % (what, timeout))


def expect_unavailable(fn):
    try:
        fn()
    except nc.ServiceError as e:
        assert (e.category, e.code) == (0x0A, 1), e
        return
    raise AssertionError("resolved")


def lists_exactly(nd, others):
    try:
        return nd.cluster() == {o.uuid: (o.addr, cl.LOC_PORT) for o in others}
    except (OSError, nc.ProtocolError):
        return False


def resolvable(nd, name):
    try:
        nd.resolve(name, timeout=2)
        return True
    except nc.ServiceError:
        return False


def scenario(count):
    lab = cl.Lab("c%d" % count, count)
    nodes = [cl.LabNode(lab, i, interval=INTERVAL, runlist={"only%d" % i: "fast"},
                        apps={"only%d" % i: t.echo_manifest(), "late": t.echo_manifest()})
             for i in range(1, count + 1)]
    with cl.running(lab, nodes):
        # 1. everyone lists everyone else within two announce intervals of the last start
        took = wait_until(lambda: all(lists_exactly(nd, [o for o in nodes if o is not nd]) for nd in nodes),
                          2 * INTERVAL, "cluster lists the other nodes")
        t.log("%d nodes: every cluster list complete %.2f s after the last start" % (count, took))
        # 2. resolve finds apps that run only elsewhere, and they answer there
        for nd in nodes:
            for other in nodes:
                name = "only%s" % other.uuid[-1]
                eps, version, graph = nd.resolve(name)
                assert eps == [(other.addr, other.resolve(name)[0][0][1])], (nd.uuid, name, eps)
                assert version == 1 and graph[0][0] == "enqueue", graph
            svc = nc.Service("only%s" % nodes[-1].uuid[-1], locator=nd.locator)
            assert nc.enqueue(None, "ping", [b"hi from " + nd.addr.encode()], svc=svc) == \
                [b"hi from " + nd.addr.encode()]
            svc.close()
        expect_unavailable(lambda: nodes[0].resolve("nowhere"))
        # 3. the connect stream: snapshot, then diffs (start_app, pause_app)
        first = nodes[0]
        obs = nc.Connection(first.locator, nc.LOCATOR_GRAPH)
        stream = obs.open("connect", "observer-uuid")
        name, args = stream.recv()
        assert name == "write" and nc._s(args[0]) == first.uuid, (name, args)
        snap = nc.decode_services(args[1])
        assert sorted(snap) == ["node", "only1"], snap  # the locator is never exported
        assert snap["only1"][0] == [(first.addr, first.resolve("only1")[0][0][1])]
        node_svc = nc.Service("node", locator=first.locator)
        t0 = time.time()
        assert node_svc.call("start_app", "late", "fast") == []
        name, args = stream.recv(timeout=5)
        diff = nc.decode_services(args[1])
        late_port = first.resolve("late")[0][0][1]
        assert diff == {"late": ([(first.addr, late_port)], 1, diff["late"][2])}, diff
        assert diff["late"][2][0][0] == "enqueue"
        for nd in nodes[1:]:
            wait_until(lambda: resolvable(nd, "late"), 2, "node %s learns 'late'" % nd.uuid)
        t.log("start_app: the diff arrived and every node resolves the app %.2f s later"
              % (time.time() - t0))
        assert node_svc.call("pause_app", "late") == []
        name, args = stream.recv(timeout=5)
        assert nc.decode_services(args[1]) == {"late": ([], 0, {})}, args
        for nd in nodes[1:]:
            wait_until(lambda: not resolvable(nd, "late"), 2, "node %s forgets 'late'" % nd.uuid)
        node_svc.close()
        # 4. a node that goes silent is dropped within 3 intervals, then linked again
        last, rest = nodes[-1], nodes[:-1]
        last.proc.send_signal(signal.SIGSTOP)
        t0 = time.time()
        for nd in rest:
            wait_until(lambda: last.uuid not in nd.cluster(), 3 * INTERVAL + SLACK,
                       "node %s drops the silent node" % nd.uuid)
        gone = time.time() - t0
        t.log("SIGSTOP: the silent node dropped by all after %.2f s" % gone)
        assert gone >= 1.5, "dropped after %.2f s: not by the 3-interval expiry" % gone
        for nd in rest:
            expect_unavailable(lambda: nd.resolve("only%s" % last.uuid[-1]))
        last.proc.send_signal(signal.SIGCONT)
        t0 = time.time()
        wait_until(lambda: all(lists_exactly(nd, [o for o in nodes if o is not nd]) for nd in nodes),
                   2 * INTERVAL + SLACK, "the cluster heals after SIGCONT")
        t.log("SIGCONT: every cluster list complete again after %.2f s" % (time.time() - t0))
        for nd in rest:
            assert nd.resolve("only%s" % last.uuid[-1])[0][0][0] == last.addr
        # 5. SIGTERM: the others drop the node at once (its streams close)
        assert first.stop(signal.SIGTERM) == 0
        t0 = time.time()
        for nd in nodes[1:]:
            wait_until(lambda: first.uuid not in nd.cluster(), 3 * INTERVAL,
                       "node %s drops the stopped node" % nd.uuid)
            expect_unavailable(lambda: nd.resolve("only1"))
        t.log("SIGTERM: the stopped node dropped by all after %.2f s" % (time.time() - t0))
        try:
            name, args = stream.recv(timeout=5)
            assert name == "close", (name, args)
        except ConnectionError:
            pass  # the node may exit before we read it
        obs.close()
        for nd in nodes[1:]:
            assert "dropped: it closed its stream" in nd.log() or \
                "dropped: connection" in nd.log(), nd.log()[-3000:]


def test_predefined():
    """locator.cluster type predefine: the same {uuid: "host:port"} list on every node, no
    announces; a stopped node is linked again once it is back (every interval)."""
    lab = cl.Lab("cp", 2)
    peers = {"00000000-0000-4000-8000-%012d" % i: "%s:%d" % (cl.NET % i, cl.LOC_PORT) for i in (1, 2)}
    cluster = {"port": cl.LOC_PORT, "cluster": {"type": "predefine",
                                               "args": {"nodes": peers, "interval": INTERVAL}}}
    nodes = [cl.LabNode(lab, i, runlist={"only%d" % i: "fast"}, apps={"only%d" % i: t.echo_manifest()},
                        extra={"locator": cluster}) for i in (1, 2)]
    a, b = nodes
    with cl.running(lab, nodes):
        took = wait_until(lambda: lists_exactly(a, [b]) and lists_exactly(b, [a]), 2 * INTERVAL + SLACK,
                          "predefined nodes linked")
        t.log("predefine: linked %.2f s after the last start" % took)
        wait_until(lambda: resolvable(a, "only2") and resolvable(b, "only1"), 2, "services learned")
        assert b.stop(signal.SIGTERM) == 0
        wait_until(lambda: not resolvable(a, "only2"), 2, "node 1 forgets node 2's app")
        b.start()
        took = wait_until(lambda: resolvable(a, "only2"), 2 * INTERVAL + SLACK, "node 2 linked again")
        t.log("predefine: node 2 back in node 1's view %.2f s after its restart" % took)
        assert lists_exactly(a, [b])


def test_hostile_announces():
    """Announces are untrusted (7.3). Malformed ones (truncated, wrong types, deep or huge
    arrays, thousands of endpoints, a 60 KB uuid, our own uuid) are ignored, and so is a uuid
    with a NUL byte or a control character (it used to make a new peer on every announce, all
    named by the bytes before the NUL, and to write raw bytes into the log). A well-formed
    announce of a fake node (this test's socket) is linked and its services learned. A
    connect stream whose uuid holds a NUL does not replace the stream of the uuid before it."""
    lab = cl.Lab("ch", 1)
    nd = cl.LabNode(lab, 1, interval=INTERVAL)
    me = cl.NET % 254
    pk = lambda o: msgpack.packb(o, use_bin_type=False)
    with cl.running(lab, [nd]):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(me))
        ls = socket.socket()
        ls.bind((me, 0))
        ls.listen(64)
        port = ls.getsockname()[1]
        ep = [[me, port]]

        def send(payload):
            tx.sendto(payload, (cl.GROUP, cl.LOC_PORT))

        bad = [b"", b"\x92", b"\x92\xa1u", pk(["u"]), pk([1, ep]), pk(["u", []]), pk(["u", [[me]]]),
               pk(["u", [[me, 70000]]]), pk(["u", [[1, 2]]]), pk(["u", ep, "extra"]), pk(["u", {}]),
               pk(["u", ep * 3000]), pk(["u" * 60000, ep]), pk(["", ep]), pk([nd.uuid, ep]),
               b"\xdd\xff\xff\xff\xff", b"\x92" + b"\x91" * 30000 + b"\x90"]
        bad += [pk([b"peer\x00" + bytes([65 + i]), ep]) for i in range(5)]
        bad += [pk([b"peer\nforged log line", ep]), pk([b"peer\x7f", ep])]
        for b in bad:
            send(b)
        ls.settimeout(0.2)
        links = []
        deadline = time.time() + 1.5 * INTERVAL
        while time.time() < deadline:
            try:
                links.append(ls.accept()[0])
            except socket.timeout:
                pass
        assert links == [], "%d links from malformed announces" % len(links)
        assert nd.cluster() == {}
        assert "forged log line" not in nd.log()
        # a well-formed announce is linked: connect [its uuid] on channel 1, then our snapshot
        send(pk(["fake-1", ep]))
        ls.settimeout(3)
        link, _ = ls.accept()
        link.settimeout(3)
        up = msgpack.Unpacker(raw=False)
        while True:
            up.feed(link.recv(4096))
            frames = list(up)
            if frames:
                break
        assert frames[0][:3] == [1, 1, [nd.uuid]], frames
        link.sendall(pk([1, 0, ["fake-1", {"far": [[[me, 1]], 0, {}]}], []]))
        wait_until(lambda: resolvable(nd, "far"), 2, "the fake node's service learned")
        assert nd.cluster() == {"fake-1": (me, port)}
        send(pk(["fake-1", ep]))  # (not silent)
        # connect ids: a NUL or a control character is refused, and replaces nothing
        obs = nc.Connection(nd.locator, nc.LOCATOR_GRAPH)
        sync = obs.open("connect", "abc")
        assert sync.recv()[0] == "write"
        other = nc.Connection(nd.locator, nc.LOCATOR_GRAPH)
        for uuid in (b"abc\x00evil", b"abc\x07"):
            try:
                other.open("connect", uuid).recv()
                raise AssertionError("a connect stream for %r" % uuid)
            except nc.ServiceError as e:
                assert (e.category, e.code) == (0x0C, 22), e
        try:
            got = sync.recv(timeout=0.5)
            raise AssertionError("the stream of abc got %r" % (got,))
        except TimeoutError:
            pass
        obs.close()
        other.close()
        link.close()
        tx.close()
        ls.close()


def test_config_checks():
    """The new keys are validated whole, errors naming the file and the JSON path."""
    import os
    import subprocess
    import tempfile

    def check(cfg, want_status, want_text):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "node.json"), "w") as f:
            f.write('{"paths": {"apps": "apps", "profiles": "profiles"}, %s}' % cfg)
        r = subprocess.run([t.NODE_BIN, "--check-config", os.path.join(d, "node.json")],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        assert r.returncode == want_status and want_text in out, (cfg, r.returncode, out)

    mc = '"locator": {"cluster": {"type": "multicast", "args": %s}}'
    check(mc % '{"group": "239.0.100.53", "interval": 0.5, "loopback": true, "hops": 2, "interface": "eth0"}', 0, "ok")
    check(mc % '{"group": "ff02::53", "port": 10054}', 0, "ok")
    check(mc % '{}', 2, "locator.cluster.args: group: required")
    check(mc % '{"group": "10.0.0.1"}', 2, 'locator.cluster.args.group: not a multicast address: "10.0.0.1"')
    check(mc % '{"group": "239.0.0.1", "interval": 0}', 2, "locator.cluster.args.interval: must be a number of seconds > 0")
    check(mc % '{"group": "239.0.0.1", "hops": 0}', 2, "locator.cluster.args.hops: must be an integer in 1..255")
    check(mc % '{"group": "239.0.0.1", "ttl": 1}', 2, "locator.cluster.args.ttl: unknown key")
    check('"locator": {"cluster": {"type": "zookeeper", "args": {}}}', 2,
          'locator.cluster.type: must be "multicast" or "predefine" (got "zookeeper")')
    check('"locator": {"cluster": {"args": {}}}', 2, "locator.cluster.type: required")
    pd = '"locator": {"cluster": {"type": "predefine", "args": {"nodes": %s}}}'
    check(pd % '{"u1": "10.0.0.1:10053", "u2": "[::1]:10053"}', 0, "ok")
    check(pd % '{"u1": "node1:10053"}', 2, 'locator.cluster.args.nodes.u1: the host must be an IP address')
    check(pd % '{"u1": "10.0.0.1"}', 2, 'locator.cluster.args.nodes.u1: must be "host:port"')
    check(pd % '{}', 2, "nodes: required")
    check('"locator": {"restrict": ["a", 1]}', 2, "locator.restrict: element 1")
    check('"limits": {"peers": 0}', 2, "limits.peers: must be an integer in 1..65536")
    check('"limits": {"services": 100000}', 2, "limits.services: must be an integer in 1..65536")
    check('"storage": {"port": 70000}', 2, "storage.port: must be an integer in 0..65535")
    check('"storage": {"path": ""}', 2, "storage.path: must be a non-empty string")
    r = subprocess.run([t.NODE_BIN, "--check-config", os.path.join(t.ROOT, "config", "node-cluster.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_two_nodes():
    scenario(2)


def test_three_nodes():
    scenario(3)


if __name__ == "__main__":
    which = sys.argv[1:] or ["c", "2", "3", "p", "h"]
    cl.run([{"c": test_config_checks, "2": test_two_nodes, "3": test_three_nodes,
             "p": test_predefined, "h": test_hostile_announces}[w] for w in which])
