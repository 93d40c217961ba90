#!/usr/bin/python3
"""Dispatch to Cocaine nodes (issue 11, docs/dispatch.md): sluiced in the lab with 2 workers in
front of three sluice-node nodes (tools/lab nodes 3) running the echo app.

  basic      GET and POST to /echo/http and through X-Cocaine-*; round robin over the nodes;
             10 MB bodies both ways with checksums; 404, 503, 500, 504 (deadline and
             X-Request-Timeout, and the node's connection carrying the channel closed)
  keepalive  1,000 concurrent keep-alive clients, every body echoed
  kill       a node killed with SIGKILL under wrk (64 connections): at most 64 failures, 100%
             2xx from 2 s later, no socket errors; down, then up and serving after a restart
  retry      queue-full: node 1 with queue-limit 1; requests that hit it succeed elsewhere and
             the retry counters show it
  drain      SIGTERM under load (wrk, and 40 requests waiting at the nodes): every request
             accepted before the signal gets its complete answer, new connections are refused,
             sluiced exits 0 within the drain timeout
"""
import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import labtest as t

MODE = sys.argv[1] if len(sys.argv) > 1 else "basic"
HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "http", "dispatchc.py")
NODES = ["198.18.0.11:10053", "198.18.0.12:10053", "198.18.0.13:10053"]
URL = "http://198.18.0.2"
DEADLINE_MS = 2000
DRAIN_MS = 5000
sys.dont_write_bytecode = True
TMP = tempfile.mkdtemp(prefix="sl-disp-")
atexit.register(lambda: shutil.rmtree(TMP, ignore_errors=True))


def up():
    c = json.load(open(os.path.join(t.ROOT, "config", "lab.json")))
    c["eal"]["args"] = ["--no-huge", "-m", "1024", "--no-pci"]
    c.setdefault("dataplane", {})["mbufs_per_port"] = 65535
    c["nodes"] = [{"locator": a} for a in NODES]
    c["apps"] = {"echo": {"deadline_ms": DEADLINE_MS, "retries": 2}}
    c["discovery"] = {"resolve_interval_ms": 1000, "info_interval_ms": 300, "timeout_ms": 300,
                      "down_after": 2}
    c.setdefault("limits", {})["drain_timeout_ms"] = DRAIN_MS
    path = os.path.join(TMP, "sluiced.json")
    with open(path, "w") as f:
        json.dump(c, f, indent=2)
    t.lab("down", check=False)
    t.lab("up", "--workers", "2", "--config", path)
    t.lab("nodes", "3", timeout=120)
    wait_nodes_up()






def wait_nodes_up(which=NODES, limit=10):
    def ok():
        ns = t.nodes()
        return all(ns[a]["state"] == "up" and ns[a]["apps"]["echo"]["state"] == "present" for a in which)
    return t.wait_for("nodes %s up with echo" % which, ok, limit)


def curl(*args, timeout=60):
    """curl in the namespace; returns (status, headers dict (lower-case), body bytes, seconds)."""
    hdr = os.path.join(TMP, "h")
    out = os.path.join(TMP, "o")
    r = t.nsx("curl", "-s", "-o", out, "-D", hdr, "-w", "%{http_code} %{time_total}", *args,
              check=False, timeout=timeout)
    code, secs = r.stdout.split()
    fields = {}
    for line in open(hdr, errors="replace").read().splitlines()[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.strip()
    return int(code), fields, open(out, "rb").read(), float(secs)


def client(*args, timeout=300):
    r = subprocess.run(["ip", "netns", "exec", t.NS, "/usr/bin/python3", CLIENT] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout, env=t.ENV)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "{}"
    res = json.loads(last)
    t.log("dispatchc %s: %s" % (" ".join(map(str, args)), json.dumps({k: v for k, v in res.items() if k != "results"})[:600]))
    if not res.get("ok"):
        raise AssertionError("dispatchc %s failed: %s %s" % (args[0], res.get("failures"), r.stderr[-2000:]))
    return res


def node_conns():
    """The nodes' established connections from sluiced (kernel sockets in the namespace)."""
    r = t.nsx("ss", "-Htn", "state", "established")
    out = set()
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and re.match(r"198\.18\.0\.1[123]:", f[-2]) and f[-1].startswith("198.18.0.2:"):
            out.add((f[-2], f[-1]))
    return out


def http_total():
    return t.ctl("show", "stats")[1]["http_total"]


# ---- modes ----

def test_basic():
    up()
    # GET and POST, and the same through the X-Cocaine-* headers
    code, h, body, _ = curl(URL + "/echo/http")
    assert code == 200 and body == b"" and h.get("x-sluice-node") in NODES, (code, h, body)
    code, h, body, _ = curl("--data-binary", "hello sluice", URL + "/echo/http?x=1")
    assert code == 200 and body == b"hello sluice", (code, body)
    assert h["content-type"] == "application/octet-stream" and h["content-length"] == "12", h
    assert re.match(r"^[0-9a-f]{32}$", h["x-request-id"]), h
    code, h, body, _ = curl("-H", "X-Cocaine-Service: echo", "-H", "X-Cocaine-Event: http",
                            "--data-binary", "via headers", URL + "/any/path")
    assert code == 200 and body == b"via headers", (code, body)
    code, h, body, _ = curl("-H", "X-Request-Id: my-request-1", URL + "/echo/http")
    assert h["x-request-id"] == "my-request-1", h
    # what the app gets (the echo app's `dump` event): the URI after /<app>/<event>, the
    # forwarded fields (hop-by-hop ones dropped, X-Forwarded-For extended, X-Request-Id)
    code, h, body, _ = curl("-H", "X-Forwarded-For: 10.0.0.1", "-H", "Connection: keep-alive, X-Hop",
                            "-H", "X-Hop: secret", "-H", "X-Keep: yes", "-H", "X-Request-Id: rid-7",
                            "--data-binary", "12345", URL + "/echo/dump/sub/path?q=1&b=2")
    lines = body.decode().splitlines()
    assert code == 200 and lines[:3] == ["method: POST", "uri: /sub/path?q=1&b=2", "version: 1.1"], body
    assert "header: X-Keep: yes" in lines and not any("X-Hop" in l or "Connection" in l for l in lines), body
    assert "header: X-Forwarded-For: 10.0.0.1, 198.18.0.1" in lines, body
    assert "header: X-Request-Id: rid-7" in lines and lines[-1] == "body-length: 5", body
    code, h, body, _ = curl("--request-target", "http://x.example:8080/echo/dump?z", URL + "/")
    lines = body.decode().splitlines()
    assert code == 200 and "uri: /?z" in lines and "header: Host: x.example:8080" in lines, body
    code, h, body, _ = curl("-H", "X-Cocaine-Service: echo", "-H", "X-Cocaine-Event: dump", URL + "/orig/uri?k=v")
    assert code == 200 and "uri: /orig/uri?k=v" in body.decode().splitlines(), body
    code, h, body, _ = curl("-0", URL + "/echo/dump")
    assert code == 200 and body.decode().splitlines()[1:3] == ["uri: /", "version: 1.0"], body
    # round robin: every node serves
    seen = {}
    for i in range(30):
        code, h, body, _ = curl("--data-binary", "n%d" % i, URL + "/echo/http")
        assert code == 200 and body == b"n%d" % i, (code, body)
        seen[h["x-sluice-node"]] = seen.get(h["x-sluice-node"], 0) + 1
    t.log("30 requests by node: %s" % seen)
    assert sorted(seen) == NODES and min(seen.values()) >= 5, seen
    # HTTP/1.0 (the reply's Content-Length is kept), HEAD (no body)
    code, h, body, _ = curl("-0", "--data-binary", "old", URL + "/echo/http")
    assert code == 200 and body == b"old", (code, body)
    code, h, body, _ = curl("-I", URL + "/echo/http")  # (curl -I puts the head in the file)
    assert code == 200 and h["content-length"] == "0", (code, h)
    # 10 MB both ways, Content-Length and chunked uploads
    data = os.urandom(10 * 1000 * 1000)
    src = os.path.join(TMP, "big")
    open(src, "wb").write(data)
    for extra in ([], ["-H", "Transfer-Encoding: chunked"]):
        code, h, body, secs = curl("--data-binary", "@" + src, *extra, URL + "/echo/http", timeout=120)
        assert code == 200 and len(body) == len(data), (code, len(body))
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest(), "10 MB echo differs"
        t.log("10 MB echo %s in %.2f s" % ("chunked" if extra else "with Content-Length", secs))
    # errors: bad URL 404, unknown app 503, app error 500
    code, h, body, _ = curl(URL + "/")
    assert code == 404 and b"invalid url" in body, (code, body)
    code, h, body, _ = curl(URL + "/echo")
    assert code == 404, (code, body)
    code, h, body, _ = curl(URL + "/nosuchapp/http")
    assert code == 503 and b"no such application" in body, (code, body)
    code, h, body, _ = curl("-H", "X-Cocaine-Service: nosuchapp", "-H", "X-Cocaine-Event: x", URL + "/")
    assert code == 503, (code, body)
    code, h, body, _ = curl(URL + "/echo/error")
    assert code == 500 and b"requested error" in body and b"[43, 1]" in body, (code, body)
    # 504: the app's deadline, then X-Request-Timeout; the node's connection carrying the
    # timed-out channel is closed
    before = node_conns()
    code, h, body, secs = curl("--data-binary", "5000", URL + "/echo/sleep")
    assert code == 504 and b"deadline" in body, (code, body)
    assert DEADLINE_MS / 1000.0 <= secs <= DEADLINE_MS / 1000.0 + 0.1, secs
    t.log("504 after %.3f s (deadline %d ms)" % (secs, DEADLINE_MS))
    time.sleep(0.2)
    after = node_conns()
    assert after != before, "the connection of the timed-out channel was not closed"
    code, h, body, secs = curl("-H", "X-Request-Timeout: 300", "--data-binary", "5000", URL + "/echo/sleep")
    assert code == 504 and 0.3 <= secs <= 0.4, (code, secs, body)
    pending = set()

    # the channel's connection: present while the request waits, gone 100 ms after the 504
    def watch():
        pending.update(node_conns())
    p = subprocess.Popen(["ip", "netns", "exec", t.NS, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                          "-H", "X-Request-Timeout: 800", "--data-binary", "5000", URL + "/echo/sleep"],
                         stdout=subprocess.PIPE, text=True)
    time.sleep(0.4)
    during = node_conns()
    out, _ = p.communicate(timeout=10)
    time.sleep(0.1)
    gone = during - node_conns()
    assert out == "504" and len(gone) >= 1, (out, during, gone)
    t.log("after the 504 the node saw %d connection(s) close: %s" % (len(gone), sorted(gone)))
    code, h, body, _ = curl("-H", "X-Request-Timeout: x", URL + "/echo/http")
    assert code == 400, (code, body)
    code, h, body, secs = curl("--data-binary", "100", URL + "/echo/sleep")
    assert code == 200 and body == b"100" and secs >= 0.1, (code, body, secs)
    # channels share connections: 24 slow requests in flight on the pools do not hold back
    # quick ones (2 workers x 3 nodes x 2 connections carry them all)
    slow = subprocess.Popen(["ip", "netns", "exec", t.NS, "/usr/bin/python3", CLIENT, "burst", "24",
                             "/echo/sleep", "1500"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    quick = client("burst", 30, "/echo/http", "q")
    slow_res = json.loads(slow.communicate(timeout=30)[0].strip().splitlines()[-1])
    assert [r[0] for r in quick["results"]] == [200] * 30 and quick["seconds"] < 0.5, quick
    assert [r[0] for r in slow_res["results"]] == [200] * 24 and slow_res["seconds"] >= 1.5, slow_res
    t.log("30 quick requests in %.2f s while 24 sleeps of 1.5 s were in flight" % quick["seconds"])
    s = http_total()
    assert s["inflight"] == 0, s


def test_keepalive():
    up()
    s0 = http_total()
    res = client("keepalive", 1000, 5, timeout=240)
    s1 = http_total()
    assert res["requests"] == 5000 and res["open_at_once"] >= 1000, res
    assert sorted(res["nodes"]) == NODES and min(res["nodes"].values()) >= 1000, res["nodes"]
    assert s1["status_2xx"] - s0["status_2xx"] == 5000 and s1["status_5xx"] == s0["status_5xx"], (s0, s1)
    assert s1["conns"] - s0["conns"] == 1000, (s0, s1)


def wrk(seconds, script=None):
    args = ["wrk", "-t2", "-c64", "-d%ds" % seconds, "--timeout", "5s"]
    if script:
        args += ["-s", script]
    r = t.nsx(*args, URL + "/echo/http", timeout=seconds + 30)
    out = r.stdout
    m = re.search(r"(\d+) requests in", out)
    total = int(m.group(1)) if m else 0
    non2xx = int(re.search(r"Non-2xx or 3xx responses: (\d+)", out).group(1)) if "Non-2xx" in out else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in sock.groups()) if sock else 0
    return total, non2xx, errors, out




def test_kill():
    up()
    script = os.path.join(TMP, "status.lua")
    with open(script, "w") as f:
        f.write('response = function(status, headers, body)\n'
                '  if status ~= 200 then io.write("STATUS " .. status .. " " .. body) end\nend\n')
    pid = t.node_pid(1)
    killer = subprocess.Popen(["bash", "-c", "sleep 2; kill -9 %d" % pid])
    total, non2xx, errors, out = wrk(4, script)
    killer.wait()
    t.log("wrk with node 1 killed at 2 s: %d requests, %d non-2xx, %d socket errors\n%s" % (
        total, non2xx, errors, "\n".join(sorted(set(l for l in out.splitlines() if l.startswith("STATUS"))))))
    assert total > 1000 and non2xx <= 64 and errors == 0, out
    # from 2 s after the kill: all 2xx
    total, non2xx, errors, out = wrk(3)
    t.log("wrk from 2 s after the kill: %d requests, %d non-2xx, %d socket errors" % (total, non2xx, errors))
    assert total > 1000 and non2xx == 0 and errors == 0, out
    ns = t.nodes()
    assert ns[NODES[0]]["state"] == "down", ns[NODES[0]]
    t.lab("nodes", "3", timeout=120)
    el = wait_nodes_up([NODES[0]], limit=5)
    t.log("node 1 up %.2f s after its restart" % el)
    seen = set()

    def serves():
        code, h, body, _ = curl(URL + "/echo/http")
        assert code == 200, (code, body)
        seen.add(h["x-sluice-node"])
        return NODES[0] in seen
    t.wait_for("node 1 serving again", serves, 10)
    total, non2xx, errors, out = wrk(2)
    assert non2xx == 0 and errors == 0, out
    # every node gone: a quick 503, not a hang
    for k in (1, 2, 3):
        os.kill(t.node_pid(k), 9)
    time.sleep(0.1)
    code, h, body, secs = curl(URL + "/echo/http")
    t.log("all nodes killed: %d in %.3f s: %s" % (code, secs, body))
    assert code in (502, 503) and secs < 1.0, (code, secs, body)
    code, h, body, secs = curl(URL + "/echo/http")
    assert code == 503 and secs < 1.0, (code, secs, body)


def test_retry():
    up()
    # node 1 again, with one worker taking one request and a queue of one
    ndir = os.path.join(TMP, "node")
    shutil.copytree(os.path.join(t.ROOT, "config", "node"), ndir)
    prof = json.load(open(os.path.join(ndir, "profiles", "default.json")))
    prof.update({"pool-limit": 1, "queue-limit": 1, "concurrency": 1})
    json.dump(prof, open(os.path.join(ndir, "profiles", "default.json"), "w"))
    nc = json.load(open(os.path.join(t.ROOT, "config", "node.json")))
    nc["paths"]["apps"] = os.path.join(ndir, "apps")
    nc["paths"]["profiles"] = os.path.join(ndir, "profiles")
    path = os.path.join(TMP, "node1.json")
    json.dump(nc, open(path, "w"))
    t.lab("nodes-stop", "1")
    t.lab("nodes", "1", "--config", path, timeout=120)
    wait_nodes_up(limit=10)

    def node1_serves():  # the view has node 1's new endpoint
        code, h, body, _ = curl(URL + "/echo/http")
        return code == 200 and h.get("x-sluice-node") == NODES[0]
    t.wait_for("node 1 serving with its new profile", node1_serves, 10)
    s0 = t.ctl("show", "apps")[1]
    res = client("burst", 60, "/echo/sleep", "300", timeout=60)
    statuses = [r[0] for r in res["results"]]
    by_node = {}
    for r in res["results"]:
        by_node[r[1]] = by_node.get(r[1], 0) + 1
    t.log("60 concurrent sleeps: statuses %s, by node %s" % (sorted(set(statuses)), by_node))
    assert statuses == [200] * 60, res["results"]
    s1 = t.ctl("show", "apps")[1]
    c0 = app_counters(s0)
    c1 = app_counters(s1)
    t.log("echo counters before %s after %s" % (c0, c1))
    assert c1["queue_full"] > c0["queue_full"] and c1["retries"] - c0["retries"] >= c1["queue_full"] - c0["queue_full"], (c0, c1)


def own_sluiced():
    """Restart the lab's sluiced as our child (its exit status is ours to read)."""
    state = "/run/sluice/%s" % t.NAME
    old = t.sluiced_pid()
    os.kill(old, 2)  # SIGINT: at once
    t.wait_for("the lab's sluiced to stop", lambda: not os.path.exists("/proc/%d" % old), 10)
    logf = open(state + "/log", "ab")
    p = subprocess.Popen(["ip", "netns", "exec", t.NS, os.path.join(t.BUILD, "apps", "sluiced", "sluiced"),
                          "--config", state + "/config.json"], stdin=subprocess.DEVNULL, stdout=logf,
                         stderr=subprocess.STDOUT, start_new_session=True)
    with open(state + "/pid", "w") as f:  # `tools/lab down` stops it if we fail
        f.write("%d\n" % p.pid)
    t.wait_for("sluiced to answer", lambda: p.poll() is None and t.ctl("show", "info", check=False)[0] == 0, 10)
    return p


def test_drain():
    up()
    p = own_sluiced()
    wait_nodes_up(limit=10)
    slow = subprocess.Popen(["ip", "netns", "exec", t.NS, "/usr/bin/python3", CLIENT, "burst", "40",
                             "/echo/sleep", "1800"], stdout=subprocess.PIPE, text=True)
    load = subprocess.Popen(["ip", "netns", "exec", t.NS, "wrk", "-t1", "-c64", "-d3s", URL + "/echo/http"],
                            stdout=subprocess.PIPE, text=True)
    t.wait_for("40 requests waiting at the nodes", lambda: http_total()["inflight"] >= 40, 1.5)
    t0 = time.monotonic()
    os.kill(p.pid, 15)
    time.sleep(0.1)
    r = t.nsx("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", "2",
              URL + "/echo/http", check=False)
    assert r.returncode == 7 and r.stdout == "000", ("a new connection must be refused", r.returncode, r.stdout)
    res = json.loads(slow.communicate(timeout=30)[0].strip().splitlines()[-1])
    statuses = [x[0] for x in res["results"]]
    assert statuses == [200] * 40, res["results"]
    rc = p.wait(timeout=DRAIN_MS / 1000.0 + 2)
    el = time.monotonic() - t0
    out = load.communicate(timeout=30)[0]
    t.log("SIGTERM: 40 waiting requests all 200, sluiced exited %d after %.2f s; wrk: %s" % (
        rc, el, " / ".join(l.strip() for l in out.splitlines() if "requests in" in l or "Socket" in l)))
    assert rc == 0 and el < DRAIN_MS / 1000.0, (rc, el)
    log = open("/run/sluice/%s/log" % t.NAME, errors="replace").read()
    assert "drained in" in log, log[-2000:]


def app_counters(show_apps):
    for a in show_apps["apps"]:
        if a["app"] == "echo":
            return a["counters"]
    raise AssertionError("no echo in show apps: %s" % show_apps)


MODES = {"basic": (test_basic, 240), "keepalive": (test_keepalive, 280), "kill": (test_kill, 240),
         "retry": (test_retry, 240), "drain": (test_drain, 240)}
if MODE not in MODES:
    sys.exit("usage: test_lab_dispatch.py %s" % "|".join(MODES))
t.main(MODES[MODE][0], MODES[MODE][1])
