#!/usr/bin/python3
"""TCP 1/3 interop with the Linux stack through the lab: MiBs through `echo` in both
directions at once with a SHA-256 match, 1,000 sequential connections through `chargen` and
`discard`; afterwards the connection counts are back to zero and the mempools hold as many
free buffers and connection slots as before.
Usage: test_lab_tcp.py [MiB] [CONNS] [af_packet|tap]"""
import json
import os
import sys
import time

import labtest as t

MIB = int(sys.argv[1]) if len(sys.argv) > 1 else 128
CONNS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
PORT = sys.argv[3] if len(sys.argv) > 3 else "af_packet"
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_client.py")


def client(*args, timeout=900):
    r = t.nsx("/usr/bin/python3", CLIENT, *[str(a) for a in args], check=False, timeout=timeout)
    res = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {"stderr": r.stderr}
    t.log(args[0], json.dumps(res))
    assert r.returncode == 0 and res.get("ok"), "%s failed: %s %s" % (args[0], res, r.stderr[-2000:])
    return res


def pools():
    st = t.ctl("show", "stats")[1]
    return (st["ports"][0]["mbufs_free"], sum(x["conn_slots_free"] for x in st["tcp"]),
            st["tcp_total"])


def settle(want_mbufs, want_slots):
    """Connections drain (LAST_ACK, TIME_WAIT) and buffers come home within a few seconds."""
    deadline = time.monotonic() + 15
    while True:
        mb, slots, tcp = pools()
        if tcp["conns_open"] == 0 and mb == want_mbufs and slots == want_slots:
            return tcp
        if time.monotonic() > deadline:
            raise AssertionError("not back to idle: open %d (%s), mbufs free %d (want %d), "
                                 "conn slots free %d (want %d)" % (
                                     tcp["conns_open"], tcp["conns"], mb, want_mbufs, slots, want_slots))
        time.sleep(0.2)


def test():
    t.lab("down", check=False)
    r = t.lab("up", "--workers", "2", "--port", PORT, "--config",
              os.path.join(t.ROOT, "config", "lab-echo.json"))
    assert t.socket_path() in r.stdout
    # A first connection warms ARP and the pools' per-lcore caches.
    client("chargen", "198.18.0.2", 19, 1, 1000)
    time.sleep(0.5)
    mb0, slots0, tcp0 = pools()
    settle(mb0, slots0)
    t.log("idle: %d mbufs free, %d connection slots free" % (mb0, slots0))

    res = client("echo", "198.18.0.2", 7, MIB << 20, timeout=1200)
    assert res["sha256_match"] and res["bytes"] == MIB << 20
    client("chargen", "198.18.0.2", 19, CONNS, 10000)
    client("discard", "198.18.0.2", 9, CONNS, 10000)

    tcp = settle(mb0, slots0)
    d = {k: tcp[k] - tcp0[k] for k in ("accepted", "drop_bad_csum", "rst_out", "conn_timeout", "segs_in", "segs_out", "retransmits")}
    t.log("tcp counters over the run: %s" % d)
    assert d["accepted"] >= 2 * CONNS + 1, d
    assert d["drop_bad_csum"] == 0 and d["conn_timeout"] == 0, d
    # A port with no listener answers a SYN with RST.
    r = t.nsx("/usr/bin/python3", "-c",
              "import socket\ns=socket.socket()\ns.settimeout(3)\n"
              "try:\n s.connect(('198.18.0.2', 4444)); print('connected')\n"
              "except ConnectionRefusedError: print('refused')", check=False)
    assert r.stdout.strip() == "refused", r.stdout + r.stderr
    assert t.ctl("show", "stats")[1]["tcp_total"]["drop_no_listener"] >= 1


t.main(test, 1500)
