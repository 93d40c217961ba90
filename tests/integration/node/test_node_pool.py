#!/usr/bin/python3
"""Pool scaling (5.5): with pool-limit 4 info shows active = 4 under load and back to 1 after
the idle timeout; concurrency per worker; the `control` stream sets the worker count and
the automatic rule returns when it closes."""
import time

import nodeclient as nc
import nodetest as t

GROW = dict(t.FAST_PROFILE, **{"pool-limit": 4, "concurrency": 1, "grow-threshold": 1,
                               "queue-limit": 100, "idle-timeout": 2})


def sleeps(svc, n, ms):
    chans = []
    for _ in range(n):
        ch = svc.open("enqueue", "sleep")
        ch.write(b"%d" % ms)
        ch.close()
        chans.append(ch)
    return chans


def test_grow_to_pool_limit_and_shrink():
    with t.node_running(t.Node(profiles={"fast": GROW})) as n:
        svc = nc.Service("echo")
        chans = sleeps(svc, 16, 600)
        info = t.wait_for(lambda: (lambda i: i if i["pool"]["active"] == 4 else None)(n.info()),
                          timeout=5, what="4 active workers")
        log_pool = info["pool"]
        assert log_pool["capacity"] == 4 and len(log_pool["slaves"]) == 4, log_pool
        assert info["load"] == 4, info  # concurrency 1: one request per worker
        for s in log_pool["slaves"].values():
            assert s["load:total"] <= 1, s
        for ch in chans:
            assert ch.chunks(timeout=10) == [b"600"]
        t.log("all done; waiting for the idle timeout (2 s)")
        info = t.wait_for(lambda: (lambda i: i if i["pool"]["active"] == 1 and
                                   len(i["pool"]["slaves"]) == 1 else None)(n.info()),
                          timeout=8, what="back to 1 worker")
        assert info["pool"]["total:spawned"] == 4 and info["pool"]["total:crashed"] == 0, info
        n.wait_log("the worker is idle")
        # the remaining worker serves
        assert nc.enqueue("echo", "ping", [b"x"], svc=svc) == [b"x"]
        svc.close()


def test_control_target():
    with t.node_running(t.Node(profiles={"fast": GROW})) as n:
        svc = nc.Service("echo")
        ctl = svc.open("control")
        ctl.write(3)
        t.wait_for(lambda: n.info()["pool"]["active"] == 3, timeout=5, what="3 workers")
        time.sleep(2.5)  # idle-timeout passes: the manual target holds
        assert n.info()["pool"]["active"] == 3
        ctl.write(2)  # below: one is sealed and terminated
        t.wait_for(lambda: len(n.info()["pool"]["slaves"]) == 2, timeout=5, what="2 workers")
        ctl.close()
        assert ctl.value() == []
        t.wait_for(lambda: len(n.info()["pool"]["slaves"]) == 1, timeout=8,
                   what="automatic again: 1 worker")
        svc.close()


def test_concurrency_per_worker():
    prof = dict(GROW, **{"pool-limit": 1, "concurrency": 5})
    with t.node_running(t.Node(profiles={"fast": prof})) as n:
        svc = nc.Service("echo")
        chans = sleeps(svc, 8, 500)
        time.sleep(0.2)
        info = n.info()
        assert info["load"] == 5 and info["queue"]["depth"] == 3, (info["load"], info["queue"])
        for ch in chans:
            assert ch.chunks() == [b"500"]
        svc.close()


if __name__ == "__main__":
    t.run([test_grow_to_pool_limit_and_shrink, test_control_target, test_concurrency_per_worker],
          "sl-node-pool")
