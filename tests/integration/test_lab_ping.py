#!/usr/bin/python3
"""Acceptance of the foundation: pings to sluiced with 0% loss, arping answers, and
`sluicectl ping ADDR --worker N` reaches 198.18.0.1 and 198.18.0.11 from every worker, so a
neighbour learned on one queue serves all. Usage: test_lab_ping.py WORKERS [af_packet|tap]"""
import sys

import labtest as t

WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1
PORT = sys.argv[2] if len(sys.argv) > 2 else "af_packet"


def test():
    t.up(WORKERS, PORT)
    info = t.ctl("show", "info")[1]
    assert info["workers"] == WORKERS, info
    assert len([l for l in info["lcores"] if l["role"] == "worker"]) == WORKERS
    assert info["ports"][0]["address"] == "198.18.0.2/24"
    assert info["ports"][0]["queues"] == WORKERS

    before = t.port_stats()
    sent, recv, rtts = t.ping("198.18.0.2", 200, "0.01")
    t.log("ping 198.18.0.2: %d/%d, max %.3f ms" % (recv, sent, max(rtts)))
    assert sent == 200 and recv == 200, "loss: %d of %d" % (sent - recv, sent)
    after = t.port_stats()
    assert after["tx_icmp_echo_reply"] - before["tx_icmp_echo_reply"] >= 200, after

    r = t.nsx("arping", "-c", "5", "-w", "5", "-I", "sluice-br0", "198.18.0.2", check=False)
    t.log(r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr)
    assert "Received 5 response" in r.stdout or "5 packets received" in r.stdout or \
        r.stdout.count("Unicast reply") >= 5 or r.stdout.count("bytes from") >= 5, r.stdout
    assert t.port_stats()["tx_arp_reply"] >= 5

    # sluiced's own echo requests, from each worker, to the client and a node address.
    for w in range(WORKERS):
        for addr in ("198.18.0.1", "198.18.0.11"):
            rc, data, err = t.ctl("ping", addr, "--worker", str(w), "--count", "3",
                                  "--interval", "20", check=False)
            assert rc == 0, "sluicectl ping %s --worker %d: %s" % (addr, w, err)
            assert data["received"] == 3 and data["worker"] == w, data
            assert all(r["sent_by"] == w for r in data["replies"]), data
            t.log("worker %d -> %s: %s" % (w, addr, [round(r["rtt_us"]) for r in data["replies"]]))
    st = t.port_stats()
    assert st["tx_icmp_echo"] >= 6 * WORKERS and st["rx_icmp_echo_reply"] >= 6 * WORKERS, st
    # Every worker carries a queue of the port; with 2 they shared what ARP taught one.
    stats = t.ctl("show", "stats")[1]
    assert len(stats["lcores"]) == WORKERS
    if WORKERS > 1:
        assert stats["workers_total"]["msgs"] > 0, stats["workers_total"]
    # An unreachable address is reported, not hung.
    rc, data, err = t.ctl("ping", "198.18.0.99", "--timeout", "300", check=False)
    assert rc == 1 and "no reply" in err, err
    rc, data, err = t.ctl("ping", "10.1.2.3", check=False)
    assert rc == 1, err


t.main(test, 300)
