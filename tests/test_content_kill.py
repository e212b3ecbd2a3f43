"""A content download killed mid-way (SIGKILL of the MicroPython process,
as a reset does to a board) resumes from the bytes on disk when the
process runs again, and ends with the content at its path byte for byte:
killed twice, then left to finish, with a 128 KB heap and the core as .mpy."""
import hashlib
import os
import signal
import subprocess

from hostile import compile_core
from mpharness import MICROPYTHON, ROOT, micropython_path
from test_content_dataapi import blob_of
from uonep_host import Provision
from uonep_host.emulator import DEFAULT_SEED, DEFAULT_VENDOR_TOKEN, Emulator

SCRIPT = ROOT / "tests" / "mp" / "content_download.py"
SIZE = 1 << 20
CHUNK = 4096


def start(url, target, mpy):
    environment = dict(os.environ, MICROPYPATH=micropython_path() + ":.frozen", UONEP_MPY=mpy)
    return subprocess.Popen([str(MICROPYTHON), "-X", "heapsize=128k", str(SCRIPT), url, "fw",
                             str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=environment, cwd=str(ROOT))


def run_until(process, chunks):
    """The first byte of each Range answer the process reported; SIGKILL
    after `chunks` of them (None: let it finish)."""
    firsts = []
    for line in process.stdout:
        if line.startswith("range "):
            firsts.append(int(line.split()[1]))
            if chunks is not None and len(firsts) == chunks:
                process.send_signal(signal.SIGKILL)
                break
        elif line.startswith("done "):
            assert int(line.split()[1]) == SIZE
    process.wait(timeout=60)
    return firsts


def test_a_download_killed_twice_resumes_and_completes(tmp_path):
    data = blob_of(SIZE, seed=9)
    mpy = compile_core(tmp_path / "mpy")
    target = tmp_path / "fw.bin"
    with Emulator(seed=DEFAULT_SEED) as onep:
        vendor = Provision("127.0.0.1", port=onep.port, https=False, manage_by_cik=False,
                           raise_api_exceptions=True)
        vendor.serialnumber_activate("m1", "0001", "acme")
        vendor.content_create(DEFAULT_VENDOR_TOKEN, "m1", "fw",
                              "version=2 sha256=" + hashlib.sha256(data).hexdigest())
        vendor.content_upload(DEFAULT_VENDOR_TOKEN, "m1", "fw", data, "application/octet-stream")
        on_disk = 0
        for kill_after in (20, 60, None):
            process = start(onep.url, target, mpy)
            firsts = run_until(process, kill_after)
            # Each run goes on from the bytes the last one left on disk.
            assert firsts[0] == on_disk, (firsts[:3], on_disk)
            assert firsts == list(range(on_disk, on_disk + CHUNK * len(firsts), CHUNK))
            if kill_after is None:
                assert process.returncode == 0, process.stderr.read()
                break
            assert process.returncode == -signal.SIGKILL
            assert not target.exists()
            on_disk = os.path.getsize(str(target) + ".part")
            assert on_disk % CHUNK == 0 and on_disk >= firsts[-1], on_disk
            assert data.startswith((target.parent / "fw.bin.part").read_bytes())
    assert target.read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == ["fw.bin", "mpy"]
