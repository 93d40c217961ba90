#!/usr/bin/python3
"""sluice-node's queue: info shows it filling under a burst (depth, oldest_event_age), a full
queue answers [[0x52FF, 1], "queue is full"] (4.2), queue-limit 0 means pool-limit x
concurrency, and a client body is buffered while its request waits."""
import time

import nodeclient as nc
import nodetest as t

ONE_AT_A_TIME = dict(t.FAST_PROFILE, **{"pool-limit": 1, "concurrency": 1, "queue-limit": 10})


def send_sleeps(svc, n, ms):
    chans = []
    for _ in range(n):
        ch = svc.open("enqueue", "sleep")
        ch.write(b"%d" % ms)
        ch.close()
        chans.append(ch)
    return chans


def test_queue_fills_under_burst():
    with t.node_running(t.Node(profiles={"fast": ONE_AT_A_TIME})) as n:
        svc = nc.Service("echo")
        chans = send_sleeps(svc, 8, 300)
        time.sleep(0.4)
        info = n.info()
        q = info["queue"]
        assert 5 <= q["depth"] <= 7 and q["capacity"] == 10, q
        assert q["oldest_event_age"] >= 300, q
        assert info["load"] == 1 and info["requests"]["accepted"] == 8, info
        for ch in chans:
            assert ch.chunks(timeout=10) == [b"300"]
        info = n.info()
        assert info["queue"]["depth"] == 0 and info["requests"]["completed"] == 8, info
        assert info["timings"]["99.95%"] >= 2000, info["timings"]  # the last one waited
        svc.close()


def test_queue_full():
    prof = dict(ONE_AT_A_TIME, **{"queue-limit": 3})
    with t.node_running(t.Node(profiles={"fast": prof})) as n:
        svc = nc.Service("echo")
        chans = send_sleeps(svc, 6, 500)  # 1 running, 3 queued, 2 refused
        errors, ok = [], 0
        for ch in chans:
            try:
                assert ch.chunks() == [b"500"]
                ok += 1
            except nc.ServiceError as e:
                errors.append((e.category, e.code, e.message))
        assert ok == 4 and errors == [(0x52FF, 1, "queue is full")] * 2, (ok, errors)
        info = n.info()
        assert info["requests"]["rejected"] == 2 and info["requests"]["accepted"] == 4, info
        # the refused channels may still be written and closed (12a.6): no disconnect
        ch = svc.open("enqueue", "ping")
        ch.write(b"after")
        ch.close()
        assert ch.chunks() == [b"after"]
        svc.close()


def test_queue_limit_zero():
    prof = dict(ONE_AT_A_TIME, **{"queue-limit": 0, "pool-limit": 1, "concurrency": 2})
    with t.node_running(t.Node(profiles={"fast": prof})):
        svc = nc.Service("echo")
        chans = send_sleeps(svc, 4, 300)  # capacity 1 x 2: 2 run, 2 refused... minus in flight
        results = []
        for ch in chans:
            try:
                results.append(ch.chunks())
            except nc.ServiceError as e:
                results.append((e.category, e.code))
        assert results.count([b"300"]) == 2 and results.count((0x52FF, 1)) == 2, results
        svc.close()


def test_body_buffered_while_queued():
    with t.node_running(t.Node(profiles={"fast": ONE_AT_A_TIME})):
        svc = nc.Service("echo")
        first = send_sleeps(svc, 1, 300)[0]
        ch = svc.open("enqueue", "ping")
        parts = [b"p%d" % i * 100 for i in range(20)]
        for p in parts:
            ch.write(p)
        ch.close()
        assert first.chunks() == [b"300"]
        assert ch.chunks() == parts
        svc.close()


def test_request_timeout():
    """request-timeout fails a request with (0x51FF, 3), queued or running; the running
    one's late reply is dropped (the worker had its whole request: nothing more can be sent
    to it) and the worker then takes the next request."""
    prof = dict(ONE_AT_A_TIME, **{"request-timeout": 0.5})
    with t.node_running(t.Node(profiles={"fast": prof})) as n:
        svc = nc.Service("echo")
        slow, queued = send_sleeps(svc, 2, 1200)
        t0 = time.time()
        for ch in (slow, queued):
            try:
                ch.chunks(timeout=3)
            except nc.ServiceError as e:
                assert (e.category, e.code) == (0x51FF, 3), e
            else:
                raise AssertionError("no timeout")
        assert time.time() - t0 < 1.0
        assert n.info()["requests"]["failed"] == 2
        time.sleep(1.0)  # the worker finishes the first sleep; its reply goes nowhere
        assert nc.enqueue("echo", "ping", [b"free"], svc=svc, timeout=5) == [b"free"]
        assert n.info()["load"] == 0
        svc.close()


def test_request_buffer_limit():
    """A queued request whose body passes limits.request_buffer_bytes fails alone."""
    with t.node_running(t.Node(profiles={"fast": ONE_AT_A_TIME},
                               extra={"limits": {"request_buffer_bytes": 4096}})):
        svc = nc.Service("echo")
        first = send_sleeps(svc, 1, 300)[0]
        ch = svc.open("enqueue", "ping")
        for _ in range(10):
            ch.write(b"z" * 1000)
        ch.close()
        try:
            ch.chunks()
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x51FF, 2) and "request_buffer_bytes" in e.message, e
        else:
            raise AssertionError("no error")
        assert first.chunks() == [b"300"]
        assert nc.enqueue("echo", "ping", [b"ok"], svc=svc) == [b"ok"]
        svc.close()


if __name__ == "__main__":
    t.run([test_queue_fills_under_burst, test_queue_full, test_queue_limit_zero,
           test_body_buffered_while_queued, test_request_timeout, test_request_buffer_limit],
          "sl-node-queue")
