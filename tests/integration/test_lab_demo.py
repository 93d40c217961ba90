#!/usr/bin/python3
"""tools/demo end to end (issue 11 item 7), in the test's lab namespace: it exits 0, the
requests it sends through sluiced are answered by all three nodes (X-Sluice-Node), every
error status it shows is there, the native request (resolve, enqueue ping) is answered, and it
leaves no lab behind."""
import os
import re
import subprocess
import time

import labtest as t


def test():
    t.down()
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(t.ROOT, "tools", "demo"), "--name", t.NAME],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=240,
                       env=t.ENV)
    took = time.monotonic() - t0
    out = r.stdout
    t.log("tools/demo --name %s: exit %d in %.1f s\n%s%s" % (t.NAME, r.returncode, took, out,
                                                              r.stderr))
    assert r.returncode == 0, "tools/demo exited with %d: %s" % (r.returncode, r.stderr[-2000:])
    served = re.findall(r"^ +request \d <- 200 from (198\.18\.0\.1[1-3]):10053$", out, re.M)
    assert len(served) == 6, "six keep-alive requests answered: %r" % served
    assert set(served) == {"198.18.0.11", "198.18.0.12", "198.18.0.13"}, \
        "not every node served a request: %r" % served
    for k in (1, 2, 3):
        assert "X-Sluice-Node: 198.18.0.1%d:10053" % k in out or "from 198.18.0.1%d" % k in out
    assert "1000000 bytes" in out and "the same bytes" in out, "the 1 MB echo"
    for status in ("404 Not Found", "503 Service Unavailable", "500 Internal Server Error",
                   "504 Gateway Timeout"):
        assert re.search(r"^    %s: " % status, out, re.M), "no %s in the demo's output" % status
    # the native front (issue 12): resolve through 198.18.0.2:10053, then ping on the app port
    assert re.search(r"^  resolve echo -> endpoints 198\.18\.0\.2:20000, version 1, methods enqueue, info, control$",
                     out, re.M), "no native resolve in the demo's output"
    assert "  enqueue ping, write 'hello, cocaine', close -> write 'hello, cocaine', close" in out, \
        "no native ping in the demo's output"
    assert "bringing the lab down" in out
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not re.search(r"^%s\b" % re.escape(t.NAME), ns, re.M), "the demo left its namespace"
    assert not os.path.exists(t.socket_path()), "the demo left its control socket"


if __name__ == "__main__":
    t.main(test, 280)
