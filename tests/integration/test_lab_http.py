#!/usr/bin/python3
"""HTTP 1/4 (issue 10) in the lab: sluiced's HTTP/1.1 front on 198.18.0.2:80, driven by
http/httpc.py inside the lab namespace.

Usage: test_lab_http.py MODE
  corpus     the malformed/smuggling corpus (http/bad.py: each its status, then the close) and
             the valid corpus (http/good.py: /-/mirror dumps written by hand); the error
             counters grew by what was sent
  keepalive  1,000 concurrent keep-alive clients, several requests each
  pipeline   pipelined requests (one write, trickled, a bad one or Connection: close inside)
             answered in order
  upload     10 MiB chunked and Content-Length uploads with CRC-32, Expect: 100-continue,
             413 for an oversize chunked body
  slowloris  (header_timeout_ms 2000) 1,000 one-byte-a-second connections cut by 408 at the
             header timeout while normal clients are served
  limits     (keepalive_ms 2000, header/body timeouts 2000, http_connections_per_worker 32)
             idle close, 408s, the connection limit's 503, drain on/off
  misc       HTTP/1.0, Connection: close, HEAD, Expect without a route, 405, curl
Afterwards sluiced has no HTTP connection left and the port's mbufs are all back."""
import atexit
import json
import os
import subprocess
import sys
import time

import labtest as t

MODE = sys.argv[1] if len(sys.argv) > 1 else "corpus"
HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "http", "httpc.py")
CFG = "/tmp/sluice-http-%s.json" % t.NAME
sys.path.insert(0, os.path.join(HERE, "http"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree


def up(limits=None):
    """The lab with config/lab.json (the HTTP listener, health and mirror on) plus `limits`."""
    c = json.load(open(os.path.join(t.ROOT, "config", "lab.json")))
    if limits:
        c.setdefault("limits", {}).update(limits)
    with open(CFG, "w") as f:
        json.dump(c, f, indent=2)
    atexit.register(lambda: os.path.exists(CFG) and os.unlink(CFG))
    t.lab("down", check=False)
    r = t.lab("up", "--workers", "2", "--config", CFG)
    assert t.socket_path() in r.stdout, "lab up must print the control socket path: %r" % r.stdout


def client(*args, timeout=300):
    """Run httpc.py in the namespace; returns its JSON result, fails with its failures."""
    env = dict(t.ENV, HTTPC_CTL=os.path.join(t.BUILD, "tools", "sluicectl"), HTTPC_SOCK=t.socket_path())
    t0 = time.monotonic()
    try:
        r = subprocess.run(["ip", "netns", "exec", t.NS, "/usr/bin/python3", CLIENT] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise AssertionError("httpc.py %s did not finish in %d s" % (" ".join(map(str, args)), timeout)) from None
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    try:
        res = json.loads(last)
    except ValueError:
        raise AssertionError("httpc.py %s -> %d, no result line\nstdout: %s\nstderr: %s"
                             % (args[0], r.returncode, r.stdout[-3000:], r.stderr[-3000:])) from None
    failures = res.pop("failures", [])
    t.log("httpc %s (%.1f s): %s" % (" ".join(map(str, args)), time.monotonic() - t0, json.dumps(res)))
    if failures or r.returncode != 0 or not res.get("ok"):
        for f in failures:
            if isinstance(f, dict):
                t.log("FAILED %s\n  request:  %s\n  expected: %s\n  got:      %s" % (
                    f.get("name"), f.get("request"), f.get("expected", "see above"),
                    str(f.get("got")).replace("\n", "\n            ")))
            else:
                t.log("FAILED " + str(f))
        if r.stderr.strip():
            t.log("httpc stderr:\n" + r.stderr[-3000:])
        raise AssertionError("httpc.py %s: %d failure(s): %s" % (
            args[0], len(failures), ", ".join(f.get("name", "?") if isinstance(f, dict) else str(f)[:80]
                                              for f in failures[:40])))
    return res


def stats():
    return t.ctl("show", "stats")[1]


def http_total():
    return stats()["http_total"]


def grew(before, after, want):
    """Every counter in `want` grew by at least that much (and no answer failed for want of
    buffers)."""
    bad = []
    if after["out_of_buffers"] != before["out_of_buffers"]:
        bad.append("out_of_buffers grew by %d" % (after["out_of_buffers"] - before["out_of_buffers"]))
    for k, n in want.items():
        d = after[k] - before[k]
        if d < n:
            bad.append("%s grew by %d, expected at least %d" % (k, d, n))
    assert not bad, "HTTP counters: " + "; ".join(bad) + "\nbefore: %s\nafter: %s" % (before, after)


def baseline():
    """Warm ARP and the pools with one request, then note the port's free mbufs."""
    r = t.nsx("/usr/bin/python3", "-c",
              "import socket\ns=socket.create_connection(('198.18.0.2',80),timeout=10)\n"
              "s.sendall(b'GET /-/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
              "d=b''\nwhile True:\n c=s.recv(4096)\n if not c: break\n d+=c\nprint(d.split(b'\\r\\n')[0].decode())",
              check=False, timeout=30)
    assert r.stdout.strip() == "HTTP/1.1 200 OK", "warm-up GET /-/health: %r %r" % (r.stdout, r.stderr)
    time.sleep(2.5)  # its linger/close done
    return stats()["ports"][0]["mbufs_free"]


def settle(mbufs0, wait=15):
    """No HTTP connection left, every mbuf back."""
    deadline = time.monotonic() + wait
    while True:
        st = stats()
        active, mb = st["http_total"]["active"], st["ports"][0]["mbufs_free"]
        if active == 0 and mb == mbufs0:
            return st["http_total"]
        if time.monotonic() > deadline:
            raise AssertionError("not back to idle %d s after the clients: http active %d (want 0), mbufs free "
                                 "%d (want %d)" % (wait, active, mb, mbufs0))
        time.sleep(0.25)


def alive():
    pid = t.sluiced_pid()
    try:
        os.kill(pid, 0)
    except OSError:
        raise AssertionError("sluiced (pid %d) is gone" % pid) from None


def test_corpus():
    from bad import CASES as BAD
    from good import CASES as GOOD
    up()
    mb0 = baseline()
    s0 = http_total()
    want = {}
    for _, _, st in BAD:
        want[st] = want.get(st, 0) + 1
    failed = []
    for mode in ("bad", "good"):
        try:
            client(mode)
        except AssertionError as e:
            failed.append(str(e))
    alive()
    s1 = settle(mb0)
    names = {400: "bad_request", 413: "too_large", 414: "uri_too_long", 417: "expect_failed",
             431: "fields_too_large", 501: "not_implemented", 505: "bad_version"}
    try:
        grew(s0, s1, dict({names[k]: n for k, n in want.items()},
                          status_4xx=sum(n for k, n in want.items() if k < 500),
                          status_5xx=sum(n for k, n in want.items() if k >= 500),
                          conns=len(BAD) + len(GOOD), mirror=len(GOOD), status_2xx=len(GOOD)))
    except AssertionError as e:
        failed.append(str(e))
    assert not failed, "\n".join(failed)


def test_keepalive():
    up()
    mb0 = baseline()
    s0 = http_total()
    res = client("keepalive", 1000, 10, timeout=240)
    alive()
    s1 = settle(mb0, wait=20)
    grew(s0, s1, {"conns": 1000, "requests": 10000, "status_2xx": 10000, "health": 5000, "mirror": 5000})
    assert s1["status_4xx"] == s0["status_4xx"] and s1["status_5xx"] == s0["status_5xx"], (s0, s1)
    assert res["active_at_barrier"] >= 1000, res


def test_pipeline():
    up()
    mb0 = baseline()
    s0 = http_total()
    client("pipeline", timeout=240)
    alive()
    s1 = settle(mb0)
    grew(s0, s1, {"requests": 700, "bad_request": 1, "no_route": 100})


def test_upload():
    up()
    mb0 = baseline()
    s0 = http_total()
    res = client("upload", 10, timeout=280)
    alive()
    s1 = settle(mb0)
    grew(s0, s1, {"body_bytes": res["body_bytes_sent"], "continues": 2, "too_large": 2})


def test_slowloris():
    up({"header_timeout_ms": 2000})
    mb0 = baseline()
    s0 = http_total()
    client("slowloris", 1000, 2000, timeout=240)
    alive()
    s1 = settle(mb0, wait=20)
    grew(s0, s1, {"timeout_head": 1000})


def test_limits():
    up({"keepalive_ms": 2000, "header_timeout_ms": 2000, "body_timeout_ms": 2000,
        "connections_per_worker": 64, "http_connections_per_worker": 32})
    mb0 = baseline()
    s0 = http_total()
    client("limits", 2000, 2000, 2000, 32, 2, timeout=180)
    alive()
    s1 = settle(mb0)
    grew(s0, s1, {"conns_refused": 1, "idle_closed": 2, "timeout_head": 1, "timeout_body": 3,
                  "linger_expired": 1})
    assert s1["draining"] is False, s1


def test_misc():
    up()
    mb0 = baseline()
    s0 = http_total()
    res = client("misc", timeout=180)
    if not res.get("curl"):
        t.log("NOTE: curl is not installed in this environment: the curl checks were skipped")
    alive()
    s1 = settle(mb0)
    grew(s0, s1, {"not_found": 5, "no_route": 1, "health": 10})


MODES = {"corpus": (test_corpus, 280), "keepalive": (test_keepalive, 280), "pipeline": (test_pipeline, 280),
         "upload": (test_upload, 330), "slowloris": (test_slowloris, 280), "limits": (test_limits, 240),
         "misc": (test_misc, 240)}
if MODE not in MODES:
    sys.exit("usage: test_lab_http.py %s" % "|".join(MODES))
t.main(MODES[MODE][0], MODES[MODE][1])
