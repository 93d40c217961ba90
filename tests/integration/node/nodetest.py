"""Harness for sluice-node's integration tests: a private network namespace (127.0.0.1 only),
a node with a generated configuration (apps, profiles, runlist) in a temporary directory,
and cleanup that always runs (processes killed by pid, namespace deleted) within a bound
set by signal.alarm. Run the tests as root with /usr/bin/python3."""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import nodeclient as nc

ROOT = os.environ.get("SLUICE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
BUILD = os.environ.get("SLUICE_BUILD") or os.path.join(ROOT, "build")
NODE_BIN = os.path.join(BUILD, "apps", "sluice-node", "sluice-node")
ECHO_BIN = os.path.join(BUILD, "apps", "sluice-node", "sluice-echo-worker")
PYWORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyworker.py")
LOCATOR = ("127.0.0.1", 10053)
CLONE_NEWNET = 0x40000000

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

# Short timeouts so that the suite stays fast (the defaults are minutes).
FAST_PROFILE = {"pool-limit": 1, "queue-limit": 10, "concurrency": 10, "heartbeat-timeout": 3,
                "startup-timeout": 5, "idle-timeout": 2, "termination-timeout": 2}


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, flush=True)


class Namespace:
    """`ip netns add`, then this process moves into it (setns), so every socket it opens and
    every child it starts lives on the namespace's own loopback."""

    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "netns", "add", name], check=True)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        self.orig = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/var/run/netns/%s" % name, os.O_RDONLY)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)

    def delete(self):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.setns(self.orig, CLONE_NEWNET)
        os.close(self.orig)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class Node:
    """One sluice-node with apps and profiles written into a temporary directory."""

    def __init__(self, apps=None, profiles=None, runlist=None, extra=None):
        self.dir = tempfile.mkdtemp(prefix="sl-node-")
        self.proc = None
        self.logf = None
        os.makedirs(os.path.join(self.dir, "apps"))
        os.makedirs(os.path.join(self.dir, "profiles"))
        for name, manifest in (apps or {"echo": echo_manifest()}).items():
            self.add_app(name, manifest)
        for name, prof in (profiles or {"fast": FAST_PROFILE}).items():
            self.add_profile(name, prof)
        cfg = {"address": "127.0.0.1", "locator": {"port": LOCATOR[1]},
               "paths": {"apps": "apps", "profiles": "profiles", "runtime": os.path.join(self.dir, "run")},
               "runlist": runlist if runlist is not None else {"echo": "fast"},
               "log": {"level": "debug"}}
        cfg.update(extra or {})
        self.config = os.path.join(self.dir, "node.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f, indent=1)

    def add_app(self, name, manifest):
        os.makedirs(os.path.join(self.dir, "apps", name), exist_ok=True)
        with open(os.path.join(self.dir, "apps", name, "manifest.json"), "w") as f:
            json.dump(manifest, f)

    def add_profile(self, name, prof):
        with open(os.path.join(self.dir, "profiles", name + ".json"), "w") as f:
            json.dump(prof, f)

    def start(self, wait=True):
        self.logf = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([NODE_BIN, "--config", self.config], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("sluice-node exited with %d:\n%s" % (self.proc.returncode, self.log()))
            try:
                nc.resolve("node", timeout=1)
                return
            except (OSError, nc.ProtocolError):
                time.sleep(0.05)
        raise AssertionError("sluice-node not ready in %d s:\n%s" % (timeout, self.log()))

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, text, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log():
                return
            time.sleep(0.05)
        raise AssertionError("%r not in the log within %d s:\n%s" % (text, timeout, self.log()[-4000:]))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal the node and wait; returns its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("sluice-node did not stop within %d s" % timeout)

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.logf:
            self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def info(self, app="echo"):
        svc = nc.Service(app)
        try:
            return decode(svc.call("info")[0])
        finally:
            svc.close()

    def worker_pids(self, app="echo"):
        slaves = self.info(app)["pool"]["slaves"]
        return [s["pid"] for s in slaves.values() if s["state"] == "active"]


def echo_manifest(**env):
    e = {"SLUICE_WORKER_HEARTBEAT_MS": "300"}
    e.update(env)
    return {"slave": ECHO_BIN, "environment": e}


def py_manifest():
    return {"slave": PYWORKER, "environment": {"PYWORKER_HEARTBEAT": "0.3"}}


def decode(o):
    """bytes -> str recursively (keys and values), for readable assertions."""
    if isinstance(o, bytes):
        try:
            return o.decode()
        except UnicodeDecodeError:
            return o
    if isinstance(o, list):
        return [decode(x) for x in o]
    if isinstance(o, dict):
        return {decode(k): decode(v) for k, v in o.items()}
    return o


def wait_for(pred, timeout=10, step=0.1, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout("test suite time bound reached")


def run(tests, ns_name, bound=240):
    """Run test functions (each takes nothing) in a fresh namespace; always clean up."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(bound)
    if os.geteuid() != 0:
        print("SKIP: must run as root (network namespaces)")
        sys.exit(77)
    for b in (NODE_BIN, ECHO_BIN):
        if not os.access(b, os.X_OK):
            print("missing %s (build first)" % b)
            sys.exit(1)
    ns = Namespace(ns_name)
    failed = []
    try:
        for t in tests:
            log("---", t.__name__)
            try:
                t()
                log("ok  ", t.__name__)
            except Timeout:
                raise
            except Exception:
                traceback.print_exc()
                log("FAIL", t.__name__)
                failed.append(t.__name__)
    except Timeout as e:
        log("FAIL", str(e))
        failed.append("timeout")
    finally:
        signal.alarm(30)
        ns.delete()
        signal.alarm(0)
    log("%d passed, %d failed%s" % (len(tests) - len(failed), len(failed),
                                    (": " + ", ".join(failed)) if failed else ""))
    sys.exit(1 if failed else 0)


class node_running:
    """with node_running(Node(...)) as n: ... — stopped and cleaned up on exit."""

    def __init__(self, node):
        self.node = node

    def __enter__(self):
        try:
            return self.node.start()
        except BaseException:
            self.node.cleanup()
            raise

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                # every test also ends with a clean drain and exit, and no sanitizer report
                rc = self.node.stop(signal.SIGTERM)
                log_text = self.node.log()
                bad = [m for m in SANITIZER_MARKS if m in log_text]
                if rc != 0 or bad:
                    sys.stdout.write("--- sluice-node log (tail) ---\n%s\n" % log_text[-6000:])
                    raise AssertionError("sluice-node exit status %r, sanitizer: %r" % (rc, bad))
            else:
                sys.stdout.write("--- sluice-node log (tail) ---\n%s\n" % self.node.log()[-6000:])
        finally:
            self.node.cleanup()
        return False
