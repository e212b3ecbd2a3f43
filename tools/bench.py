"""make bench: what a sample costs on the wire, in flash and in RAM, each
metric measured in this run side by side with its baseline.

Prints a table and writes the results to .state/bench/results.json (not
tracked by git). With --update (`make bench-update`) it writes them to the
tracked bench/results.json instead and pastes the table into the README
between the BENCH markers. Timing figures are medians of repeated runs.
"""
import datetime
import json
import os
import platform
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _load_build():
    # tools/build as a module (a command, it has no .py suffix): the .mpy
    # measured here are compiled with its options, as a board's are.
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("uonep_build", str(ROOT / "tools" / "build"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("uonep_build",
                                                                              loader))
    loader.exec_module(module)
    return module


BUILD = _load_build()
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"
SCRIPTS = ROOT / "tools" / "benchmarks"
RESULTS = ROOT / "bench" / "results.json"
LOCAL_RESULTS = ROOT / ".state" / "bench" / "results.json"
README = ROOT / "README.md"
CIK = "1" * 40
SAMPLES = 1000


def micropython(args, heapsize="8m", timeout=300, code=None):
    """Run a script in the unix port; code: the folder the firmware (core
    and app) is imported from (default: the .py sources)."""
    environment = dict(os.environ)
    environment["MICROPYPATH"] = ":".join(
        [str(SCRIPTS), str(code or ROOT / "firmware"), str(ROOT / "tests"), ".frozen"])
    return subprocess.run([str(MICROPYTHON), "-X", "heapsize=" + str(heapsize)]
                          + [str(arg) for arg in args],
                          capture_output=True, text=True, timeout=timeout, env=environment)


def micropython_json(args, heapsize="8m"):
    done = micropython(args, heapsize)
    if done.returncode != 0:
        raise RuntimeError("micropython %s failed:\n%s" % (args[0], done.stderr[-3000:]))
    return json.loads(done.stdout.strip().splitlines()[-1])


class CountingRelay:
    """A loopback TCP relay in front of the emulator that counts the bytes
    clients send (request line, headers and body): the wire cost."""

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.sent = 0

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source, target, counted):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if counted:
                    with self.lock:
                        self.sent += len(data)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def metric(value, baseline, baseline_name, unit):
    return {"value": value, "baseline": baseline, "baseline_name": baseline_name,
            "unit": unit, "ratio": round(value / baseline, 4) if baseline else None}


# -- wire ---------------------------------------------------------------------

def wire_metrics(relay, emulator, scratch):
    from uonep_host import OnepV1
    results = {}
    for dataports in (1, 5):
        relay.reset()
        before = emulator.request_count
        report = micropython_json(["%s/mp_commit_push.py" % SCRIPTS, "127.0.0.1", relay.port,
                                   scratch / ("wire%d" % dataports), SAMPLES, dataports])
        assert report["sent"] == SAMPLES, report
        ours_bytes, ours_requests = relay.sent, emulator.request_count - before
        relay.reset()
        before = emulator.request_count
        onep = OnepV1(host="127.0.0.1", port=relay.port, https=False)
        names = ["temp", "count", "status", "hum", "volt"][:dataports]
        for step in range(SAMPLES // dataports):
            for name in names:
                ok, _ = onep.write(CIK, {"alias": name}, 1.5 if name != "status" else "s")
                assert ok or name in ("count",), name
        onep.close()
        theirs_bytes, theirs_requests = relay.sent, emulator.request_count - before
        name = "wire_bytes_per_sample" + ("" if dataports == 1 else "_5_dataports")
        results[name] = metric(round(ours_bytes / SAMPLES, 2), round(theirs_bytes / SAMPLES, 2),
                               "pyonep-style OnepV1.write per sample", "bytes/sample")
        if dataports == 1:
            results["http_requests_per_1000_samples"] = metric(
                ours_requests * 1000 / SAMPLES, theirs_requests * 1000 / SAMPLES,
                "pyonep-style OnepV1.write per sample", "requests")
    return results


# -- TLS: the wire all-in, handshakes, heap -----------------------------------

# IPv4 (20) and TCP (20) header bytes per segment: what lwIP sends on a board
# (no TCP timestamps). The MSS forced on the relay's side is Ethernet/WiFi's.
HEADER_BYTES = 40
MSS = 1460
TLS_SAMPLES = 1000
I686 = "micropython-i686/micropython"


class SegmentRelay:
    """A loopback TCP relay in front of the TLS emulator that counts, for
    every client connection: the bytes of the TLS stream both ways (exact)
    and the TCP segments both ways (the kernel's own tcpi_segs_in/out on the
    relay's socket, SYN, ACKs and FIN included)."""

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.reset()
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.connections = self.payload = self.segments = self.active = 0

    def wait(self, seconds=30):
        """Until every connection has ended (its counts are in)."""
        deadline = time.monotonic() + seconds
        while self.active and time.monotonic() < deadline:
            time.sleep(0.01)

    def all_in(self):
        """Bytes on the wire: TLS stream plus HEADER_BYTES per segment."""
        return self.payload + HEADER_BYTES * self.segments

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.active += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        server = socket.create_connection(self.upstream)
        back = threading.Thread(target=self._pump, args=(server, client))
        back.start()
        self._pump(client, server)
        back.join()
        info = client.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        segments = sum(struct.unpack_from("II", info, 136))
        with self.lock:
            self.segments += segments
            self.active -= 1
        client.close()
        server.close()

    def _pump(self, source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                with self.lock:
                    self.payload += len(data)
                target.sendall(data)
        except OSError:
            pass
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def public_like_chain(folder):
    """A chain shaped like a public server's (RSA 2048 leaf and intermediate
    under a root): (certificate chain file, key file, root CA file)."""
    import trustme
    root = trustme.CA(key_type=trustme.KeyType.RSA)
    leaf = root.create_child_ca(key_type=trustme.KeyType.RSA).issue_cert(
        "127.0.0.1", "localhost", key_type=trustme.KeyType.RSA)
    paths = [folder / name for name in ("chain.pem", "key.pem", "ca.pem")]
    paths[0].write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(paths[1]))
    root.cert_pem.write_to_path(str(paths[2]))
    return paths


def run_with(binary, args, heapsize, code=None):
    """micropython() with another binary (the 32-bit one)."""
    environment = dict(os.environ)
    environment["MICROPYPATH"] = ":".join(
        [str(SCRIPTS), str(code or ROOT / "firmware"), str(ROOT / "tests"), ".frozen"])
    return subprocess.run([str(binary), "-X", "heapsize=" + str(heapsize)]
                          + [str(arg) for arg in args],
                          capture_output=True, text=True, timeout=300, env=environment)


def tls_run(relay, ca, folder, samples, every, mode, binary=MICROPYTHON, heapsize="8m",
            code=None):
    """One mp_tls_push.py run through the relay: (its report, the relay's
    connections, all-in bytes)."""
    relay.reset()
    shutil.rmtree(folder, ignore_errors=True)
    done = run_with(binary, ["%s/mp_tls_push.py" % SCRIPTS, "127.0.0.1", relay.port, ca,
                             folder, samples, every, mode], heapsize, code)
    relay.wait()
    if done.returncode != 0:
        raise RuntimeError("mp_tls_push.py %s failed:\n%s" % (mode, done.stderr[-3000:]))
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["sent"] == samples, report
    return report, relay.connections, relay.all_in()


def i686_binary():
    """The 32-bit MicroPython in the shared folder next to the checkout, if any."""
    for folder in (ROOT.parent, ROOT.parent.parent):
        candidate = folder / "shared" / I686
        if candidate.exists():
            return candidate
    return None


def tls_heap(relay, ca, scratch, build, binary, mode):
    """Smallest -X heapsize (to 1 KiB) for 50 commits and their push over TLS."""
    def works(size):
        try:
            tls_run(relay, ca, scratch / "tls-heap", 50, 50, mode, binary, size, build)
        except RuntimeError:
            return False
        return True
    return _smallest(works, 8 * 1024, 1024 * 1024, "a TLS push")


def tls_metrics(scratch, build):
    from uonep_host.emulator import Emulator
    chain, key, ca = public_like_chain(scratch)
    emulator = Emulator(seed={"clients": [{"cik": CIK, "dataports": [
        {"alias": "temp", "format": "float"}]}]}, certfile=str(chain), keyfile=str(key)).start()
    relay = SegmentRelay(emulator.port)
    baseline = "MicroPython requests: a TLS connection per request"
    results = {}
    try:
        for every in (10, 50):
            _, _, ours = tls_run(relay, ca, scratch / "tls", TLS_SAMPLES, every, "uonep")
            _, _, theirs = tls_run(relay, ca, scratch / "tls", TLS_SAMPLES, every, "requests")
            results["wire_bytes_per_sample_tls_push%d" % every] = metric(
                round(ours / TLS_SAMPLES, 2), round(theirs / TLS_SAMPLES, 2), baseline,
                "bytes/sample")
        _, _, fresh = tls_run(relay, ca, scratch / "tls", TLS_SAMPLES, 50, "fresh")
        results["wire_bytes_per_sample_tls_push50_new_connection_per_push"] = metric(
            round(fresh / TLS_SAMPLES, 2), round(theirs / TLS_SAMPLES, 2), baseline,
            "bytes/sample")
        ours, connections, _ = tls_run(relay, ca, scratch / "tls", 1000, 1000, "uonep")
        _, theirs, _ = tls_run(relay, ca, scratch / "tls", 1000, 1000, "requests")
        assert ours["connections"] == connections, (ours, connections)
        results["tls_handshakes_per_1000_points"] = metric(connections, theirs, baseline,
                                                           "handshakes")
        for bits, binary in (("64", MICROPYTHON), ("32", i686_binary())):
            if binary is None:
                print("no %s: the 32-bit heap is not measured" % I686, flush=True)
                continue
            results["heap_tls_push_%sbit_bytes" % bits] = metric(
                tls_heap(relay, ca, scratch, build, binary, "uonep"),
                tls_heap(relay, ca, scratch, build, binary, "requests"),
                "MicroPython requests, no certificate check", "bytes")
    finally:
        relay.listener.close()
        emulator.stop()
    return results


# -- flash --------------------------------------------------------------------

def with_v1(entry, v1, v1_name="uonep 0.1's journal (ring of slot files)"):
    """A metric with uonep 0.1's figure beside it, measured in the same run."""
    entry["v1"] = v1
    entry["v1_name"] = v1_name
    entry["v1_ratio"] = round(entry["value"] / v1, 4) if v1 else None
    return entry


def flash_metrics():
    measured = micropython_json(["%s/mp_flash.py" % SCRIPTS], heapsize="24m")
    cost = measured["cost"]
    naive = "rewrite a JSON file of pending entries per commit, push every 10"
    results = {}
    for name, field, unit in (("flash_bytes_programmed_per_commit", "bytes_programmed",
                               "bytes/commit"),
                              ("flash_erases_per_1000_commits", "erases_per_1000", "erases")):
        entry = with_v1(metric(cost["ours"]["10"][field], cost["json_file"]["10"][field],
                               naive, unit), cost["v1"]["10"][field])
        # The same with a push every 50, and a backlog pushed every 500
        # (packed into segments), each beside its baselines.
        entry["push_every_50"] = {"value": cost["ours"]["50"][field],
                                  "v1": cost["v1"]["50"][field],
                                  "baseline": cost["json_file"]["50"][field]}
        entry["push_every_500"] = {"value": cost["ours"]["500"][field]}
        results[name] = entry
    density = measured["density"]
    entry = metric(density["ours"]["commits_per_mb"], density["v1"]["commits_per_mb"],
                   "uonep 0.1's journal (ring of slot files)", "commits/MB")
    entry["unix_profile"] = density["ours_unix"]
    entry["filled"] = {"ours": density["ours"], "v1": density["v1"]}
    results["journal_commits_per_mb"] = entry
    for board, profile in sorted(measured["profiles"].items()):
        # What a full journal of the profile holds (capacity "auto" on the
        # board's filesystem), beside uonep 0.1's default 64 KB journal.
        entry = metric(profile["commits"], 512, "uonep 0.1's default journal (65536 bytes)",
                       "commits (the app's records)")
        entry.update(profile)
        results["journal_full_%s_commits" % board] = entry
    return results


# -- heap ---------------------------------------------------------------------

def build_mpy(scratch, root=ROOT, name="mpy"):
    """The firmware of the tree at `root` as a board runs it: core, app and
    unix glue compiled by mpy-cross into scratch/name (mirrors tools/build)."""
    build = scratch / name
    shutil.copytree(root / "firmware" / "uonep", build / "uonep")
    for source in (root / "firmware").glob("*.py"):
        if source.name not in ("main.py", "manifest.py"):
            shutil.copy(source, build / source.name)
    shutil.copytree(root / "boards" / "unix", build / "boards" / "unix")
    for source in list(build.rglob("*.py")):
        # -s: the source named as a board names it, not by a host path (the
        # name is a string in the heap); the core with -O3, no line
        # numbers: tools/build's options, of the same file on a board.
        name = source.relative_to(build).as_posix()
        on_board = Path(("lib/" + name) if name.startswith("uonep/") else source.name)
        subprocess.run([str(MPY_CROSS)] + BUILD.options(on_board) + [str(source)], check=True)
        source.unlink()
    for profile in (root / "boards").glob("*/profile.json"):
        target = build / "boards" / profile.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(profile, target / "profile.json")
    return build


def smallest_heap(args, low=8 * 1024, high=2 * 1024 * 1024, prepare=None, code=None):
    """The smallest -X heapsize (to 1 KiB) at which the script succeeds."""
    def works(size):
        if prepare:
            prepare()
        done = micropython(args, heapsize=size, code=code)
        return done.returncode == 0 and "pushed" in done.stdout
    return _smallest(works, low, high, str(args[0]))


def fresh_copy(master, probe):
    """A journal to push, as it was (a push rewrites its ack state and
    deletes the segments it acknowledged through)."""
    shutil.rmtree(probe, ignore_errors=True)
    shutil.copytree(master, probe)


def heap_metrics(emulator, scratch, build):
    results = {}
    sizes = {}
    for backlog in (100, 10000):
        master = scratch / ("heap-master-%d" % backlog)
        micropython_json(["%s/mp_commit_push.py" % SCRIPTS, "127.0.0.1", emulator.port, master,
                          backlog, 1, "nopush"], heapsize="16m")
        probe = scratch / ("heap-probe-%d" % backlog)

        def prepare(master=master, probe=probe):
            fresh_copy(master, probe)
        ours = smallest_heap(["%s/mp_push_only.py" % SCRIPTS, "127.0.0.1", emulator.port, probe],
                             prepare=prepare, code=build)
        naive_file = scratch / ("naive-%d.json" % backlog)
        naive_file.write_text(json.dumps([[1790000000 + 60 * step, 20.0 + step / 8]
                                          for step in range(backlog)]))
        naive = smallest_heap(["%s/mp_naive_push.py" % SCRIPTS, "127.0.0.1", emulator.port,
                               naive_file])
        sizes[backlog] = (ours, naive)
        results["heap_peak_push_%d_bytes" % backlog] = metric(
            ours, naive, "load a JSON backlog whole, send it in one request", "bytes")
    results["heap_growth_10000_vs_100"] = metric(
        round(sizes[10000][0] / sizes[100][0], 3), round(sizes[10000][1] / sizes[100][1], 3),
        "the same growth for the naive push", "ratio")
    return results


def app_heap_metrics(emulator, scratch, build):
    """Smallest heap for one commit + push cycle of the unix board app, with
    the firmware as .mpy (as tools/build ships it) and as .py."""
    results = {}
    for kind, code in (("mpy", build), ("py", ROOT / "firmware")):
        folder = scratch / ("app-" + kind)

        def prepare(folder=folder):
            shutil.rmtree(folder, ignore_errors=True)
        boards = (code if kind == "mpy" else ROOT) / "boards" / "unix"
        results[kind] = smallest_heap([SCRIPTS / "mp_app_cycle.py", emulator.url, folder,
                                       boards], prepare=prepare, code=code)
    return {"min_heapsize_app_mpy_bytes": metric(results["mpy"], results["py"],
                                                 "the same app loaded from .py", "bytes"),
            "min_heapsize_app_py_bytes": metric(results["py"], results["mpy"],
                                                "the same app loaded from .mpy", "bytes")}


# -- the device's heap on the 32-bit binary (ESP32 object sizes) ---------------

# The code before issue 14's reshaping (Client with journal=, rpc.py whole,
# app.py in one piece): its figures are measured in the same run, from
# `git archive` of this commit, beside today's.
BASELINE_COMMIT = "2e6aeb6"
BASELINE_NAME = "the same job on the code of %s (before the reshaping)" % BASELINE_COMMIT
# Measured on the same binary by the README of ../shared/micropython-i686
# (umqtt.simple is not on PyPI in a form pip installs: its sdist has no
# setup.py, so it cannot be a test dependency): quoted, not measured here.
UMQTT_QUOTED = 6144


def baseline_tree(scratch):
    """The BASELINE_COMMIT checkout (firmware, boards, tools), or None when
    this checkout has no such history."""
    target = scratch / "baseline"
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE_COMMIT, "firmware",
                              "boards", "tools/benchmarks"], capture_output=True)
    if archive.returncode != 0:
        return None
    target.mkdir()
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def device_modules(emulator, scratch, build):
    """The core modules (uonep.*) one app cycle leaves loaded."""
    folder = scratch / "modules"
    shutil.rmtree(folder, ignore_errors=True)
    done = run_with(MICROPYTHON, [SCRIPTS / "mp_modules.py", emulator.url, folder,
                                  build / "boards" / "unix"], "4m", build)
    if done.returncode != 0:
        raise RuntimeError("mp_modules.py failed:\n%s" % done.stderr[-3000:])
    return done.stdout.split("\n")[-2].split()


def core_files(names):
    """The file names in the core of the device modules `names` (uonep.x ->
    x.py, uonep -> __init__.py), less the unix board's simulated clock (a
    board loads uonep.clock)."""
    return [(name.split(".") + ["__init__"])[1] + ".py" for name in names
            if name != "uonep.manualclock"]


def core_device_bytes(build, names):
    return sum((build / "uonep" / source).with_suffix(".mpy").stat().st_size
               for source in core_files(names))


def core_with_lines(scratch, names):
    """core_device_bytes of the same modules built with `tools/build --lines`."""
    total = 0
    target = scratch / "with-lines.mpy"
    for source in core_files(names):
        subprocess.run([str(MPY_CROSS)] + BUILD.options(Path("lib/uonep") / source, True) +
                       ["-o", str(target), str(ROOT / "firmware" / "uonep" / source)],
                       check=True)
        total += target.stat().st_size
    return total


def app_cycle_heap(binary, emulator, scratch, build, scripts=SCRIPTS):
    folder = scratch / "app-cycle"

    def works(size):
        shutil.rmtree(folder, ignore_errors=True)
        done = run_with(binary, [scripts / "mp_app_cycle.py", emulator.url, folder,
                                 build / "boards" / "unix"], size, build)
        return done.returncode == 0 and "pushed" in done.stdout
    return _smallest(works, 8 * 1024, 1024 * 1024)


def push_heap(binary, emulator, scratch, build, backlog, scripts=SCRIPTS):
    master = scratch / ("push-master-%d" % backlog)
    if not master.exists():
        micropython_json(["%s/mp_commit_push.py" % SCRIPTS, "127.0.0.1", emulator.port, master,
                          backlog, 1, "nopush"], heapsize="16m")
    probe = scratch / ("push-probe-%d" % backlog)

    def works(size):
        fresh_copy(master, probe)
        done = run_with(binary, [scripts / "mp_push_only.py", "127.0.0.1", emulator.port, probe],
                        size, build)
        return done.returncode == 0 and "pushed %d" % backlog in done.stdout
    return _smallest(works, 8 * 1024, 1024 * 1024)


def device_heap_metrics(emulator, scratch, build):
    """Issue 14's figures on the 32-bit binary: the app cycle, the push of
    100 and of 10,000 points, and the core a sampling device loads, each
    beside the baseline commit's and the anchors."""
    binary = i686_binary()
    if binary is None:
        print("no 32-bit MicroPython next to the checkout: the _32 figures are skipped")
        return {}
    base = baseline_tree(scratch)
    old = build_mpy(scratch, base, "baseline-mpy") if base is not None else None
    old_scripts = base / "tools" / "benchmarks" if base is not None else None

    def anchor(script, args):
        def works(size):
            done = run_with(binary, [SCRIPTS / script] + args, size)
            return done.returncode == 0 and "pushed" in done.stdout
        return _smallest(works, 4 * 1024, 1024 * 1024)
    post = anchor("mp_anchor_post.py", [emulator.url])
    anchors = {"json.dumps + requests.post of 100 points (tools/benchmarks/mp_anchor_post.py)":
               post, "umqtt.simple publishing one reading (quoted from the i686 build's "
               "README, not measured: not pip-installable)": UMQTT_QUOTED}

    def entry(value, baseline):
        result = metric(value, baseline, BASELINE_NAME if baseline else
                        "json.dumps + requests.post of 100 points", "bytes")
        result["anchors"] = anchors
        return result
    results = {}
    ours = app_cycle_heap(binary, emulator, scratch, build)
    theirs = app_cycle_heap(binary, emulator, scratch, old, old_scripts) if old else post
    results["min_heapsize_app_mpy_bytes_32"] = entry(ours, theirs if old else None)
    pushes = {}
    for backlog in (100, 10000):
        ours = push_heap(binary, emulator, scratch, build, backlog)
        theirs = push_heap(binary, emulator, scratch, old, backlog, old_scripts) if old else None
        pushes[backlog] = (ours, theirs)
        results["heap_peak_push_%d_bytes_32" % backlog] = entry(ours, theirs)
    results["heap_growth_10000_vs_100_32"] = metric(
        round(pushes[10000][0] / pushes[100][0], 3),
        round(pushes[10000][1] / pushes[100][1], 3) if old else None,
        BASELINE_NAME, "ratio")
    names = device_modules(emulator, scratch, build)
    value = core_device_bytes(build, names)
    before = None
    if old is not None:
        before = core_device_bytes(old, device_modules(emulator, scratch, old))
    results["core_device_mpy_bytes"] = metric(value, before, BASELINE_NAME, "bytes")
    results["core_device_mpy_bytes"]["modules"] = names
    results["core_device_mpy_bytes"]["with_line_numbers"] = core_with_lines(scratch, names)
    return results


# -- the HTTP Data API and content downloads ----------------------------------

# Bytes per request do not change with the count; RPC through the relay is
# slow (about 20 ms a request), so few.
DATAAPI_SAMPLES = 50
CONTENT_SIZES = (4096, 1 << 20)


def dataapi_content_metrics(relay, emulator, scratch, build):
    """Wire bytes a sample through the HTTP Data API beside RPC `write` (a
    request per sample too) and a `recordbatch` push of committed samples,
    through the counting relay; the smallest heap for a 1 MB content
    download beside a 4 KB one (one chunk), core as .mpy, on both binaries."""
    results = {}
    sent = {}
    for mode, dataports in (("dataapi", 1), ("rpc", 1), ("dataapi", 5), ("rpc", 5)):
        relay.reset()
        micropython_json(["%s/mp_dataapi_wire.py" % SCRIPTS, "127.0.0.1", relay.port, mode,
                          DATAAPI_SAMPLES, dataports])
        sent[mode, dataports] = round(relay.sent / DATAAPI_SAMPLES, 2)
    relay.reset()
    report = micropython_json(["%s/mp_commit_push.py" % SCRIPTS, "127.0.0.1", relay.port,
                               scratch / "dataapi-recordbatch", SAMPLES, 1])
    assert report["sent"] == SAMPLES, report
    recordbatch = round(relay.sent / SAMPLES, 2)
    results["dataapi_wire_bytes_per_sample"] = metric(
        sent["dataapi", 1], sent["rpc", 1], "uonep RPC write, a request per sample", "bytes/sample")
    results["dataapi_wire_bytes_per_sample_5_dataports"] = metric(
        sent["dataapi", 5], sent["rpc", 5], "uonep RPC writegroup, a request per sample",
        "bytes/sample")
    results["dataapi_wire_bytes_per_sample_vs_recordbatch"] = metric(
        sent["dataapi", 1], recordbatch, "uonep recordbatch push of %d committed samples"
        % SAMPLES, "bytes/sample")
    results.update(content_heap_metrics(scratch, build))
    return results


def content_heap_metrics(scratch, build):
    import hashlib

    from uonep_host import Provision
    from uonep_host.emulator import DEFAULT_SEED, DEFAULT_VENDOR_TOKEN, Emulator
    results = {}
    with Emulator(seed=DEFAULT_SEED) as onep:
        vendor = Provision("127.0.0.1", port=onep.port, https=False, manage_by_cik=False,
                           raise_api_exceptions=True)
        vendor.serialnumber_activate("m1", "0001", "acme")
        for size in CONTENT_SIZES:
            data = bytes(index * 7 % 251 for index in range(size))
            vendor.content_create(DEFAULT_VENDOR_TOKEN, "m1", "c%d" % size,
                                  "sha256=" + hashlib.sha256(data).hexdigest())
            vendor.content_upload(DEFAULT_VENDOR_TOKEN, "m1", "c%d" % size, data,
                                  "application/octet-stream")
        target = scratch / "content-download"
        for label, binary in (("64bit", MICROPYTHON), ("32bit", i686_binary())):
            if binary is None:
                continue
            smallest = {}
            for size in CONTENT_SIZES:
                def works(heapsize, size=size):
                    for leftover in scratch.glob("content-download*"):
                        leftover.unlink()
                    done = run_with(binary, ["%s/mp_content_download.py" % SCRIPTS, onep.url,
                                             "c%d" % size, target], heapsize, build)
                    return done.stdout.strip() == "downloaded %d" % size
                smallest[size] = _smallest(works, 16 * 1024, 256 * 1024)
            results["heap_content_download_1mb_%s_bytes" % label] = metric(
                smallest[CONTENT_SIZES[1]], smallest[CONTENT_SIZES[0]],
                "the same download of a 4 KB content (one chunk)", "bytes")
    return results


def _smallest(works, low, high, what="the job"):
    """The smallest heap size (to 1 KiB) in (low, high] for which works():
    the heap high-water mark of the whole job, fragmentation included."""
    if not works(high):
        raise RuntimeError("%s fails even with %d bytes of heap" % (what, high))
    while high - low > 1024:
        middle = (low + high) // 2 // 1024 * 1024
        if works(middle):
            high = middle
        else:
            low = middle
    return high


# -- time and size ------------------------------------------------------------

class InstantServer:
    """A loopback HTTP/1.1 server that answers every POST at once with one
    "ok" call result: pushes timed against it show the device's own share
    of a push (reading the journal or the file, building the body,
    acknowledging), which a real server's answer time otherwise swamps."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes: without TCP_NODELAY the
            # client's delayed ACK holds the body of every answer after a
            # connection's first back by 40 ms (the emulator does the same).
            disable_nagle_algorithm = True

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = b'[{"id":1,"status":"ok"}]'
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *arguments):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def timing_metrics(emulator):
    # A server of its own, fresh: the points the other steps stored would
    # slow its answers, and the push times are mostly the server's answer.
    from uonep_host.emulator import Emulator
    fresh = Emulator(seed={"clients": [{"cik": CIK, "dataports": [
        {"alias": "temp", "format": "float"}]}]}).start()
    try:
        measured = micropython_json(["%s/mp_timing.py" % SCRIPTS, "127.0.0.1",
                                     int(fresh.url.rsplit(":", 1)[1])], heapsize="16m")
    finally:
        fresh.stop()
    instant = InstantServer()
    try:
        device = micropython_json(["%s/mp_timing.py" % SCRIPTS, "127.0.0.1", instant.port],
                                  heapsize="16m")
    finally:
        instant.stop()
    return {
        "commit_us_per_sample": with_v1(metric(
            round(measured["commit_us"], 1), round(measured["naive_commit_us"], 1),
            "json.dumps + append to a file, per sample", "us"),
            round(measured["v1_commit_us"], 1)),
        "push_us_per_sample": with_v1(metric(
            round(measured["push_us"], 1), round(measured["naive_push_us"], 1),
            "load a JSON pending file, json.dumps, POST, rewrite the file", "us"),
            round(measured["v1_push_us"], 1)),
        "push_us_per_sample_device": with_v1(metric(
            round(device["push_us"], 1), round(device["naive_push_us"], 1),
            "the same naive push, both against a server that answers at once", "us"),
            round(device["v1_push_us"], 1)),
    }


def size_metrics(scratch):
    modules = {}
    for source in sorted((ROOT / "firmware" / "uonep").glob("*.py")):
        target = scratch / (source.stem + ".mpy")
        subprocess.run([str(MPY_CROSS)] + BUILD.options(Path("lib/uonep") / source.name) +
                       ["-o", str(target), str(source)], check=True)
        modules[source.name] = (target.stat().st_size, source.stat().st_size)
    total = sum(size for size, _ in modules.values())
    source_total = sum(size for _, size in modules.values())
    return {"core_mpy_bytes": metric(total, source_total, "the core's .py source", "bytes")}, \
        modules


# -- report -------------------------------------------------------------------

def machine():
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, %s; CPython %s; %s" % (
        model, os.cpu_count() or 0, platform.system(), platform.python_version(),
        micropython_version())


# sys.version is the language level MicroPython implements ("3.4.0; MicroPython
# <build> on <date>"); the release is sys.implementation.version.
_VERSION = ("import sys; v = sys.implementation.version; "
            "print('MicroPython %d.%d.%d%s (unix port, %s, build %s)' % (v[0], v[1], v[2], "
            "'-' + v[3] if len(v) > 3 and v[3] else '', "
            "'64-bit' if sys.maxsize > 2 ** 32 else '32-bit', "
            "sys.version.split('MicroPython ', 1)[-1]))")


def micropython_version():
    """"MicroPython 1.29.0-preview (unix port, 64-bit, build 9458e3a23f on
    2026-07-05)": the binary the MicroPython figures come from."""
    return subprocess.run([str(MICROPYTHON), "-c", _VERSION], capture_output=True,
                          text=True).stdout.strip()


NOTES = """How to read it: wire bytes count request line, headers and body
through a counting relay; flash counters come from the simulated NOR flash
under LittleFS at the ESP32 port's settings (4096-byte blocks, cache 128),
per durable commit of one value with a push and acknowledgement every 10
(every 50, and a backlog every 500, in bench/results.json), reclaim
included, after a warm-up of the same length; commits per MB: a journal
filled until it refuses, the flash it occupies measured as the 4 KB files
that no longer fit beside it; journal_full_*: each board profile's journal
("auto") on its filesystem, in the app's own records (estimated from the
unix board's per block where so marked); heap figures are the
smallest `-X heapsize` (to 1 KiB) at which the whole job succeeds (imports,
journal open and push, with the firmware as .mpy), so the 100-point push
carries the core's code, which the naive script does not load; timings are
medians of 15 interleaved runs of 200 samples on the simulated flash,
against a fresh emulator of their own (a push's time is mostly the
server's answer, the same for all three). uonep 0.1's figures (its journal, a ring of
slot files, and its push) are measured in the same run."""


TLS_NOTES = """TLS figures: the MicroPython unix port pushes through a relay on
loopback to the emulator serving HTTPS with an RSA 2048 chain shaped like a
public server's (leaf and intermediate). All-in bytes are the TLS stream
both ways (exact) plus 40 bytes of IPv4 and TCP header per segment, the
segments both ways counted by the kernel (TCP_INFO) with a 1460-byte MSS,
handshake, ACKs and FIN included. `_tls_push10`/`_push50`: 1,000 samples,
a push every 10 or 50, the board awake between pushes (one connection, one
handshake for the run); `_new_connection_per_push`: the same when a server
closes idle connections between pushes. Heap: smallest -X heapsize for 50
commits and their push over TLS, core as .mpy; mbedTLS's own buffers are
outside it (malloc on unix, the IDF heap on an ESP32)."""


def table(results, modules):
    lines = ["ratio = uonep / baseline. Every metric is a cost (bytes, requests, erases, "
             "microseconds), so lower is better: below 1, uonep costs less than its baseline.",
             "",
             "| metric | uonep | baseline | ratio (uonep / baseline) | unit | baseline is |",
             "|---|---:|---:|---:|---|---|"]
    for name, entry in results["metrics"].items():
        lines.append("| %s | %s | %s | %s | %s | %s%s%s |" % (
            name, entry["value"], entry["baseline"], entry["ratio"], entry["unit"],
            entry["baseline_name"],
            "; %s: %s" % (entry["v1_name"], entry["v1"]) if "v1" in entry else "",
            "".join("; %s: %s" % item for item in sorted(entry.get("anchors", {}).items())) +
            ("; built with --lines: %s" % entry["with_line_numbers"]
             if "with_line_numbers" in entry else "")))
    lines.append("")
    lines.append(NOTES)
    lines.append("")
    lines.append(TLS_NOTES)
    lines.append("")
    lines.append("Core modules as .mpy: " + ", ".join(
        "%s %d B" % (name, size) for name, (size, _) in modules.items()))
    return "\n".join(lines)


def update_readme(text):
    content = README.read_text()
    start, end = "<!-- BENCH:START -->", "<!-- BENCH:END -->"
    if start not in content:
        return
    before, rest = content.split(start, 1)
    after = rest.split(end, 1)[1]
    README.write_text(before + start + "\n" + text + "\n" + end + after)


def report(results, modules, update):
    """Print the table; write the results to the untracked LOCAL_RESULTS,
    or with update to the tracked RESULTS and the README's table."""
    text = "Measured %s on %s.\n\n%s" % (results["date"], results["machine"],
                                          table(results, modules))
    print(text)
    target = RESULTS if update else LOCAL_RESULTS
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2) + "\n")
    if update:
        update_readme(text)
    print("wrote %s%s" % (target, " and the README's table" if update else
                          " (`make bench-update` writes bench/results.json and the README)"))


def main(argv):
    update = "--update" in argv
    # --only TEXT: just the steps whose label holds TEXT ("device heap").
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    from uonep_host.emulator import Emulator
    scratch = Path(tempfile.mkdtemp(prefix="uonep-bench-"))
    emulator = Emulator(seed={"clients": [{"cik": CIK, "dataports": [
        {"alias": "temp", "format": "float"}, {"alias": "count", "format": "integer"},
        {"alias": "status", "format": "string"}, {"alias": "hum", "format": "float"},
        {"alias": "volt", "format": "float"}]}]}).start()
    emulator.port = int(emulator.url.rsplit(":", 1)[1])
    relay = CountingRelay(emulator.port)
    metrics = {}
    try:
        build = build_mpy(scratch)
        steps = (("wire", lambda: wire_metrics(relay, emulator, scratch)),
                 ("TLS wire and heap", lambda: tls_metrics(scratch, build)),
                 ("flash", flash_metrics),
                 ("heap", lambda: heap_metrics(emulator, scratch, build)),
                 ("app heap", lambda: app_heap_metrics(emulator, scratch, build)),
                 ("device heap (32-bit)", lambda: device_heap_metrics(emulator, scratch, build)),
                 ("timing", lambda: timing_metrics(emulator)),
                 ("Data API wire and content heap",
                  lambda: dataapi_content_metrics(relay, emulator, scratch, build)))
        for label, step in steps:
            if only is not None and only not in label:
                continue
            print("measuring %s ..." % label, flush=True)
            metrics.update(step())
        sizes, modules = size_metrics(scratch)
        metrics.update(sizes)
    finally:
        relay.close()
        emulator.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    results = {"machine": machine(), "date": datetime.datetime.now(datetime.timezone.utc)
               .strftime("%Y-%m-%d %H:%M UTC"), "metrics": metrics}
    report(results, modules, update)


if __name__ == "__main__":
    main(sys.argv[1:])
