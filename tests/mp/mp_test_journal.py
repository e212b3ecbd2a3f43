# The commit journal on LittleFS over a simulated NOR flash, inside MicroPython.
import gc
import os
import struct
import binascii

from flashsim import FlashSim, file_names, xorshift
from uonep.errors import JournalError, JournalFullError
from uonep.journal import CHUNK, DATA, Journal

HEAPSIZE = "6m"     # the simulated flash lives in the heap too

_mounts = [0]


def _mount(blocks=64, data=None):
    device = FlashSim(blocks, data=data)
    if data is None:
        os.VfsLfs2.mkfs(device)
    _mounts[0] += 1
    point = "/journal_test%d" % _mounts[0]
    os.mount(os.VfsLfs2(device), point)
    return device, point


def _payload(n, size=40):
    text = b"commit %d;" % n
    return text + b"p" * max(0, size - len(text))


def _pending(journal):
    return [payload for _, payload in journal.pending()]


def _damage(path, offset=None, data=None):
    """Rewrite a file with one byte flipped (or with data)."""
    if data is None:
        with open(path, "rb") as f:
            data = bytearray(f.read())
        where = len(data) // 2 if offset is None else offset
        data[where] ^= 0x5A
    with open(path, "wb") as f:
        f.write(data)


def test_round_trip():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=8192)
        payloads = [_payload(n, 20 + 23 * n) for n in range(12)]   # up to 3 chunks
        for payload in payloads:
            journal.commit(payload)
        seen = list(journal.pending())
        assert [p for _, p in seen] == payloads
        positions = [position for position, _ in seen]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        stats = journal.stats()
        assert stats["pending"] == 12 and stats["committed"] == 12
        assert stats["pending_bytes"] == sum(len(p) for p in payloads)
        journal.ack(positions[4])
        assert _pending(journal) == payloads[5:]
        assert journal.stats()["pending"] == 7
        assert journal.stats()["pending_bytes"] == sum(len(p) for p in payloads[5:])
        journal.ack(positions[2])        # already acknowledged: nothing happens
        assert _pending(journal) == payloads[5:]
        journal.ack(positions[-1])
        assert _pending(journal) == [] and journal.stats()["pending"] == 0
        journal.commit(b"")               # an empty commit is a commit too
        assert _pending(journal) == [b""]
        try:
            journal.ack(10 ** 6)
        except JournalError:
            pass
        else:
            raise AssertionError("ack past the head accepted")
        journal.close()
        try:
            journal.commit(b"x")
        except JournalError:
            pass
        else:
            raise AssertionError("commit on a closed journal accepted")
    finally:
        os.umount(root)


def test_reopen_keeps_pending_and_counters():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=1024)      # 8 slots
        for n in range(10):                                       # 2 dropped
            journal.commit(_payload(n))
        journal.dead_letter(b"refused", "invalid")
        positions = [position for position, _ in journal.pending()]
        journal.ack(positions[2])
        journal.close()
        again = Journal(root + "/j", capacity_bytes=1024)
        assert _pending(again) == [_payload(n) for n in range(5, 10)]
        stats = again.stats()
        assert stats["dropped"] == 2 and stats["dead_lettered"] == 1, stats
        assert stats["pending"] == 5 and stats["committed"] == 0
        assert stats["pending_bytes"] == 5 * 40
        # The stored capacity wins over a different argument at reopen.
        again.close()
        third = Journal(root + "/j", capacity_bytes=65536)
        for n in range(10, 14):
            third.commit(_payload(n))
        assert third.stats()["dropped"] == 3
        assert _pending(third) == [_payload(n) for n in range(6, 14)]
        third.close()
    finally:
        os.umount(root)


def test_drop_oldest_when_full():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=1024, policy="drop_oldest")
        for n in range(8):
            journal.commit(_payload(n))
        journal.commit(_payload(8, 200))      # two chunks: drops two commits
        assert journal.stats()["dropped"] == 2
        assert _pending(journal) == [_payload(n) for n in range(2, 8)] + [_payload(8, 200)]
        journal.commit(_payload(9, 3 * DATA))  # three chunks: drops three
        assert journal.stats()["dropped"] == 5
        assert _pending(journal)[-1] == _payload(9, 3 * DATA)
        try:
            journal.commit(b"x" * (9 * DATA))   # more than the whole journal
        except JournalError:
            pass
        else:
            raise AssertionError("oversized payload accepted")
        journal.close()
        assert Journal(root + "/j", capacity_bytes=1024).stats()["dropped"] == 5
    finally:
        os.umount(root)


def test_refuse_when_full():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=1024, policy="refuse")
        for n in range(8):
            journal.commit(_payload(n))
        before = device.bytes_programmed
        try:
            journal.commit(_payload(99))
        except JournalFullError:
            pass
        else:
            raise AssertionError("full journal accepted a commit")
        assert device.bytes_programmed == before      # nothing stored
        assert _pending(journal) == [_payload(n) for n in range(8)]
        assert journal.stats()["dropped"] == 0 and journal.stats()["committed"] == 8
        positions = [position for position, _ in journal.pending()]
        journal.ack(positions[0])
        journal.commit(_payload(99))                   # room again
        assert _pending(journal)[-1] == _payload(99)
        journal.close()
    finally:
        os.umount(root)


def test_dead_letter_round_trip():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=1024)
        letters = [(_payload(n, 10 + 90 * n), "reason %d \u00e9" % n) for n in range(5)]
        for payload, reason in letters:
            journal.dead_letter(payload, reason)
        assert list(journal.dead_letters()) == letters
        # Dead-lettering while reading pending (what push does) is fine.
        journal.commit(b"a")
        journal.commit(b"b")
        for position, payload in journal.pending():
            journal.dead_letter(payload, "unreadable commit")
            journal.ack(position)
        journal.close()
        again = Journal(root + "/j", capacity_bytes=1024)
        assert again.stats()["dead_lettered"] == 7
        assert list(again.dead_letters())[5:] == [(b"a", "unreadable commit"),
                                                 (b"b", "unreadable commit")]
        assert _pending(again) == []
        # Damage in the store costs only the damaged letter.
        again.close()
        _damage(root + "/j/D", 14)           # inside the first letter's payload
        third = Journal(root + "/j", capacity_bytes=1024)
        assert list(third.dead_letters()) == letters[1:] + [(b"a", "unreadable commit"),
                                                            (b"b", "unreadable commit")]
        third.close()
    finally:
        os.umount(root)


def test_corrupt_record_in_middle_skipped():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=4096)
        payloads = [_payload(n, 30 + 40 * (n % 4)) for n in range(10)]
        positions = []
        for payload in payloads:
            journal.commit(payload)
        positions = [position for position, _ in journal.pending()]
        journal.close()
        _damage(journal._slot_path(positions[3]))       # a one-chunk commit
        _damage(journal._slot_path(positions[6]))       # last chunk of a two-chunk one
        again = Journal(root + "/j", capacity_bytes=4096)
        expected = [p for n, p in enumerate(payloads) if n not in (3, 6)]
        assert _pending(again) == expected
        assert again.stats()["corrupt"] == 2, again.stats()
        assert again.stats()["pending"] == 8
        again.close()
        # Counted once, not again at every open.
        third = Journal(root + "/j", capacity_bytes=4096)
        assert third.stats()["corrupt"] == 2
        assert _pending(third) == expected
        third.ack(positions[-1])
        third.commit(b"after")
        assert _pending(third) == [b"after"]
        third.close()
    finally:
        os.umount(root)


def test_torn_tail_skipped():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=4096)
        for n in range(4):
            journal.commit(_payload(n))
        journal.commit(_payload(4, 3 * DATA))          # chunks 4, 5, 6
        journal.close()
        os.remove(journal._slot_path(6))              # its last chunk never made it
        again = Journal(root + "/j", capacity_bytes=4096)
        assert _pending(again) == [_payload(n) for n in range(4)]
        assert again.stats()["corrupt"] == 1 and again.stats()["pending"] == 4
        again.commit(b"next")
        assert _pending(again) == [_payload(n) for n in range(4)] + [b"next"]
        again.close()
        # A damaged (truncated) last chunk is a torn tail too.
        with open(journal._slot_path(6), "wb") as f:
            f.write(b"\x01\x02\x03")
        third = Journal(root + "/j", capacity_bytes=4096)
        assert _pending(third) == [_payload(n) for n in range(4)]
        assert third.stats()["corrupt"] == 2
        third.commit(b"later")
        assert _pending(third)[-1] == b"later"
        third.close()
    finally:
        os.umount(root)


def _header(version, slots):
    data = bytearray(12)
    struct.pack_into("<3sBI", data, 0, b"uoJ", version, slots)
    struct.pack_into("<I", data, 8, binascii.crc32(data[0:8]) & 0xFFFFFFFF)
    return data


def test_unknown_version_refused():
    device, root = _mount()
    try:
        os.mkdir(root + "/future")
        with open(root + "/future/J", "wb") as f:
            f.write(_header(2, 64))
        try:
            Journal(root + "/future")
        except JournalError as error:
            assert "version 2" in str(error) and "version 1" in str(error), str(error)
        else:
            raise AssertionError("a version 2 journal was opened")
        # A version 1 journal whose header is merely damaged is recovered.
        journal = Journal(root + "/j", capacity_bytes=1024)
        journal.commit(b"kept")
        journal.close()
        _damage(root + "/j/J", 3)
        again = Journal(root + "/j", capacity_bytes=1024)
        assert _pending(again) == [b"kept"]
        again.close()
    finally:
        os.umount(root)


def test_lost_header_and_state_capacity_from_slots():
    # Regression (corruption campaign): with the header and both ack state
    # files damaged, the journal took the caller's capacity for K; when
    # that had changed since, it read the slots as another ring and lost
    # every pending commit without a word. The slot files tell K.
    device, root = _mount()
    try:
        for made, reopened, count in ((2048, 4096, 30), (2048, 1024, 30), (4096, 1024, 12)):
            path = "%s/j%d_%d" % (root, made, reopened)
            journal = Journal(path, capacity_bytes=made)
            payloads = [_payload(n, 20 + (n * 53) % 250) for n in range(count)]
            for payload in payloads:
                journal.commit(payload)
            positions = [position for position, _ in journal.pending()]
            journal.ack(positions[1])
            expected = _pending(journal)
            journal.close()
            for name in ("J", "A", "B"):
                _damage(path + "/" + name, data=bytes(12))
            again = Journal(path, capacity_bytes=reopened)
            seen = _pending(again)
            # The ack point is gone too: acknowledged commits still in their
            # slots come again (duplicates, never losses), then the rest.
            assert seen[len(seen) - len(expected):] == expected, (made, reopened)
            assert all(payload in payloads for payload in seen)
            again.ack([position for position, _ in again.pending()][-1])
            again.commit(b"after")
            again.close()
            third = Journal(path, capacity_bytes=reopened)
            assert _pending(third) == [b"after"], (made, reopened)
            third.close()
    finally:
        os.umount(root)


def _live_high_water(journal):
    gc.collect()
    base = gc.mem_alloc()
    high = 0
    count = 0
    for position, payload in journal.pending():
        count += 1
        if count % 20 == 0:
            gc.collect()
            high = max(high, gc.mem_alloc() - base)
    gc.collect()
    high = max(high, gc.mem_alloc() - base)
    return count, high


def test_pending_streams():
    device, root = _mount(512)
    try:
        small = Journal(root + "/small", capacity_bytes=8192)
        for n in range(20):
            small.commit(_payload(n, 20))
        big = Journal(root + "/big", capacity_bytes=2048 * CHUNK)
        for n in range(2000):
            big.commit(_payload(n, 20))
        count_small, high_small = _live_high_water(small)
        count_big, high_big = _live_high_water(big)
        print("pending() live heap: %d commits %d bytes, %d commits %d bytes" % (
            count_small, high_small, count_big, high_big))
        assert count_small == 20 and count_big == 2000
        assert high_big < 2 * high_small + 1024, (high_small, high_big)
        small.close()
        big.close()
    finally:
        os.umount(root)


def test_random_corruption_never_crashes():
    device, root = _mount(64)
    payloads = {}
    try:
        journal = Journal(root + "/j", capacity_bytes=2048)
        for n in range(24):
            payload = _payload(n, 15 + (n * 37) % 260)
            payloads[payload] = n
            journal.commit(payload)
            if n == 9:
                journal.ack([p for p, _ in journal.pending()][4])
        journal.dead_letter(b"letter", "why")
        journal.close()
    finally:
        os.umount(root)
    image = device.snapshot()
    names = None
    state = 12345
    opened = refused = 0
    for round_number in range(150):
        device, root = _mount(64, image)
        try:
            if names is None:
                names = file_names(root + "/j")
            for _ in range(1 + round_number % 3):
                state = xorshift(state)
                name = names[state % len(names)]
                path = root + "/j/" + name
                with open(path, "rb") as f:
                    data = bytearray(f.read())
                if not data:
                    continue
                state = xorshift(state)
                where = state % len(data)
                state = xorshift(state)
                if state & 1:
                    data[where] ^= 1 << (state >> 1) % 8      # a bit
                else:
                    data[where] = (state >> 8) & 0xFF          # a byte
                    if state & 2:
                        data = data[:where]                    # or a cut
                _damage(path, data=data)
            try:
                journal = Journal(root + "/j", capacity_bytes=2048)
            except JournalError:
                refused += 1
                continue
            opened += 1
            last = None
            for position, payload in journal.pending():
                assert payload in payloads, "corrupt payload delivered"
                last = position
            list(journal.dead_letters())
            if last is not None:
                journal.ack(last)
            journal.commit(b"fresh")
            assert _pending(journal) == [b"fresh"]
            journal.stats()
            journal.close()
        finally:
            os.umount(root)
    assert opened >= 120, (opened, refused)
