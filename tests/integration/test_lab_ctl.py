#!/usr/bin/python3
"""The control socket and sluicectl: JSON that parses, aligned tables, errors for unknown
commands and malformed lines with the socket still serving, 1,000 sequential commands leaving
the daemon healthy, `tools/lab restart` bringing sluiced back with the network intact, and
SIGTERM / `shutdown` stopping it cleanly with exit status 0."""
import os
import socket
import stat
import subprocess
import time

import labtest as t


def raw(lines, read_lines=None):
    """Send raw bytes on the control socket; return the reply lines."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(t.socket_path())
    s.sendall(lines)
    out = b""
    want = read_lines if read_lines is not None else lines.count(b"\n")
    try:
        while out.count(b"\n") < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return [l for l in out.decode().split("\n") if l]


def test():
    t.up(1)
    mode = stat.S_IMODE(os.stat(t.socket_path()).st_mode)
    assert mode == 0o600, "socket mode %o" % mode

    rc, info, _ = t.ctl("show", "info")
    for k in ("version", "uptime_s", "lcores", "ports", "workers"):
        assert k in info, k
    rc, st, _ = t.ctl("show", "stats")
    for k in ("busy_cycles", "idle_cycles", "pmd_cycles", "rx_packets"):
        assert k in st["lcores"][0], k
    for k in ("ipackets", "opackets", "drop_truncated", "rx_frames"):
        assert k in st["ports"][0], k

    # The table form: aligned columns, every counter on a row.
    r = t.run([os.path.join(t.BUILD, "tools", "sluicectl"), "--socket", t.socket_path(), "show", "stats"])
    assert "busy_cycles" in r.stdout and "drop_bad_ip_csum" in r.stdout, r.stdout

    rc, data, err = t.ctl("frobnicate", check=False)
    assert rc == 1 and "unknown command" in err, (rc, err)
    assert data == {"error": err.split("sluicectl: ", 1)[1].strip()}, data
    rc, data, err = t.ctl("show", "stats", "extra", check=False)
    assert rc == 1 and "takes no arguments" in err, err
    rc, data, err = t.ctl("ping", "198.18.0.x", check=False)
    assert rc == 1 and "not an IPv4 address" in err, err

    # Malformed lines: binary junk, an empty line, control characters; then a good command
    # on the same connection still works.
    import json
    replies = raw(b"\x00\x01\x02\xff\n\n\tshow\x07 info\nshow info\n")
    assert len(replies) == 4, replies
    for r_ in replies[:3]:
        assert json.loads(r_)["ok"] is False, r_
    assert json.loads(replies[3])["ok"] is True
    # An over-long line gets an error and that connection is closed; the socket serves on.
    replies = raw(b"x" * 10000 + b"\n", read_lines=1)
    assert replies and "too long" in json.loads(replies[0])["error"], replies
    # A client that connects and goes away without a word.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(t.socket_path())
    s.close()
    # Pipelined commands on one connection come back in order.
    replies = raw(b"show info\nhelp\nshow stats\n")
    keys = [sorted(json.loads(r_)["data"].keys())[0] for r_ in replies]
    assert keys == ["control_socket", "commands", "control"], keys

    # 1,000 sequential commands.
    t0 = time.monotonic()
    for i in range(1000):
        replies = raw(b"show info\n" if i % 2 else b"show stats\n")
        assert len(replies) == 1 and json.loads(replies[0])["ok"], replies
    dt = time.monotonic() - t0
    t.log("1000 commands in %.2f s" % dt)
    rc, st, _ = t.ctl("show", "stats")
    assert st["control"]["clients"] == 1, st["control"]  # this very client
    assert st["control"]["errors"] < 20, st["control"]
    assert st["control"]["commands"] >= 1000
    s_, r_, _ = t.ping("198.18.0.2", 10, "0.01")
    assert s_ == r_ == 10

    # Restart: a new sluiced, same network.
    pid0 = t.sluiced_pid()
    r = t.lab("restart")
    assert t.socket_path() in r.stdout
    pid1 = t.sluiced_pid()
    assert pid1 != pid0
    s_, r_, _ = t.ping("198.18.0.2", 20, "0.01")
    assert s_ == r_ == 20, "after restart: %d/%d" % (r_, s_)
    rc, data, _ = t.ctl("ping", "198.18.0.1")
    assert data["received"] == 1

    # SIGTERM: exit status 0 and a clean log. The lab's sluiced is not our child, so run one
    # by hand in the lab namespace with the lab's config.
    t.lab("down")
    t.up(1)
    cfg = "/run/sluice/%s/config.json" % t.NAME
    pid = t.sluiced_pid()
    os.kill(pid, 15)
    for _ in range(100):
        if not os.path.exists("/proc/%d" % pid):
            break
        time.sleep(0.1)
    assert not os.path.exists("/proc/%d" % pid), "sluiced ignored SIGTERM"
    assert "signal Terminated: stopping" in t.lab_log() and "stopped" in t.lab_log(), t.lab_log()
    for how in ("SIGINT", "shutdown"):
        p = subprocess.Popen(["ip", "netns", "exec", t.NS, os.path.join(t.BUILD, "apps", "sluiced", "sluiced"),
                              "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(100):
            if t.ctl("show", "info", check=False)[0] == 0:
                break
            time.sleep(0.1)
        s_, r_, _ = t.ping("198.18.0.2", 3, "0.05")
        assert s_ == r_ == 3
        if how == "SIGINT":
            p.send_signal(2)
        else:
            t.ctl("shutdown")
        out = p.communicate(timeout=20)[0].decode()
        assert p.returncode == 0, "%s: exit %d\n%s" % (how, p.returncode, out)
        assert "stopped" in out, out
        assert not os.path.exists(t.socket_path()), "socket left behind"
        t.log("%s: exit 0" % how)


t.main(test, 600)
