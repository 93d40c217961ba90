#!/usr/bin/python3
"""TCP 3/3 in the lab, with 2 workers (software RSS: a worker hands segments of flows it does
not own to the owner over a ring).
Usage: test_lab_tcp3.py conns [N]      N (10,000) concurrent kernel connections to echo, each
                                        echoing and closing; both workers carry them
       test_lab_tcp3.py memory [N] [P] N idle connections from P client processes over the
                                        lab's 4 client addresses: bytes per connection <= 512,
                                        cross-checked by the pools and the rte_malloc heap;
                                        all returned after they close
       test_lab_tcp3.py connect [N]    N (1,000) active opens from sluiced (`sluicectl test
                                        connect`) to a kernel echo server at 198.18.0.1,
                                        verified, from both workers, redirect counter > 0
       test_lab_tcp3.py synflood [N]   N (50,000) SYNs from 198.19.0.0/16 replayed with
                                        tcpreplay against a listener with backlog 64 while a
                                        transfer runs and new clients connect: SYN cookies
"""
import json
import os
import subprocess
import sys
import time

import labtest as t

MODE = sys.argv[1] if len(sys.argv) > 1 else "conns"
HERE = os.path.dirname(os.path.abspath(__file__))
CONN_CLIENT = os.path.join(HERE, "conn_client.py")
ECHO_SERVER = os.path.join(HERE, "echo_server.py")
CLIENT_ADDRS = "198.18.0.1,198.18.0.11,198.18.0.12,198.18.0.13"


def up_echo(extra=None):
    """The lab with 2 workers and config/lab-echo.json (plus `extra` top-level keys)."""
    cfg = os.path.join(t.ROOT, "config", "lab-echo.json")
    if extra:
        with open(cfg) as f:
            c = json.load(f)
        c.update(extra)
        cfg = "/tmp/%s-tcp3.json" % t.NAME
        with open(cfg, "w") as f:
            json.dump(c, f)
    t.lab("down", check=False)
    r = t.lab("up", "--workers", "2", "--config", cfg)
    assert t.socket_path() in r.stdout, r.stdout


def stats():
    return t.ctl("show", "stats")[1]


def pools(st=None):
    st = st or stats()
    return (st["ports"][0]["mbufs_free"], sum(x["conn_slots_free"] for x in st["tcp"]),
            st["tcp_total"]["heap_allocated_bytes"])


def settle(want, what):
    """Connections drain (LAST_ACK, TIME_WAIT) and everything comes home."""
    deadline = time.monotonic() + 30
    while True:
        st = stats()
        now = pools(st)
        if st["tcp_total"]["conns_open"] == 0 and now == want:
            return st
        if time.monotonic() > deadline:
            raise AssertionError("%s: not back after 30 s: (mbufs, slots, heap) %s, want %s, "
                                 "open %d" % (what, now, want, st["tcp_total"]["conns_open"]))
        time.sleep(0.5)


def start_clients(n, procs):
    """`procs` conn_client processes with n connections in all; wait until all are ready."""
    ps = []
    per = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    for k in per:
        ps.append(subprocess.Popen(["ip", "netns", "exec", t.NS, "/usr/bin/python3", CONN_CLIENT,
                                    "198.18.0.2", "7", str(k), CLIENT_ADDRS],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for p in ps:
        line = p.stdout.readline()
        assert line, "a client died before it was ready (rc %s)" % p.poll()
        r = json.loads(line)
        assert "ready" in r, "client: %s" % r
        t.log("client ready:", line.strip())
    return ps


def finish_clients(ps):
    total = 0
    for p in ps:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in ps:
        out, _ = p.communicate(timeout=300)
        r = json.loads(out.strip().splitlines()[-1])
        t.log("client:", json.dumps(r))
        assert p.returncode == 0 and r.get("ok"), "client failed: %s" % r
        total += r["connections"]
    return total


def test_conns():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    up_echo()
    before = pools()
    ps = start_clients(n, 1)
    st = stats()
    est = [w["conns"].get("ESTABLISHED", 0) for w in st["tcp"]]
    peak = st["tcp_total"]["established_peak_sum"]
    t.log("established per worker %s, peak sum %d" % (est, peak))
    assert sum(est) >= n, "only %d of %d established" % (sum(est), n)
    assert peak >= n, "peak %d < %d" % (peak, n)
    assert all(e > 3000 for e in est), "both workers must carry over 3,000: %s" % est
    assert finish_clients(ps) == n
    st = settle(before, "after %d connections" % n)
    red = sum(l["redirected"] for l in st["lcores"])
    t.log("redirected segments: %d, dropped %d" % (red, sum(l["redirect_dropped"] for l in st["lcores"])))
    assert red > 0, "with 2 workers some segments must reach the wrong queue and be redirected"


def test_memory():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    up_echo()
    st0 = stats()
    mb0, slots0, heap0 = pools(st0)
    ps = start_clients(n, procs)
    time.sleep(1)  # delayed ACKs out, nothing in flight
    st = stats()
    mb, slots, heap = pools(st)
    per = st["tcp_total"]["bytes_per_conn"]
    elt = per  # what one slot costs, as sluiced reports it
    t.log("idle: %d connections; bytes_per_conn %d; slots used %d; mbufs held %d; heap change %d"
          % (n, per, slots0 - slots, mb0 - mb, heap - heap0))
    assert per <= 512, "bytes per connection %d > 512" % per
    assert slots0 - slots == n, "the connection pools must hold exactly one slot per connection"
    assert heap - heap0 == 0, "no rte_malloc allocation per connection (heap grew %d)" % (heap - heap0)
    # idle connections hold no buffer: allow a handful in the port's caches and queues
    held = mb0 - mb
    assert held <= 64, "idle connections hold %d mbufs" % held
    total = (slots0 - slots) * elt + max(held, 0) * 2176
    t.log("memory for %d idle connections: %d bytes, %.1f per connection" % (n, total, total / n))
    assert total / n <= 512 + 64 * 2176 / n, "per-connection memory %.1f" % (total / n)
    assert finish_clients(ps) == n
    settle((mb0, slots0, heap0), "after %d idle connections" % n)


def test_connect():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    up_echo()
    srv = subprocess.Popen(["ip", "netns", "exec", t.NS, "/usr/bin/python3", ECHO_SERVER,
                            "198.18.0.1", "7", "300"], stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "listening"
        before = pools()
        rc, res, err = t.ctl("test", "connect", "198.18.0.1", "7", "1000", "--count", str(n),
                             "--timeout", "120000", timeout=180, check=False)
        t.log("test connect:", json.dumps(res), err.strip())
        assert rc == 0 and res["verified"] == n, "all %d must verify: %s %s" % (n, res, err)
        by = res["verified_by_worker"]
        assert len(by) == 2 and all(x > 0 for x in by), "opened from both workers: %s" % by
        st = stats()
        red = sum(l["redirected"] for l in st["lcores"])
        opens = [w["active_opens"] for w in st["tcp"]]
        t.log("redirected %d; active opens per worker %s" % (red, opens))
        assert red > 0, "the redirect counter must be above zero"
        assert sum(opens) >= n
        # errors are reported, not hidden: a closed port is refused
        rc, res, err = t.ctl("test", "connect", "198.18.0.1", "8", "10", check=False)
        assert rc != 0 and "refused" in err, "a closed port: %r %r" % (res, err)
        settle(before, "after the active opens")
    finally:
        srv.kill()
        srv.wait()


SYN_PCAP_GEN = r"""
import random, struct, sys
n, dmac, smac, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def mac(s): return bytes(int(x, 16) for x in s.split(":"))
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
rnd = random.Random(7)
dst = bytes([198, 18, 0, 2])
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        src = bytes([198, 19, rnd.randrange(256), rnd.randrange(1, 255)])
        sport = rnd.randrange(1024, 65535)
        # SYN with MSS 1460
        tcp = struct.pack("!HHIIBBHHH", sport, 7, rnd.getrandbits(32), 0, 6 << 4, 0x02, 64240, 0, 0) + bytes([2, 4, 5, 180])
        ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = mac(dmac) + mac(smac) + b"\x08\x00" + ip + tcp
        f.write(struct.pack("<IIII", i // 20000, (i % 20000) * 50, len(frame), len(frame)))
        f.write(frame)
"""


def tcp_sum(st, key):
    return sum(w.get(key, 0) for w in st["tcp"])


def test_synflood():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    with open(os.path.join(t.ROOT, "config", "lab-echo.json")) as f:
        listeners = json.load(f)["listeners"]
    for lst in listeners:
        if lst["address"].endswith(":7"):
            lst["backlog"] = 64
    up_echo({"listeners": listeners})
    info = t.ctl("show", "info")[1]
    dmac = info["ports"][0]["mac"]
    smac = t.nsx("cat", "/sys/class/net/sl-k/address").stdout.strip()
    pcap = "/tmp/%s-syn.pcap" % t.NAME
    t0 = time.monotonic()
    t.run(["/usr/bin/python3", "-c", SYN_PCAP_GEN, str(n), dmac, smac, pcap], timeout=300)
    t.log("pcap of %d SYNs written in %.1f s" % (n, time.monotonic() - t0))

    # no flood: clients connect without a single cookie
    client = os.path.join(HERE, "tcp_client.py")
    t.nsx("/usr/bin/python3", client, "rr", "198.18.0.2", "7", "50", "20", timeout=120)
    st = stats()
    assert tcp_sum(st, "syncookies_sent") == 0, "cookies without a flood: %d" % tcp_sum(st, "syncookies_sent")

    # the flood, while a transfer runs and new clients connect
    xfer = subprocess.Popen(["ip", "netns", "exec", t.NS, "/usr/bin/python3", client, "echo",
                             "198.18.0.2", "7", str(256 << 20)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    flood = subprocess.Popen(["ip", "netns", "exec", t.NS, "tcpreplay", "-i", "sl-k", "--pps",
                              "20000", pcap], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    time.sleep(0.5)
    newc = subprocess.run(["ip", "netns", "exec", t.NS, "/usr/bin/python3", CONN_CLIENT,
                           "198.18.0.2", "7", "200", CLIENT_ADDRS], input="go\n",
                          capture_output=True, text=True, timeout=300)
    fout, _ = flood.communicate(timeout=600)
    xout, _ = xfer.communicate(timeout=600)
    t.log("tcpreplay:", " ".join(fout.split())[-300:])
    t.log("transfer:", xout.strip().splitlines()[-1] if xout.strip() else "(none)")
    t.log("new clients:", newc.stdout.strip().splitlines()[-1] if newc.stdout.strip() else newc.stderr[-500:])
    assert xfer.returncode == 0 and json.loads(xout.strip().splitlines()[-1])["ok"], "the transfer failed"
    assert newc.returncode == 0 and json.loads(newc.stdout.strip().splitlines()[-1])["ok"], "new clients failed"
    assert flood.returncode == 0, "tcpreplay failed: %s" % fout[-500:]
    st = stats()
    sent, ok, bad = (tcp_sum(st, "syncookies_sent"), tcp_sum(st, "syncookies_ok"),
                     tcp_sum(st, "syncookies_failed"))
    syn_in = tcp_sum(st, "syn_in")
    t.log("SYNs in %d; cookies sent %d, validated %d, failed %d; backlog drops %d"
          % (syn_in, sent, ok, bad, tcp_sum(st, "drop_backlog")))
    assert syn_in >= n, "the flood must have reached sluiced: %d SYNs counted" % syn_in
    assert sent >= n - 1000, "a full backlog answers with cookies: %d of %d" % (sent, n)
    assert ok >= 200, "the 200 new clients came in on cookies: %d validated" % ok
    os.unlink(pcap)


t.main({"conns": test_conns, "memory": test_memory, "connect": test_connect,
        "synflood": test_synflood}[MODE], time_limit=900)
