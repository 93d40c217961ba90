#!/usr/bin/python3
"""Clients for the dispatch lab tests (test_lab_dispatch.py), run inside the lab namespace.

  dispatchc.py keepalive N ROUNDS   N concurrent keep-alive clients, each sending ROUNDS
                                    POST /echo/http with its own body and checking the echo
  dispatchc.py burst N PATH BODY    N requests at once on fresh connections; prints statuses

Prints one JSON line {"ok": ..., "failures": [...], ...}; exit status 0 when ok."""
import asyncio
import json
import resource
import sys
import time

HOST, PORT = "198.18.0.2", 80


async def request(reader, writer, method, path, body=b"", headers=None):
    h = {"Host": "lab", "Content-Length": str(len(body))}
    h.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    line = await reader.readline()
    status = int(line.split()[1])
    fields = {}
    while True:
        l = await reader.readline()
        if l in (b"\r\n", b""):
            break
        k, v = l.decode().split(":", 1)
        fields[k.strip().lower()] = v.strip()
    if "content-length" in fields:
        data = await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding") == "chunked":
        data = b""
        while True:
            n = int((await reader.readline()).strip(), 16)
            if n == 0:
                await reader.readline()
                break
            data += await reader.readexactly(n)
            await reader.readline()
    else:
        data = await reader.read()
    return status, fields, data


async def keepalive_client(i, rounds, res, barrier_state):
    reader, writer = await asyncio.open_connection(HOST, PORT, local_addr=("198.18.0.1", 0))
    barrier_state["open"] += 1
    while barrier_state["open"] < barrier_state["n"] and time.monotonic() < barrier_state["until"]:
        await asyncio.sleep(0.05)
    barrier_state["at_barrier"] = max(barrier_state["at_barrier"], barrier_state["open"])
    try:
        for r in range(rounds):
            body = ("client %d round %d " % (i, r)).encode() * (1 + (i + r) % 7)
            status, fields, data = await request(reader, writer, "POST", "/echo/http", body)
            if status != 200 or data != body:
                res["failures"].append({"name": "client %d round %d" % (i, r), "got": "%d %r" % (status, data[:80])})
                return
            node = fields.get("x-sluice-node", "?")
            res["nodes"][node] = res["nodes"].get(node, 0) + 1
            res["requests"] += 1
    finally:
        writer.close()


async def run_keepalive(n, rounds):
    res = {"mode": "keepalive", "clients": n, "rounds": rounds, "requests": 0, "nodes": {}, "failures": []}
    st = {"open": 0, "n": n, "until": time.monotonic() + 30, "at_barrier": 0}
    t0 = time.monotonic()
    out = await asyncio.gather(*(keepalive_client(i, rounds, res, st) for i in range(n)), return_exceptions=True)
    for i, o in enumerate(out):
        if isinstance(o, Exception):
            res["failures"].append({"name": "client %d" % i, "got": repr(o)})
    res["seconds"] = round(time.monotonic() - t0, 2)
    res["open_at_once"] = st["at_barrier"]
    return res


async def one(path, body):
    reader, writer = await asyncio.open_connection(HOST, PORT, local_addr=("198.18.0.1", 0))
    try:
        status, fields, data = await request(reader, writer, "POST", path, body, {"Connection": "close"})
        return status, fields.get("x-sluice-node", ""), data.decode(errors="replace")[:200]
    finally:
        writer.close()


async def run_burst(n, path, body):
    res = {"mode": "burst", "failures": []}
    t0 = time.monotonic()
    out = await asyncio.gather(*(one(path, body.encode()) for _ in range(n)), return_exceptions=True)
    res["results"] = [list(o) if not isinstance(o, Exception) else [0, "", repr(o)] for o in out]
    res["seconds"] = round(time.monotonic() - t0, 2)
    return res


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "keepalive":
        res = asyncio.run(run_keepalive(int(a[0]), int(a[1])))
    elif mode == "burst":
        res = asyncio.run(run_burst(int(a[0]), a[1], a[2]))
    else:
        raise SystemExit("unknown mode " + mode)
    res["ok"] = not res["failures"]
    res["failures"] = res["failures"][:20]
    print(json.dumps(res))
    sys.exit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
