"""Helpers for the lab integration tests: bring a lab up under a test's own name, run
commands in it, read sluiced's counters, and always clean up. Run with /usr/bin/python3."""
import atexit
import json
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.environ.get("SLUICE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BUILD = os.environ.get("SLUICE_BUILD") or os.path.join(ROOT, "build")
LAB = os.path.join(ROOT, "tools", "lab")
NAME = os.environ.get("SLUICE_LAB_NAME", "sl-test")
NS = NAME
ENV = dict(os.environ, SLUICE_BUILD=BUILD)


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, flush=True)


def run(cmd, check=True, timeout=60, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s -> %d\nstdout: %s\nstderr: %s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r


def lab(*args, check=True, timeout=120):
    return run([LAB] + list(args[:1]) + ["--name", NAME] + list(args[1:]), check=check, timeout=timeout)


def nsx(*cmd, check=True, timeout=60):
    return run(["ip", "netns", "exec", NS] + list(cmd), check=check, timeout=timeout)


def socket_path():
    return "/run/sluice/%s.sock" % NAME


def ctl(*args, check=True, timeout=30):
    """Run sluicectl --json; returns (exit status, parsed JSON or None, stderr)."""
    r = run([os.path.join(BUILD, "tools", "sluicectl"), "--socket", socket_path(), "--json"] + list(args),
            check=False, timeout=timeout)
    data = None
    if r.stdout.strip():
        data = json.loads(r.stdout)
    if check and r.returncode != 0:
        raise AssertionError("sluicectl %s -> %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.returncode, data, r.stderr


def port_stats(port=0):
    return ctl("show", "stats")[1]["ports"][port]


def sluiced_pid():
    with open("/run/sluice/%s/pid" % NAME) as f:
        return int(f.read())


def wait_for(what, cond, limit, step=0.05):
    """Seconds until cond() is true; raises after `limit` s, naming `what`."""
    t0 = time.monotonic()
    while True:
        if cond():
            return time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            raise AssertionError("%s: not within %.1f s" % (what, limit))
        time.sleep(step)


def nodes():
    """`sluicectl show nodes` by locator."""
    return {n["locator"]: n for n in ctl("show", "nodes")[1]["nodes"]}


def node_pid(k):
    """The pid of node K started by `tools/lab nodes`."""
    with open("/run/sluice/%s/node-%d/pid" % (NAME, k)) as f:
        return int(f.read())


def lab_log():
    try:
        with open("/run/sluice/%s/log" % NAME) as f:
            return f.read()
    except OSError:
        return ""


def up(workers=1, port="af_packet"):
    lab("down", check=False)
    r = lab("up", "--workers", str(workers), "--port", port)
    assert socket_path() in r.stdout, "lab up must print the control socket path: %r" % r.stdout
    return r


def down():
    lab("down", check=False)


def ping(addr, count, interval="0.01", size=None, timeout=120):
    cmd = ["ping", "-n", "-c", str(count), "-i", interval, "-W", "1"]
    if size:
        cmd += ["-s", str(size)]
    r = nsx(*cmd + [addr], check=False, timeout=timeout)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m, "no ping summary: %s %s" % (r.stdout, r.stderr)
    rtts = [float(x) for x in re.findall(r"time=([\d.]+) ms", r.stdout)]
    return int(m.group(1)), int(m.group(2)), rtts


def percentile(vals, p):
    s = sorted(vals)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main(test, time_limit=600):
    """Run `test()` with a time bound, always bringing the lab down; exit 0/1."""
    def on_alarm(signum, frame):
        raise TimeoutError("test exceeded %d s" % time_limit)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(time_limit)
    atexit.register(down)
    try:
        test()
    except BaseException as e:  # noqa: B902 - report everything, then fail
        log("FAIL:", repr(e))
        tail = lab_log()[-3000:]
        if tail:
            log("sluiced log tail:\n" + tail)
        down()
        sys.exit(1)
    down()
    log("PASS")
    sys.exit(0)
