#!/usr/bin/python3
"""The storage service (cocaine-protocol.md 10), files backend: read/write/remove/find round
trips with the Python client, find as the intersection of tags, tags replaced on overwrite,
errors ([[0x0C, errno], message]) for missing keys, bad names and oversized values, names
that cannot leave the storage directory, persistence across a restart, a worker that
caches in storage as the QR-code worker of the "Cocaine in action" article, and apps started
from a profile and a manifest kept in storage."""
import errno
import os

import msgpack

import nodeclient as nc
import nodetest as t

VALUE_LIMIT = 65536


def node(**kw):
    extra = {"storage": {"path": "storage"}, "limits": {"storage_value_bytes": VALUE_LIMIT}}
    return t.Node(extra=extra, **kw)


def expect_error(fn, code, *words):
    try:
        fn()
    except nc.ServiceError as e:
        assert (e.category, e.code) == (0x0C, code), e
        for w in words:
            assert w in e.message, (w, e.message)
        return e
    raise AssertionError("no error")


def test_round_trips():
    with t.node_running(node()) as n:
        eps, version, graph = nc.resolve("storage")
        assert version == 1
        assert [graph[i][0] for i in range(4)] == ["read", "write", "remove", "find"], graph
        st = nc.Service("storage")
        blob = bytes(range(256)) * 40
        assert st.call("write", "coll", "key1", blob) == []
        assert st.call("read", "coll", "key1") == [blob]
        assert st.call("write", "coll", "key1", b"v2") == []
        assert st.call("read", "coll", "key1") == [b"v2"]
        assert st.call("write", "coll", "empty", b"") == []
        assert st.call("read", "coll", "empty") == [b""]
        packed = msgpack.packb({"pool-limit": 4, "queue-limit": 10})
        assert st.call("write", "profiles", "p1", packed) == []
        assert msgpack.unpackb(st.call("read", "profiles", "p1")[0]) == {"pool-limit": 4, "queue-limit": 10}
        # any bytes but NUL make a name; none of them leaves its collection's directory
        odd = ["a/b", "..", ".", ".hidden", "sp ace%41", "ключ", "x" * 80, "../../etc/passwd"]
        for k in odd:
            assert st.call("write", "coll", k, k.encode() * 2) == [], k
        for k in odd:
            assert st.call("read", "coll", k) == [k.encode() * 2], k
        root = os.path.join(n.dir, "storage")
        assert sorted(os.listdir(root)) == ["coll", "profiles"], os.listdir(root)
        for dirpath, dirs, files in os.walk(root):
            assert os.path.realpath(dirpath).startswith(os.path.realpath(root))
        # collections are separate
        expect_error(lambda: st.call("read", "other", "key1"), errno.ENOENT, "key1", "other")
        # str8/bin from a modern client are names and values too
        st.conn.use_bin = True
        assert st.call("write", "coll", "bin", b"\x00\xff") == []
        assert st.call("read", "coll", "bin") == [b"\x00\xff"]
        st.close()


def test_find_by_tags():
    with t.node_running(node()):
        st = nc.Service("storage")
        st.call("write", "c", "k1", b"1", ["a", "b"])
        st.call("write", "c", "k2", b"2", ["a"])
        st.call("write", "c", "k3", b"3", ["b", "c"])
        st.call("write", "c", "k4", b"4")
        st.call("write", "d", "k5", b"5", ["a"])
        assert st.call("find", "c", ["a"]) == [[b"k1", b"k2"]]
        assert st.call("find", "c", ["b"]) == [[b"k1", b"k3"]]
        assert st.call("find", "c", ["a", "b"]) == [[b"k1"]]
        assert st.call("find", "c", ["b", "a"]) == [[b"k1"]]
        assert st.call("find", "c", ["a", "c"]) == [[]]
        assert st.call("find", "c", []) == [[]]
        assert st.call("find", "c", ["nosuch"]) == [[]]
        assert st.call("find", "nosuch", ["a"]) == [[]]
        assert st.call("find", "d", ["a"]) == [[b"k5"]]
        # an overwrite replaces the object's tags
        st.call("write", "c", "k1", b"1'", ["c"])
        assert st.call("find", "c", ["a"]) == [[b"k2"]]
        assert st.call("find", "c", ["c"]) == [[b"k1", b"k3"]]
        # remove drops the object and its tags; removing again is not an error
        assert st.call("remove", "c", "k3") == []
        assert st.call("find", "c", ["c"]) == [[b"k1"]]
        expect_error(lambda: st.call("read", "c", "k3"), errno.ENOENT, "k3")
        assert st.call("remove", "c", "k3") == []
        # tags with odd bytes
        st.call("write", "c", "k6", b"6", ["t/1", "..", "метка"])
        assert st.call("find", "c", ["t/1", "..", "метка"]) == [[b"k6"]]
        # routing groups are found this way (7.4)
        st.call("write", "groups", "g1", msgpack.packb({"a@1": 1}), ["group", "active"])
        st.call("write", "groups", "g2", msgpack.packb({"a@1": 1}), ["group"])
        assert st.call("find", "groups", ["group", "active"]) == [[b"g1"]]
        st.close()


def test_errors():
    with t.node_running(node()):
        st = nc.Service("storage")
        e = expect_error(lambda: st.call("read", "coll", "missing"), errno.ENOENT)
        assert "missing" in e.message and "coll" in e.message, e.message
        expect_error(lambda: st.call("write", "coll", "", b"x"), errno.EINVAL, "key")
        expect_error(lambda: st.call("write", "", "k", b"x"), errno.EINVAL, "collection")
        expect_error(lambda: st.call("write", "coll", "a\x00b", b"x"), errno.EINVAL, "NUL")
        expect_error(lambda: st.call("write", "coll", "k", b"x", ["ok", ""]), errno.EINVAL, "tag")
        expect_error(lambda: st.call("read", "coll", "/" * 100), errno.ENAMETOOLONG, "too long")
        e = expect_error(lambda: st.call("write", "coll", "big", b"x" * (VALUE_LIMIT + 1)), errno.EFBIG)
        assert "storage_value_bytes" in e.message, e.message
        assert st.call("write", "coll", "fits", b"x" * VALUE_LIMIT) == []
        assert len(st.call("read", "coll", "fits")[0]) == VALUE_LIMIT
        # the connection survives these errors
        assert st.call("write", "coll", "k", b"v") == []
        st.close()
        # a wrong argument type is invalid_argument: the connection is dropped (1.5)
        st = nc.Service("storage")
        ch = st.open("read", "coll", 42)
        try:
            ch.value(timeout=5)
            raise AssertionError("a read with an integer key was answered")
        except ConnectionError:
            pass
        st.close()


def test_persistence():
    n = node()
    try:
        n.start()
        st = nc.Service("storage")
        st.call("write", "keep", "k", b"kept", ["t"])
        st.close()
        assert n.stop() == 0
        n.start()
        st = nc.Service("storage")
        assert st.call("read", "keep", "k") == [b"kept"]
        assert st.call("find", "keep", ["t"]) == [[b"k"]]
        st.close()
        assert n.stop() == 0
    finally:
        n.cleanup()


def test_worker_caches_in_storage():
    prof = dict(t.FAST_PROFILE, **{"concurrency": 4})
    with t.node_running(node(apps={"qr": t.py_manifest()}, profiles={"fast": prof}, runlist={"qr": "fast"})) as n:
        t.wait_for(lambda: n.info("qr")["pool"]["active"] == 1, what="the python worker")
        assert nc.enqueue("qr", "cache", [b"hello"]) == [b"miss:HELLO"]
        assert nc.enqueue("qr", "cache", [b"hello"]) == [b"hit:HELLO"]
        st = nc.Service("storage")
        assert st.call("read", "qr-codes", "hello") == [b"HELLO"]
        assert st.call("find", "qr-codes", ["cache"]) == [[b"hello"]]
        st.close()


def test_apps_from_storage():
    """start_app finds a profile and a manifest that are not files in the storage
    collections "profiles" and "manifests" (msgpack maps, as cocaine-tool uploads them)."""
    with t.node_running(node(runlist={})) as n:
        st = nc.Service("storage")
        prof = dict(t.FAST_PROFILE, **{"pool-limit": 3})
        assert st.call("write", "profiles", "stored", msgpack.packb(prof), ["profile"]) == []
        assert st.call("write", "manifests", "stapp", msgpack.packb(t.echo_manifest()), ["app"]) == []
        node_svc = nc.Service("node")
        assert node_svc.call("start_app", "stapp", "stored") == []
        assert nc.enqueue("stapp", "ping", [b"from storage"]) == [b"from storage"]
        assert n.info("stapp")["pool"]["capacity"] == 3
        n.wait_log("profile stored: from storage")
        # a file still wins over storage; neither: the error says where it looked
        assert node_svc.call("start_app", "echo", "stored") == []
        try:
            node_svc.call("start_app", "nowhere", "stored")
            raise AssertionError("an app without a manifest started")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x51FF, 7), e
            assert "manifest.json" in e.message and "storage" in e.message, e.message
        # a stored profile with a bad value is refused with its storage name
        st.call("write", "profiles", "bad", msgpack.packb({"pool-limit": 0}))
        try:
            node_svc.call("start_app", "stapp2", "bad")
            raise AssertionError("a bad stored profile was accepted")
        except nc.ServiceError as e:
            assert "storage profiles/bad" in e.message and "pool-limit" in e.message, e.message
        node_svc.close()
        st.close()


def test_no_storage_configured():
    with t.node_running(t.Node()):
        try:
            nc.resolve("storage")
            raise AssertionError("storage resolved without storage.path")
        except nc.ServiceError as e:
            assert (e.category, e.code) == (0x0A, 1), e


if __name__ == "__main__":
    t.run([test_round_trips, test_find_by_tags, test_errors, test_persistence,
           test_worker_caches_in_storage, test_apps_from_storage, test_no_storage_configured],
          "sl-node-storage")
