#!/usr/bin/python3
"""App life-cycle through the node service (3.2) and the node's own: pause_app then
start_app at run time, their errors, draining on pause_app and on SIGTERM, the kill at the
termination timeout, a second SIGTERM."""
import signal
import socket
import time

import nodeclient as nc
import nodetest as t

PROF = dict(t.FAST_PROFILE, **{"concurrency": 10})


def expect_error(fn, cat, code):
    try:
        fn()
    except nc.ServiceError as e:
        assert (e.category, e.code) == (cat, code), e
        return e
    raise AssertionError("no error")


def test_pause_then_start():
    with t.node_running(t.Node(profiles={"fast": PROF})) as n:
        node = nc.Service("node")
        old_port = nc.resolve("echo")[0][0][1]
        assert node.call("pause_app", "echo") == []
        expect_error(lambda: nc.resolve("echo"), 0x0A, 1)
        assert node.call("list") == [[]]
        n.wait_log("app echo: stopped", timeout=5)
        assert node.call("start_app", "echo", "fast") == []
        eps, _, _ = nc.resolve("echo")
        assert eps[0][1] > 0
        assert node.call("list") == [[b"echo"]]
        assert nc.enqueue("echo", "ping", [b"back"], timeout=10) == [b"back"]
        # the old service port is closed
        try:
            socket.create_connection(("127.0.0.1", old_port), timeout=2).close()
            assert eps[0][1] == old_port, "old app port still open"
        except ConnectionRefusedError:
            pass
        node.close()


def test_node_service_errors():
    with t.node_running(t.Node(profiles={"fast": PROF})):
        node = nc.Service("node")
        e = expect_error(lambda: node.call("start_app", "echo", "fast"), 0x51FF, 5)
        assert "already running" in e.message
        expect_error(lambda: node.call("pause_app", "nosuch"), 0x51FF, 6)
        e = expect_error(lambda: node.call("start_app", "nosuch", "fast"), 0x51FF, 7)
        assert "manifest.json" in e.message, e.message
        e = expect_error(lambda: node.call("start_app", "echo2", "missing"), 0x51FF, 7)
        assert "missing.json" in e.message, e.message
        node.close()


def test_start_second_app():
    n0 = t.Node(profiles={"fast": PROF, "other": dict(PROF, **{"pool-limit": 2})})
    n0.add_app("echo2", t.echo_manifest())
    with t.node_running(n0) as n:
        node = nc.Service("node")
        assert node.call("start_app", "echo2", "other") == []
        assert sorted(node.call("list")[0]) == [b"echo", b"echo2"]
        assert nc.enqueue("echo2", "ping", [b"two"], timeout=10) == [b"two"]
        assert n.info("echo2")["pool"]["capacity"] == 2
        node.close()


def test_pause_drains():
    with t.node_running(t.Node(profiles={"fast": PROF})) as n:
        svc = nc.Service("echo")
        ch = svc.open("enqueue", "sleep")
        ch.write(b"800")
        ch.close()
        time.sleep(0.1)
        node = nc.Service("node")
        assert node.call("pause_app", "echo") == []
        # a new request on the open connection is refused; the running one completes
        late = svc.open("enqueue", "ping")
        late.close()
        expect_error(lambda: late.chunks(), 0x51FF, 6)
        assert ch.chunks(timeout=5) == [b"800"]
        n.wait_log("app echo: stopped", timeout=5)
        node.close()
        svc.close()


def test_sigterm_drains():
    with t.node_running(t.Node(profiles={"fast": PROF})) as n:
        svc = nc.Service("echo")
        ch = svc.open("enqueue", "sleep")
        ch.write(b"700")
        ch.close()
        time.sleep(0.1)
        n.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        try:
            socket.create_connection(("127.0.0.1", 10053), timeout=2).close()
            raise AssertionError("the locator still accepts after SIGTERM")
        except ConnectionRefusedError:
            pass
        assert ch.chunks(timeout=5) == [b"700"]
        assert n.proc.wait(10) == 0
        log = n.log()
        assert "stopping (SIGTERM)" in log and "exited with status 0" in log, log[-2000:]
        svc.close()


def test_sigterm_kills_at_timeout():
    prof = dict(PROF, **{"termination-timeout": 1})
    with t.node_running(t.Node(profiles={"fast": prof})) as n:
        svc = nc.Service("echo")
        ch = svc.open("enqueue", "sleep")
        ch.write(b"10000")
        ch.close()
        time.sleep(0.1)
        t0 = time.time()
        n.proc.send_signal(signal.SIGTERM)
        expect_error(lambda: ch.chunks(timeout=5), 0x51FF, 6)
        assert n.proc.wait(10) == 0
        assert time.time() - t0 < 4, time.time() - t0
        assert "killing pid" in n.log()
        svc.close()


def test_second_sigterm():
    prof = dict(PROF, **{"termination-timeout": 30})
    with t.node_running(t.Node(profiles={"fast": prof})) as n:
        svc = nc.Service("echo")
        ch = svc.open("enqueue", "sleep")
        ch.write(b"20000")
        ch.close()
        time.sleep(0.1)
        t0 = time.time()
        n.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        n.proc.send_signal(signal.SIGTERM)
        assert n.proc.wait(10) == 0
        assert time.time() - t0 < 5
        svc.close()


if __name__ == "__main__":
    t.run([test_pause_then_start, test_node_service_errors, test_start_second_app,
           test_pause_drains, test_sigterm_drains, test_sigterm_kills_at_timeout,
           test_second_sigterm], "sl-node-life")
