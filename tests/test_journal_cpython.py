"""The commit journal under CPython, on an ordinary directory."""
import binascii
import os
import struct
import sys
from pathlib import Path

import pytest

from uonep import forward
from uonep.errors import JournalError, JournalFullError, ValidationError
from uonep.journal import BLOCK, DATA, Journal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools" / "benchmarks"))
import journal_v1  # noqa: E402


def _payload(n, size=40):
    text = b"commit %d;" % n
    return text + b"p" * max(0, size - len(text))


def _pending(journal):
    return [payload for _, payload in journal.pending()]


def test_crc32_matches_micropython_values():
    # The same numbers MicroPython's binascii.crc32 gives (checked there):
    # the on-flash format is shared by both runtimes.
    assert binascii.crc32(b"hello") == 907060870
    assert binascii.crc32(b"lo", binascii.crc32(b"hel")) == 907060870


def test_round_trip_and_reopen(tmp_path):
    path = str(tmp_path / "data" / "journal")        # parents are made
    journal = Journal(path, capacity_bytes=1 << 20)
    payloads = [_payload(n, 10 + 37 * n % 700) for n in range(200)]
    for payload in payloads:
        journal.commit(payload)
    assert journal.stats()["segments"] > 0
    seen = list(journal.pending())
    assert [payload for _, payload in seen] == payloads
    journal.ack(seen[3][0])
    journal.dead_letter(b"refused", "invalid value")
    journal.close()

    again = Journal(path, capacity_bytes=1 << 20)
    assert _pending(again) == payloads[4:]
    stats = again.stats()
    assert stats["pending"] == 196 and stats["dead_lettered"] == 1 and stats["committed"] == 0
    assert stats["pending_bytes"] == sum(len(p) for p in payloads[4:])
    assert list(again.dead_letters()) == [(b"refused", "invalid value")]
    again.close()


def test_full_policies(tmp_path):
    refuse = Journal(str(tmp_path / "refuse"), capacity_bytes=1024, policy="refuse")
    committed = 0
    with pytest.raises(JournalFullError):
        while True:
            refuse.commit(_payload(committed))
            committed += 1
    assert _pending(refuse) == [_payload(n) for n in range(committed)]

    drop = Journal(str(tmp_path / "drop"), capacity_bytes=1024)
    for n in range(committed):
        drop.commit(_payload(n))
    drop.commit(_payload(committed, 2 * DATA))
    dropped = drop.stats()["dropped"]
    assert dropped >= 2
    assert _pending(drop)[0] == _payload(dropped)
    drop.close()
    assert Journal(str(tmp_path / "drop"), capacity_bytes=1024).stats()["dropped"] == dropped


def test_damage_is_skipped_and_counted(tmp_path):
    path = tmp_path / "journal"
    journal = Journal(str(path), capacity_bytes=65536)
    for n in range(6):
        journal.commit(_payload(n, 150))          # two frames each
    journal.close()
    # A torn write on CPython: a ring file cut short.
    slot = path / "r0" / "4"                      # commit 2's first frame
    with open(slot, "r+b") as f:
        f.truncate(7)
    again = Journal(str(path), capacity_bytes=65536)
    assert _pending(again) == [_payload(n, 150) for n in (0, 1, 3, 4, 5)]
    assert again.stats()["corrupt"] == 1
    again.close()


def test_unknown_version_and_bad_input(tmp_path):
    journal = Journal(str(tmp_path / "future"), capacity_bytes=8192)
    journal.close()
    state = bytearray(27)
    struct.pack_into("<BHIIIII", state, 4, 7, 9, 0, 0, 0, 0, 0)
    struct.pack_into("<I", state, 0, binascii.crc32(state[4:]) & 0xFFFFFFFF)
    (tmp_path / "future" / "s" / "b").write_bytes(bytes(state))
    with pytest.raises(JournalError, match="version 7"):
        Journal(str(tmp_path / "future"))
    with pytest.raises(ValidationError):
        Journal(str(tmp_path / "x"), policy="keep_all")
    with pytest.raises(ValidationError):
        Journal(str(tmp_path / "x"), capacity_bytes="big")
    journal = Journal(str(tmp_path / "y"), capacity_bytes=8192)
    with pytest.raises(ValidationError):
        journal.commit("text, not bytes")
    with pytest.raises(JournalError):
        journal.commit(b"x" * BLOCK)


def test_ring_files_stay_inline(tmp_path):
    # Every ring and state file fits LittleFS's inline limit (128 bytes);
    # segments hold at most a block.
    path = tmp_path / "journal"
    journal = Journal(str(path), capacity_bytes=65536)
    for n in range(400):
        journal.commit(_payload(n, n * 3 % 300))
        if n % 10 == 9 and n < 200:
            journal.ack(list(journal.pending())[-1][0])
    journal.close()
    for folder, _, names in os.walk(str(path)):
        for name in names:
            size = os.path.getsize(os.path.join(folder, name))
            if folder.endswith("/s") and name.isdigit():
                assert size <= BLOCK
            elif name != "d":
                assert size <= 128, (folder, name, size)


def test_capacity_auto_and_too_big(tmp_path):
    journal = Journal(str(tmp_path / "auto"))
    assert journal.stats()["capacity"] >= BLOCK and journal.capacity % BLOCK == 0
    journal.close()
    fs = os.statvfs(str(tmp_path))
    free = fs.f_bavail * fs.f_frsize
    with pytest.raises(JournalError, match="does not fit"):
        Journal(str(tmp_path / "big"), capacity_bytes=2 * free + (1 << 30))


def test_version_1_journal_carried_over(tmp_path):
    from uonep import rpc
    path = str(tmp_path / "journal")
    old = journal_v1.Journal(path, capacity_bytes=8192)
    for n in range(40):
        old.commit(rpc.dumps([1790000000 + n, 3, n, [["temp", n / 2]]]).encode())
    old.ack([position for position, _ in old.pending()][9])
    old.close()
    journal = Journal(path)
    records = [forward.decode_commit(p) for p in _pending(journal)]
    assert [(r[0], r[3]) for r in records] == [(1790000000 + n, [["temp", n / 2]])
                                               for n in range(10, 40)]
    assert not os.path.exists(path + ".v1") and not os.path.exists(path + ".v2")
    journal.close()
