#!/usr/bin/python3
"""Malformed frames injected with scapy from inside the lab: each kind raises its counter,
sluiced keeps answering pings and sluicectl keeps working. On a tap port (where the kernel
neither reassembles nor cuts frames) also IP fragments and a 9000-byte frame."""
import sys

import labtest as t

PORT = sys.argv[1] if len(sys.argv) > 1 else "af_packet"
N = 20

SCAPY = r"""
import sys
from scapy.all import ARP, Ether, IP, ICMP, Raw, sendp, fragment, conf
conf.verb = 0
iface, dmac, kind, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
src = dict(src="198.18.0.1", dst="198.18.0.2")
eth = Ether(dst=dmac)
def good():
    return eth / IP(**src) / ICMP(id=7, seq=1) / Raw(b"x" * 32)
frames = []
if kind == "truncated_ip":      # IP header cut short: 14 + 12 bytes
    frames = [bytes(eth / IP(**src))[:26]] * n
elif kind == "truncated_len":   # total length claims more than the frame holds
    f = good(); f[IP].len = 200; frames = [bytes(f)] * n
elif kind == "bad_csum":
    f = good(); f[IP].chksum = 0x1234; frames = [bytes(f)] * n
elif kind == "bad_ihl":
    f = bytearray(bytes(good())); f[14] = 0x43; frames = [bytes(f)] * n
elif kind == "ethertype":
    frames = [bytes(Ether(dst=dmac, type=0x88b5) / Raw(b"\0" * 46))] * n
elif kind == "truncated_arp":   # an ARP request cut after 16 of its 28 bytes
    frames = [bytes(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="198.18.0.2", psrc="198.18.0.1"))[:30]] * n
elif kind == "fragments":
    big = eth / IP(**src) / ICMP(id=7, seq=2) / Raw(b"y" * 3000)
    frames = [bytes(eth / p) for p in fragment(big[IP], fragsize=1000)] * (n // 4 + 1)
elif kind == "jumbo":
    frames = [bytes(eth / IP(**src) / ICMP(id=7, seq=3) / Raw(b"z" * (9000 - 42)))] * n
for f in frames:
    sendp(f, iface=iface)
print(len(frames))
"""

CASES = [  # (kind, counter)
    ("truncated_arp", "drop_truncated"),
    ("truncated_ip", "drop_truncated"),
    ("truncated_len", "drop_truncated"),
    ("bad_csum", "drop_bad_ip_csum"),
    ("bad_ihl", "drop_bad_ihl"),
    ("ethertype", "drop_unknown_ethertype"),
]
TAP_CASES = [("fragments", "drop_ip_fragment"), ("jumbo", "drop_oversize")]


def inject(iface, mac, kind):
    r = t.nsx("/usr/bin/python3", "-c", SCAPY, iface, mac, kind, str(N), timeout=60)
    return int(r.stdout.strip())


def test():
    t.up(1, PORT)
    mac = t.ctl("show", "info")[1]["ports"][0]["mac"]
    # Inject on the kernel end of the link: sl-k (peer of sluiced's sl-dp), or the tap itself.
    iface = "dtap0" if PORT == "tap" else "sl-k"
    if PORT == "tap":
        t.nsx("ip", "link", "set", "dtap0", "mtu", "9100")
    cases = CASES + (TAP_CASES if PORT == "tap" else [])
    for kind, counter in cases:
        before = t.port_stats()
        sent = inject(iface, mac, kind)
        after = t.port_stats()
        delta = after[counter] - before[counter]
        t.log("%-14s sent %3d frames: %s +%d (ierrors +%d)" % (
            kind, sent, counter, delta, after["ierrors"] - before["ierrors"]))
        assert delta >= sent, "%s: %s rose by %d, %d frames sent" % (kind, counter, delta, sent)
        s, r, _ = t.ping("198.18.0.2", 5, "0.02")
        assert s == r == 5, "ping after %s: %d/%d" % (kind, r, s)
        rc, data, _ = t.ctl("show", "info", check=False)
        assert rc == 0
    st = t.port_stats()
    assert st["drop_truncated"] >= 3 * N


t.main(test, 600)
