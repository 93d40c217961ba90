#!/usr/bin/python3
"""Two labs side by side (`tools/lab --name`): each has its own namespace, DPDK file prefix
and control socket, both answer, `up` is idempotent, and taking one down leaves the other
working. `tools/lab` refuses clearly when not root."""
import os
import subprocess

import labtest as t

OTHER = t.NAME + "-b"


def other(*args, check=True):
    return t.run([t.LAB] + list(args[:1]) + ["--name", OTHER] + list(args[1:]), check=check, timeout=120)


def test():
    t.up(1)
    other("down", check=False)
    try:
        r = other("up")
        assert "/run/sluice/%s.sock" % OTHER in r.stdout
        r = other("up")
        assert "already up" in r.stdout, r.stdout
        for ns in (t.NS, OTHER):
            r = t.run(["ip", "netns", "exec", ns, "ping", "-c", "3", "-i", "0.05", "198.18.0.2"])
            assert " 0% packet loss" in r.stdout, r.stdout
        assert os.path.isdir("/var/run/dpdk/%s" % t.NAME) and os.path.isdir("/var/run/dpdk/%s" % OTHER)
        other("down")
        assert OTHER not in t.run(["ip", "netns", "list"]).stdout
        s, r_, _ = t.ping("198.18.0.2", 5, "0.05")
        assert s == r_ == 5
        other("down")  # idempotent
    finally:
        other("down", check=False)
    # Not root: a clear refusal, nothing done.
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", t.LAB, "up",
                        "--name", OTHER], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "must run as root" in r.stderr, (r.returncode, r.stderr)
    # The host namespace has no lab address.
    assert "198.18." not in t.run(["ip", "-4", "addr"]).stdout


t.main(test, 300)
