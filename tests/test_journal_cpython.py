"""The commit journal under CPython, on an ordinary directory."""
import binascii
import os
import struct

import pytest

from uonep.errors import JournalError, JournalFullError, ValidationError
from uonep.journal import DATA, Journal


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
    path = str(tmp_path / "journal")
    journal = Journal(path, capacity_bytes=8192)
    payloads = [_payload(n, 10 + 37 * n) for n in range(10)]
    for payload in payloads:
        journal.commit(payload)
    seen = list(journal.pending())
    assert [payload for _, payload in seen] == payloads
    journal.ack(seen[3][0])
    journal.dead_letter(b"refused", "invalid value")
    journal.close()

    again = Journal(path, capacity_bytes=8192)
    assert _pending(again) == payloads[4:]
    stats = again.stats()
    assert stats["pending"] == 6 and stats["dead_lettered"] == 1 and stats["committed"] == 0
    assert stats["pending_bytes"] == sum(len(p) for p in payloads[4:])
    assert list(again.dead_letters()) == [(b"refused", "invalid value")]
    again.close()


def test_full_policies(tmp_path):
    refuse = Journal(str(tmp_path / "refuse"), capacity_bytes=1024, policy="refuse")
    for n in range(8):
        refuse.commit(_payload(n))
    with pytest.raises(JournalFullError):
        refuse.commit(b"one more")
    assert _pending(refuse) == [_payload(n) for n in range(8)]

    drop = Journal(str(tmp_path / "drop"), capacity_bytes=1024)
    for n in range(8):
        drop.commit(_payload(n))
    drop.commit(_payload(8, 2 * DATA))
    assert drop.stats()["dropped"] == 2
    assert _pending(drop)[0] == _payload(2)
    drop.close()
    assert Journal(str(tmp_path / "drop"), capacity_bytes=1024).stats()["dropped"] == 2


def test_damage_is_skipped_and_counted(tmp_path):
    path = str(tmp_path / "journal")
    journal = Journal(path, capacity_bytes=4096)
    for n in range(6):
        journal.commit(_payload(n, 150))          # two chunks each
    positions = [position for position, _ in journal.pending()]
    journal.close()
    # A torn write on CPython: a slot file cut short.
    slot = journal._slot_path(positions[2])
    with open(slot, "r+b") as f:
        f.truncate(7)
    again = Journal(path, capacity_bytes=4096)
    assert _pending(again) == [_payload(n, 150) for n in (0, 1, 3, 4, 5)]
    assert again.stats()["corrupt"] == 1
    again.close()


def test_unknown_version_and_bad_input(tmp_path):
    folder = tmp_path / "future"
    folder.mkdir()
    header = bytearray(struct.pack("<3sBI", b"uoJ", 7, 64))
    header += struct.pack("<I", binascii.crc32(header) & 0xFFFFFFFF)
    (folder / "J").write_bytes(bytes(header))
    with pytest.raises(JournalError, match="version 7"):
        Journal(str(folder))
    with pytest.raises(ValidationError):
        Journal(str(tmp_path / "x"), policy="keep_all")
    journal = Journal(str(tmp_path / "y"), capacity_bytes=1024)
    with pytest.raises(ValidationError):
        journal.commit("text, not bytes")
    with pytest.raises(JournalError):
        journal.commit(b"x" * (9 * DATA))


def test_files_stay_small(tmp_path):
    # Every file but the dead-letter store fits LittleFS's inline limit.
    path = tmp_path / "journal"
    journal = Journal(str(path), capacity_bytes=8192)
    for n in range(100):
        journal.commit(_payload(n, n * 3))
        if n % 10 == 9:
            journal.ack(list(journal.pending())[-1][0])
    journal.close()
    for folder, _, names in os.walk(str(path)):
        for name in names:
            if name != "D":
                assert os.path.getsize(os.path.join(folder, name)) <= 128
