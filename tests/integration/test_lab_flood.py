#!/usr/bin/python3
"""Long suite: a 200,000-packet ping flood and a burst of malformed frames at 2 workers;
sluiced answers nearly all of them, counts every frame, and stays healthy.
Usage: test_lab_flood.py [COUNT]"""
import sys

import labtest as t

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200000


def test():
    t.up(2)
    before = t.ctl("show", "stats")[1]
    r = t.nsx("ping", "-n", "-q", "-f", "-c", str(COUNT), "198.18.0.2", check=False, timeout=900)
    import re
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    sent, recv = int(m.group(1)), int(m.group(2))
    after = t.ctl("show", "stats")[1]
    t.log("flood: %d/%d answered" % (recv, sent))
    tot = lambda d, k: d["workers_total"][k]
    rx = tot(after, "rx_packets") - tot(before, "rx_packets")
    busy = tot(after, "busy_cycles") - tot(before, "busy_cycles")
    pmd = tot(after, "pmd_cycles") - tot(before, "pmd_cycles")
    t.log("busy cycles per packet %.0f, without PMD %.0f" % (busy / rx, (busy - pmd) / rx))
    assert recv >= sent * 0.999, "answered %d of %d" % (recv, sent)
    assert after["ports"][0]["rx_icmp_echo"] - before["ports"][0]["rx_icmp_echo"] >= recv
    assert tot(after, "tx_dropped") == tot(before, "tx_dropped")
    s, r_, _ = t.ping("198.18.0.2", 10, "0.01")
    assert s == r_ == 10


t.main(test, 1200)
