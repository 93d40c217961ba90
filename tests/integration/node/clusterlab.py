"""A small network for sluice-node cluster tests: one namespace per node (sl-node-<tag>-1..n,
each with eth0 = 10.253.0.<i>/24 and a route for 224.0.0.0/4), joined by a bridge in a
namespace of its own (sl-node-<tag>-0, br0 = 10.253.0.254/24, IGMP snooping off) where the
test process lives, so it reaches every node. Nodes run with `ip netns exec`, announce on
239.0.100.53:10053 with multicast loopback off (Cocaine's default), and know no peers.

Cleanup (processes by pid, namespaces) always runs; run() bounds the whole test with
signal.alarm as nodetest.run does."""
import ctypes
import os
import signal
import subprocess
import sys
import time
import traceback

import nodeclient as nc
import nodetest as t

GROUP = "239.0.100.53"
NET = "10.253.0.%d"
LOC_PORT = 10053


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


class Lab:
    def __init__(self, tag, n):
        self.tag = tag
        self.n = n
        self.br = "sl-node-%s-0" % tag
        self.names = ["sl-node-%s-%d" % (tag, i) for i in range(1, n + 1)]
        self.orig = None
        for ns in [self.br] + self.names:
            sh("ip", "netns", "del", ns, check=False)
        try:
            self._build()
        except BaseException:
            self.delete()
            raise

    def _build(self):
        br = self.br
        sh("ip", "netns", "add", br)
        sh("ip", "-n", br, "link", "set", "lo", "up")
        sh("ip", "-n", br, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        sh("ip", "-n", br, "addr", "add", (NET % 254) + "/24", "dev", "br0")
        sh("ip", "-n", br, "link", "set", "br0", "up")
        for i, ns in enumerate(self.names, 1):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", br, "link", "add", "v%d" % i, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            sh("ip", "-n", br, "link", "set", "v%d" % i, "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", (NET % i) + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
        # the test process joins the bridge's namespace
        self.orig = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/var/run/netns/%s" % br, os.O_RDONLY)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, t.CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)

    def delete(self):
        if self.orig is not None:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.setns(self.orig, t.CLONE_NEWNET)
            os.close(self.orig)
            self.orig = None
        for ns in self.names + [self.br]:
            sh("ip", "netns", "del", ns, check=False)


class LabNode(t.Node):
    """A node in namespace `ns` at 10.253.0.<i>, with a multicast cluster."""

    def __init__(self, lab, i, interval=1, runlist=None, apps=None, profiles=None, extra=None,
                 cluster=True):
        self.ns = lab.names[i - 1]
        self.addr = NET % i
        self.locator = (self.addr, LOC_PORT)
        cfg = {"address": self.addr, "uuid": "00000000-0000-4000-8000-%012d" % i}
        if cluster:
            cfg["locator"] = {"port": LOC_PORT, "cluster": {
                "type": "multicast",
                "args": {"group": GROUP, "port": LOC_PORT, "interval": interval}}}
        cfg.update(extra or {})
        self.uuid = cfg["uuid"]
        super().__init__(apps=apps, profiles=profiles, runlist=runlist if runlist is not None else {},
                         extra=cfg)

    def start(self, wait=True):
        self.logf = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, t.NODE_BIN, "--config", self.config],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("sluice-node exited with %d:\n%s" % (self.proc.returncode, self.log()))
            try:
                nc.resolve("node", locator=self.locator, timeout=1)
                return
            except (OSError, nc.ProtocolError):
                time.sleep(0.05)
        raise AssertionError("sluice-node not ready in %d s:\n%s" % (timeout, self.log()))

    def call(self, method, *args, timeout=10.0):
        return nc.locator_call(method, *args, locator=self.locator, timeout=timeout)

    def cluster(self):
        """{uuid: (host, port)} of the nodes this one is linked to."""
        return {nc._s(k): (nc._s(v[0]), v[1]) for k, v in self.call("cluster")[0].items()}

    def resolve(self, name, timeout=5.0):
        return nc.resolve(name, locator=self.locator, timeout=timeout)

    def check_log(self):
        text = self.log()
        bad = [m for m in t.SANITIZER_MARKS if m in text]
        if bad:
            raise AssertionError("sanitizer report in the log of %s: %r\n%s" % (self.uuid, bad, text[-4000:]))


def run(tests, bound=240):
    """Run test functions, each given nothing (they build their own labs); always clean up."""
    signal.signal(signal.SIGALRM, t._alarm)
    signal.alarm(bound)
    if os.geteuid() != 0:
        print("SKIP: must run as root (network namespaces)")
        sys.exit(77)
    if not os.access(t.NODE_BIN, os.X_OK):
        print("missing %s (build first)" % t.NODE_BIN)
        sys.exit(1)
    failed = []
    try:
        for fn in tests:
            t.log("---", fn.__name__)
            try:
                fn()
                t.log("ok  ", fn.__name__)
            except t.Timeout:
                raise
            except Exception:
                traceback.print_exc()
                t.log("FAIL", fn.__name__)
                failed.append(fn.__name__)
    except t.Timeout as e:
        t.log("FAIL", str(e))
        failed.append("timeout")
    finally:
        signal.alarm(0)
    t.log("%d passed, %d failed%s" % (len(tests) - len(failed), len(failed),
                                      (": " + ", ".join(failed)) if failed else ""))
    sys.exit(1 if failed else 0)


class running:
    """with running(lab, [nodes]) as nodes: started in order; on exit every node is stopped
    (SIGTERM, exit status 0 required on success), its log checked, and the lab deleted."""

    def __init__(self, lab, nodes):
        self.lab = lab
        self.nodes = nodes

    def __enter__(self):
        try:
            for nd in self.nodes:
                nd.start()
            return self.nodes
        except BaseException:
            self._cleanup(False)
            raise

    def _cleanup(self, ok):
        errors = []
        try:
            for nd in self.nodes:
                if nd.proc is None:
                    continue
                if nd.proc.poll() is None:
                    try:
                        os.kill(nd.proc.pid, signal.SIGCONT)
                    except OSError:
                        pass
                try:
                    rc = nd.stop(signal.SIGTERM)
                except AssertionError as e:
                    errors.append(str(e))
                    rc = None
                text = nd.log()
                bad = [m for m in t.SANITIZER_MARKS if m in text]
                if not ok or bad or (rc not in (0, None) and getattr(nd, "expect_rc", 0) != rc):
                    sys.stdout.write("--- log of %s (%s) ---\n%s\n" % (nd.uuid, nd.addr, text[-5000:]))
                if bad:
                    errors.append("sanitizer report in the log of %s" % nd.uuid)
                elif ok and rc not in (0, None) and getattr(nd, "expect_rc", 0) != rc:
                    errors.append("node %s exited with %r" % (nd.uuid, rc))
        finally:
            for nd in self.nodes:
                nd.cleanup()
            self.lab.delete()
        if ok and errors:
            raise AssertionError("; ".join(errors))

    def __exit__(self, *exc):
        self._cleanup(exc[0] is None)
        return False
