#!/usr/bin/python3
"""An idle sluiced with 2 workers leaves the machine free: a CPU-bound loop on the kernel side
gets at least 70% of one core while sluiced idles, and an idle ping (one every 50 ms, so the
workers are asleep when it arrives) has p99 under 1 ms."""
import os
import resource
import subprocess
import time

import labtest as t

LOOP = """
import os, time
t0 = time.monotonic(); c0 = os.times()
x = 0
while time.monotonic() - t0 < 5.0:
    x += 1
c1 = os.times()
print((c1.user + c1.system - c0.user - c0.system) / (time.monotonic() - t0))
"""


def sluiced_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test():
    t.up(2)
    time.sleep(1.0)
    pid = t.sluiced_pid()
    st0 = t.ctl("show", "stats")[1]["workers_total"]
    c0, w0 = sluiced_cpu_seconds(pid), time.monotonic()
    share = float(t.nsx("/usr/bin/python3", "-c", LOOP, timeout=30).stdout.strip())
    c1, w1 = sluiced_cpu_seconds(pid), time.monotonic()
    st1 = t.ctl("show", "stats")[1]["workers_total"]
    sl_share = (c1 - c0) / (w1 - w0)
    t.log("kernel-side loop got %.0f%% of a core; idle sluiced used %.0f%% of a core; "
          "%d sleeps" % (share * 100, sl_share * 100, st1["sleeps"] - st0["sleeps"]))
    assert st1["sleeps"] > st0["sleeps"], "the workers never backed off"
    assert share >= 0.70, "CPU-bound loop got only %.0f%% of a core" % (share * 100)

    sent, recv, rtts = t.ping("198.18.0.2", 200, "0.05")
    p50, p99 = t.percentile(rtts, 50), t.percentile(rtts, 99)
    t.log("idle ping: %d/%d, p50 %.3f ms, p99 %.3f ms, max %.3f ms" % (recv, sent, p50, p99, max(rtts)))
    assert recv == sent == 200
    assert p99 < 1.0, "idle ping p99 %.3f ms" % p99


t.main(test, 300)
