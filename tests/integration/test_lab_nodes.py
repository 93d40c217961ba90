#!/usr/bin/python3
"""Discovery (issue 11 item 1, docs/nodes.md): sluiced resolves the configured apps at three
sluice-node locators started by `tools/lab nodes 3`, polls their `info`, marks a node killed
with SIGKILL down within down_after x resolve interval + timeout and up again within two
intervals of its restart; `show apps` lists echo on the up nodes and an app that no node runs as
absent; a locator with nothing listening is down from the start with "connection refused".
Dispatch plumbing (docs/nodes.md "The dispatch view"): `show apps|nodes` carry the dispatch
counters (zero before dispatch), the view published after each change reaches every worker
(`show stats` lcores[].cluster_generation), and the lab's access log file exists."""
import json
import os
import tempfile

import labtest as t

RESOLVE_MS, INFO_MS, TIMEOUT_MS, DOWN_AFTER = 1000, 500, 1000, 2
NODES = ["198.18.0.11:10053", "198.18.0.12:10053", "198.18.0.13:10053"]
DEAD = "198.18.0.1:10053"  # the clients' address: nothing listens on 10053


def write_config():
    with open(os.path.join(t.ROOT, "config", "lab.json")) as f:
        c = json.load(f)
    c["nodes"] = [{"locator": a} for a in NODES + [DEAD]]
    c["apps"] = {"echo": {"deadline_ms": 5000, "retries": 1}, "nothere": {}}
    c["discovery"] = {"resolve_interval_ms": RESOLVE_MS, "info_interval_ms": INFO_MS,
                      "timeout_ms": TIMEOUT_MS, "down_after": DOWN_AFTER}
    fd, path = tempfile.mkstemp(prefix="sl-nodes-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(c, f)
    return path






def all_up_with_info():
    ns = t.nodes()
    for a in NODES:
        n = ns[a]
        e = n["apps"]["echo"]
        if n["state"] != "up" or e["state"] != "present" or not e["endpoints"] or not e["info"]:
            return False
    return True


BE_COUNTERS = ["requests", "responses", "status_2xx", "status_3xx", "status_4xx", "status_5xx",
               "app_errors", "lost", "unavailable", "timeouts", "truncated", "retries",
               "queue_full", "restarted", "bytes_in", "bytes_out"]
NODE_EXTRAS = ["conns", "inflight", "conns_opened", "conn_failures", "passive_down"]


def check_dispatch_fields():
    """Every counter is there, zero before any dispatch; no latency yet."""
    for a in t.ctl("show", "apps")[1]["apps"]:
        d = a["counters"]
        for k in BE_COUNTERS:
            assert d[k] == 0, (a["app"], k, d)
        for k in ("p50_us_le", "p90_us_le", "p99_us_le"):
            assert k in d and d[k] is None, (k, d)
    for n in t.ctl("show", "nodes")[1]["nodes"]:
        d = n["counters"]
        for k in BE_COUNTERS + NODE_EXTRAS:
            assert d[k] == 0, (n["locator"], k, d)
        assert d["down_on_workers"] == [] and d["p99_us_le"] is None, d
    st = t.ctl("show", "stats")[1]
    for k in BE_COUNTERS + ["inflight", "protocol_errors", "alog_dropped", "alog_lines"]:
        assert st["dispatch"][k] == 0, (k, st["dispatch"])


def view_reaches_workers(limit=2.0):
    """The view published for the current picture reaches every worker: `show nodes` answers
    between two control loop turns, so its generation is the published view's; then every
    worker's cluster_generation catches up with it (one loop iteration)."""
    ns = t.ctl("show", "nodes")[1]
    g = ns["generation"]
    assert ns["view_generation"] == g, (ns["generation"], ns["view_generation"])
    seen = {}

    def caught_up():
        lc = t.ctl("show", "stats")[1]["lcores"]
        seen.update({l["worker"]: l["cluster_generation"] for l in lc})
        return len(lc) == 2 and all(l["cluster_generation"] >= g for l in lc)
    el = t.wait_for("the view reaching both workers", caught_up, limit)
    t.log("view generation %d on both workers within %.3f s (%s)" % (g, el, seen))
    return g




def test():
    cfg = write_config()
    try:
        t.lab("down", check=False)
        t.lab("up", "--config", cfg)
    finally:
        os.unlink(cfg)
    # Before any node runs, every locator refuses: all down.
    t.wait_for("every node down", lambda: all(n["state"] == "down" for n in t.nodes().values()), 3)
    g0 = view_reaches_workers()
    check_dispatch_fields()
    alog = "/run/sluice/%s/access.log" % t.NAME
    assert os.path.exists(alog), "the lab's access log %s is missing" % alog
    r = t.lab("nodes", "3")
    assert r.stdout.count("pid") == 3, r.stdout
    el = t.wait_for("3 nodes up with info", all_up_with_info, 2 * RESOLVE_MS / 1000.0)
    t.log("3 nodes up with echo endpoints and info in %.2f s" % el)
    ns = t.nodes()
    for a in NODES:
        n = ns[a]
        e = n["apps"]["echo"]
        ip = a.split(":")[0]
        assert all(ep.startswith(ip + ":") for ep in e["endpoints"]), e
        assert e["version"] >= 1, e
        info = e["info"]
        assert info["queue_capacity"] > 0 and info["pool_capacity"] > 0, info
        assert n["failures"] == 0 and n["last_error"] == "", n
        assert n["apps"]["nothere"]["state"] == "absent", n["apps"]["nothere"]
        t.log("%s rtt %.3f ms, info rtt %.3f ms, info %s" % (a, n["rtt_ms"], info["rtt_ms"],
                                                             json.dumps(info)))
    # Requests through node 1 show up in its info figures (accepted, timing quantiles).
    t.nsx("/usr/bin/python3", "-c",
          "import sys; sys.path.insert(0, %r); import nodeclient as nc; "
          "svc = nc.Service('echo', ('198.18.0.11', 10053)); "
          "[nc.enqueue('echo', 'ping', [b'x'], svc=svc) for _ in range(20)]; svc.close()"
          % os.path.join(t.ROOT, "tests", "integration", "node"))

    def served():
        i = t.nodes()[NODES[0]]["apps"]["echo"]["info"]
        return i["accepted"] >= 20 and "50" in i["timings_ms"] and "99.95" in i["timings_ms"]
    t.wait_for("node 1's info showing the requests", served, 3 * INFO_MS / 1000.0)
    t.log("node 1 after 20 requests: %s" % json.dumps(t.nodes()[NODES[0]]["apps"]["echo"]["info"]))
    dead = ns[DEAD]
    assert dead["state"] == "down", dead
    assert "connection refused" in dead["last_error"], dead

    apps = {a["app"]: a for a in t.ctl("show", "apps")[1]["apps"]}
    assert sorted(apps["echo"]["nodes"]) == NODES, apps["echo"]
    assert apps["echo"]["endpoints"] == 3 and apps["echo"]["deadline_ms"] == 5000, apps["echo"]
    assert apps["echo"]["retries"] == 1, apps["echo"]
    assert apps["nothere"]["nodes"] == [] and sorted(apps["nothere"]["absent_on"]) == NODES, apps
    assert apps["nothere"]["deadline_ms"] == 30000 and apps["nothere"]["retries"] == 2, apps

    # SIGKILL node 2: down within down_after x interval + timeout.
    bound = (DOWN_AFTER * RESOLVE_MS + TIMEOUT_MS) / 1000.0
    os.kill(t.node_pid(2), 9)
    el = t.wait_for("node 2 down", lambda: t.nodes()[NODES[1]]["state"] == "down", bound)
    t.log("killed node marked down in %.2f s (bound %.1f s): %s" % (el, bound, t.nodes()[NODES[1]]["last_error"]))
    assert el <= bound
    apps = {a["app"]: a for a in t.ctl("show", "apps")[1]["apps"]}
    assert sorted(apps["echo"]["nodes"]) == [NODES[0], NODES[2]], apps["echo"]
    assert t.nodes()[NODES[0]]["state"] == "up" and t.nodes()[NODES[2]]["state"] == "up"
    # The view that says node 2 is down reaches every worker.
    g1 = view_reaches_workers()
    assert g1 > g0, (g0, g1)
    check_dispatch_fields()

    # Restart it: up again within two intervals, with its new endpoint.
    t.lab("nodes", "3")
    el = t.wait_for("3 nodes up with info", all_up_with_info, 2 * RESOLVE_MS / 1000.0)
    t.log("restarted node up in %.2f s" % el)
    apps = {a["app"]: a for a in t.ctl("show", "apps")[1]["apps"]}
    assert sorted(apps["echo"]["nodes"]) == NODES, apps["echo"]
    log = t.lab_log()
    assert "up -> down" in log and "down -> up" in log, log[-2000:]

    # The table printer handles both replies.
    for what in ("nodes", "apps"):
        r = t.run([os.path.join(t.BUILD, "tools", "sluicectl"), "--socket", t.socket_path(), "show", what])
        assert "198.18.0.11:10053" in r.stdout, r.stdout

    # nodes-stop, then down leaves no node behind.
    pids = [t.node_pid(k) for k in (1, 2, 3)]
    t.lab("nodes-stop", "1")
    t.wait_for("node 1 down", lambda: t.nodes()[NODES[0]]["state"] == "down", bound)
    t.lab("down")
    for p in pids:
        assert not os.path.exists("/proc/%d" % p) or open("/proc/%d/stat" % p).read().split()[2] == "Z", p


t.main(test, 90)
