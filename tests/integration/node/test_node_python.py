#!/usr/bin/python3
"""A Python worker (pyworker.py, python3-msgpack only, protocol v1 as the frameworks speak
it) under sluice-node: its handshake and heartbeats, streaming both ways, the client's
headers forwarded on invoke, its own error codes, terminate echoed on pause_app."""
import nodeclient as nc
import nodetest as t

PROF = dict(t.FAST_PROFILE, **{"concurrency": 10})


def node():
    return t.Node(apps={"py": t.py_manifest()}, profiles={"fast": PROF}, runlist={"py": "fast"})


def test_python_worker_serves():
    with t.node_running(node()) as n:
        n.wait_log("pyworker")
        t.wait_for(lambda: n.info("py")["pool"]["active"] == 1, what="the python worker")
        assert nc.enqueue("py", "ping", [b"a", b"b", b"c"]) == [b"a", b"b", b"c"]
        assert nc.enqueue("py", "upper", [b"hello ", b"world"]) == [b"HELLO WORLD"]
        svc = nc.Service("py")
        chans = []
        for i in range(20):
            ch = svc.open("enqueue", "ping")
            ch.write(b"%d" % i)
            ch.close()
            chans.append(ch)
        for i, ch in enumerate(chans):
            assert ch.chunks() == [b"%d" % i]
        svc.close()


def test_python_worker_headers_and_errors():
    with t.node_running(node()):
        svc = nc.Service("py")
        trace = (7).to_bytes(8, "little")
        ch = svc.open("enqueue", "headers", headers=[[True, "trace_id", trace], [False, "x-user", "u"]])
        ch.close()
        assert ch.chunks() == [b"trace_id", b"x-user"]
        ch = svc.open("enqueue", "nosuch")
        ch.write(b"body after the error")  # allowed (12a.6, 12a.7)
        ch.close()
        try:
            ch.chunks()
        except nc.ServiceError as e:
            assert (e.category, e.code) == (42, 200), e
        else:
            raise AssertionError("unknown event answered")
        assert nc.enqueue("py", "ping", [b"ok"], svc=svc) == [b"ok"]
        svc.close()


def test_python_worker_terminate():
    with t.node_running(node()) as n:
        t.wait_for(lambda: n.info("py")["pool"]["active"] == 1, what="the python worker")
        nodesvc = nc.Service("node")
        assert nodesvc.call("pause_app", "py") == []
        n.wait_log("app py: stopped", timeout=5)
        log = n.log()
        assert "exited with status 0" in log and "killing" not in log, log[-3000:]
        nodesvc.close()


if __name__ == "__main__":
    t.run([test_python_worker_serves, test_python_worker_headers_and_errors,
           test_python_worker_terminate], "sl-node-python")
