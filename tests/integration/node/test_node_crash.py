#!/usr/bin/python3
"""Worker failures: SIGKILL of a worker fails its in-flight channels with an error and a new
worker takes the next requests (after the 1 s crash back-off, 5.5); a worker that stops
heartbeating (SIGSTOP) is killed at heartbeat-timeout with (0x53FF, 8); a worker that exits
on its own fails its channels the same way; a worker that never handshakes is killed at the
startup timeout; output goes to the log."""
import os
import signal
import time

import nodeclient as nc
import nodetest as t

PROF = dict(t.FAST_PROFILE, **{"pool-limit": 1, "concurrency": 10})


def in_flight_sleeps(svc, n, ms=5000):
    chans = []
    for _ in range(n):
        ch = svc.open("enqueue", "sleep")
        ch.write(b"%d" % ms)
        ch.close()
        chans.append(ch)
    return chans


def expect_errors(chans, timeout=8):
    errs = []
    for ch in chans:
        try:
            got = ch.chunks(timeout=timeout)
        except nc.ServiceError as e:
            errs.append((e.category, e.code))
        else:
            raise AssertionError("channel %d answered %r instead of failing" % (ch.id, got))
    return errs


def test_sigkill_fails_in_flight():
    with t.node_running(t.Node(profiles={"fast": PROF})) as n:
        pid = t.wait_for(lambda: n.worker_pids(), what="an active worker")[0]
        svc = nc.Service("echo")
        chans = in_flight_sleeps(svc, 3)
        t.wait_for(lambda: n.info()["load"] == 3, what="3 requests in flight")
        t0 = time.time()
        os.kill(pid, signal.SIGKILL)
        errs = expect_errors(chans)
        assert time.time() - t0 < 2, "errors took %.1f s" % (time.time() - t0)
        assert errs == [(0x0C, 32)] * 3, errs  # generic EPIPE: "app restarted", retryable
        # a new worker takes the next requests (same connection)
        assert nc.enqueue("echo", "ping", [b"next"], svc=svc, timeout=10) == [b"next"]
        info = n.info()
        assert info["pool"]["total:crashed"] == 1 and info["pool"]["total:spawned"] == 2, info
        assert pid not in n.worker_pids()
        assert info["requests"]["failed"] == 3, info["requests"]
        n.wait_log("killed by signal 9")
        svc.close()


def test_heartbeat_timeout():
    with t.node_running(t.Node(profiles={"fast": PROF})) as n:
        pid = t.wait_for(lambda: n.worker_pids(), what="an active worker")[0]
        svc = nc.Service("echo")
        chans = in_flight_sleeps(svc, 2, 200)
        os.kill(pid, signal.SIGSTOP)
        t0 = time.time()
        errs = expect_errors(chans, timeout=10)
        took = time.time() - t0
        assert errs == [(0x53FF, 8)] * 2, errs
        assert 2.5 <= took <= 5, "heartbeat timeout after %.1f s (profile: 3 s)" % took
        n.wait_log("heartbeat timeout")
        assert nc.enqueue("echo", "ping", [b"after"], svc=svc, timeout=10) == [b"after"]
        svc.close()


def test_worker_exits():
    with t.node_running(t.Node(profiles={"fast": PROF})) as n:
        svc = nc.Service("echo")
        chans = in_flight_sleeps(svc, 2)
        ch = svc.open("enqueue", "exit")
        ch.close()
        errs = expect_errors(chans + [ch])
        assert errs == [(0x0C, 32)] * 3, errs
        n.wait_log("exited with status 3")
        n.wait_log("exit requested")  # the worker's stderr, captured to the log
        assert nc.enqueue("echo", "ping", [b"again"], svc=svc, timeout=10) == [b"again"]
        svc.close()


def test_startup_timeout_and_backoff():
    """A worker that never handshakes is killed at startup-timeout; spawning backs off."""
    prof = dict(PROF, **{"startup-timeout": 0.5})
    node = t.Node(profiles={"fast": prof}, runlist={"echo": "fast", "mute": "fast"})
    node.add_app("mute", {"slave": "mute.sh"})
    script = os.path.join(node.dir, "apps", "mute", "mute.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho mute worker up\nexec sleep 1000\n")
    os.chmod(script, 0o755)
    with t.node_running(node) as n:
        n.wait_log("mute/")
        n.wait_log("no handshake within the startup timeout", timeout=5)
        time.sleep(3)
        info = n.info("mute")
        spawned = info["pool"]["total:spawned"]
        # 0.5 s + 1 s back-off, then 0.5 s + 2 s: 2 or 3 in 3.5 s, not one every 0.5 s
        assert 2 <= spawned <= 3, info["pool"]
        ch = nc.Service("mute").open("enqueue", "ping")
        ch.close()
        try:
            ch.chunks(timeout=1)
        except TimeoutError:
            pass  # queued: no worker ever becomes active
        assert nc.enqueue("echo", "ping", [b"fine"]) == [b"fine"]


if __name__ == "__main__":
    t.run([test_sigkill_fails_in_flight, test_heartbeat_timeout, test_worker_exits,
           test_startup_timeout_and_backoff], "sl-node-crash")
