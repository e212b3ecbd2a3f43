# The commit journal on LittleFS over a simulated NOR flash, inside MicroPython.
import gc
import os
import struct
import sys

from flashsim import FlashSim, file_names, xorshift
from uonep import forward
from uonep.errors import JournalError, JournalFullError, ValidationError
from uonep.journal import BLOCK, DATA, OVERHEAD, RING, Journal
from uonep.journal_open import frames as _frames

sys.path.append(sys.path[0].rsplit("/", 2)[0] + "/tools/benchmarks")
import journal_v1  # noqa: E402  (uonep 0.1's journal, to make version 1 journals)

HEAPSIZE = "8m"     # the simulated flash lives in the heap too

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


def _record(n):
    """The app's record of one value, one sample a minute."""
    return forward.encode_commit(1790000000 + 60 * n, 7, n * 60000, [["temp", 20.0 + n % 80 / 8]])


def _pending(journal):
    return [payload for _, payload in journal.pending()]


def _ack_all(journal):
    last = None
    for position, _ in journal.pending():
        last = position
    if last is not None:
        journal.ack(last)


def _damage(path, offset=None, data=None):
    """Rewrite a file with one byte flipped (or with data)."""
    if data is None:
        with open(path, "rb") as f:
            data = bytearray(f.read())
        where = len(data) // 2 if offset is None else offset
        data[where] ^= 0x5A
    with open(path, "wb") as f:
        f.write(data)


def _fill(root):
    """Fill the filesystem with 4 KB files until it is full; their names."""
    names = []
    try:
        while True:
            name = "%s/fill%d" % (root, len(names))
            with open(name, "wb") as f:
                f.write(b"f" * 4096)
            names.append(name)
    except OSError as error:
        assert error.args[0] == 28, error
    try:
        os.remove(name)        # the one cut short, if it exists
    except OSError:
        pass
    return names


def test_round_trip():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=8192)
        payloads = [_payload(n, 20 + 97 * n) for n in range(12)]   # up to 10 frames
        for payload in payloads:
            journal.commit(payload)
        seen = list(journal.pending())
        assert [p for _, p in seen] == payloads
        positions = [position for position, _ in seen]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        stats = journal.stats()
        assert stats["pending"] == 12 and stats["committed"] == 12
        assert stats["pending_bytes"] == sum(len(p) for p in payloads)
        assert stats["segments"] >= 1           # a block's worth was packed
        journal.ack(positions[4])
        assert _pending(journal) == payloads[5:]
        assert journal.stats()["pending"] == 7
        assert journal.stats()["pending_bytes"] == sum(len(p) for p in payloads[5:])
        journal.ack(positions[2])        # already acknowledged: nothing happens
        assert _pending(journal) == payloads[5:]
        journal.ack(positions[-1])
        assert _pending(journal) == [] and journal.stats()["pending"] == 0
        assert journal.stats()["segments"] == 0    # acknowledged through: deleted
        journal.commit(b"")               # an empty commit is a commit too
        assert _pending(journal) == [b""]
        try:
            journal.ack(10 ** 6)
        except JournalError:
            pass
        else:
            raise AssertionError("ack past the head accepted")
        for bad in ("text", None, 5):
            try:
                journal.commit(bad)
            except ValidationError:
                pass
            else:
                raise AssertionError("a payload of %r accepted" % (bad,))
        journal.close()
        try:
            journal.commit(b"x")
        except JournalError:
            pass
        else:
            raise AssertionError("commit on a closed journal accepted")
    finally:
        os.umount(root)


def test_bad_arguments_refused():
    device, root = _mount()
    try:
        for options in ({"policy": "keep_all"}, {"capacity_bytes": 100},
                        {"capacity_bytes": "lots"}, {"capacity_bytes": 1.5e6},
                        {"capacity_bytes": True}, {"dead_bytes": 10}):
            try:
                Journal(root + "/j", **options)
            except ValidationError:
                pass
            else:
                raise AssertionError("accepted %r" % (options,))
        journal = Journal(root + "/j", capacity_bytes=8192)
        try:
            journal.commit(b"x" * (BLOCK - 300))      # more than a segment holds
        except JournalError as error:
            assert "too large" in str(error)
        else:
            raise AssertionError("an oversized payload was accepted")
        journal.close()
    finally:
        os.umount(root)


def test_parents_are_created():
    device, root = _mount()
    try:
        journal = Journal(root + "/data/deep/journal")
        journal.commit(b"kept")
        journal.close()
        assert _pending(Journal(root + "/data/deep/journal")) == [b"kept"]
    finally:
        os.umount(root)


def test_reopen_keeps_pending_and_counters():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=1024)      # the ring only
        for n in range(30):                                       # some dropped
            journal.commit(_payload(n))
        dropped = journal.stats()["dropped"]
        assert dropped > 0
        journal.dead_letter(b"refused", "invalid")
        positions = [position for position, _ in journal.pending()]
        journal.ack(positions[2])
        expected = _pending(journal)
        journal.close()
        again = Journal(root + "/j", capacity_bytes=1024)
        assert _pending(again) == expected == [_payload(n) for n in range(dropped + 3, 30)]
        stats = again.stats()
        assert stats["dropped"] == dropped and stats["dead_lettered"] == 1, stats
        assert stats["pending"] == len(expected) and stats["committed"] == 0
        assert stats["pending_bytes"] == 40 * len(expected)
        assert stats["capacity"] == 1024
        again.close()
        # A bigger capacity at reopen: nothing is lost, more is kept.
        third = Journal(root + "/j", capacity_bytes=65536)
        for n in range(30, 60):
            third.commit(_payload(n))
        assert third.stats()["dropped"] == dropped
        assert _pending(third) == expected + [_payload(n) for n in range(30, 60)]
        third.close()
    finally:
        os.umount(root)


def test_drop_oldest_when_full():
    device, root = _mount(128)   # two journals: 40 blocks of folders
    try:
        # The ring alone (capacity below two blocks): commits dropped one by one.
        journal = Journal(root + "/ring", capacity_bytes=1024, policy="drop_oldest")
        for n in range(20):
            journal.commit(_payload(n))
        kept = _pending(journal)
        assert journal.stats()["dropped"] + len(kept) == 20
        assert kept == [_payload(n) for n in range(20 - len(kept), 20)]
        journal.commit(_payload(20, 3 * DATA))      # three frames: drops more
        assert _pending(journal)[-1] == _payload(20, 3 * DATA)
        assert journal.stats()["dropped"] + journal.stats()["pending"] == 21
        journal.close()
        # Segments: when the capacity is reached, the oldest segment goes.
        journal = Journal(root + "/segments", capacity_bytes=3 * BLOCK, policy="drop_oldest")
        for n in range(1500):
            journal.commit(_record(n))
        stats = journal.stats()
        assert stats["segments"] <= 2 and stats["dropped"] > 0
        assert stats["dropped"] + stats["pending"] == 1500, stats
        times = [forward.decode_commit(p)[0] for p in _pending(journal)]
        assert times == [1790000000 + 60 * n for n in range(stats["dropped"], 1500)]
        journal.close()
        assert Journal(root + "/segments", capacity_bytes=3 * BLOCK).stats()["dropped"] == \
            stats["dropped"]
    finally:
        os.umount(root)


def test_refuse_when_full():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=1024, policy="refuse")
        committed = 0
        try:
            while True:
                journal.commit(_payload(committed))
                committed += 1
        except JournalFullError as error:
            assert "journal full" in str(error)
        assert committed > 10
        before = device.bytes_programmed
        try:
            journal.commit(_payload(99))
        except JournalFullError:
            pass
        else:
            raise AssertionError("full journal accepted a commit")
        assert device.bytes_programmed == before      # nothing stored
        assert _pending(journal) == [_payload(n) for n in range(committed)]
        assert journal.stats()["dropped"] == 0 and journal.stats()["committed"] == committed
        positions = [position for position, _ in journal.pending()]
        journal.ack(positions[0])
        journal.commit(_payload(99))                   # room again
        assert _pending(journal)[-1] == _payload(99)
        journal.close()
    finally:
        os.umount(root)


def test_capacity_the_filesystem_cannot_hold_is_refused():
    # (LittleFS reports each folder's two blocks twice: with two journals
    # of ten folders each, a 64-block filesystem looks 20 blocks fuller.)
    device, root = _mount(128)
    try:
        try:
            Journal(root + "/j", capacity_bytes=1 << 20)
        except JournalError as error:
            text = str(error)
            assert "1048576" in text and "free" in text, text
        else:
            raise AssertionError("a 1 MB journal on a 512 KB filesystem was opened")
        # "auto": three quarters of the room, less the folders, in blocks.
        journal = Journal(root + "/j")
        capacity = journal.stats()["capacity"]
        assert capacity % BLOCK == 0 and 60 * BLOCK <= capacity <= 90 * BLOCK, capacity
        journal.close()
        journal = Journal(root + "/k", capacity_bytes=8 * BLOCK)
        journal.commit(b"kept")
        journal.close()
        names = _fill(root)
        # Room taken by other files: a journal keeps the capacity it was
        # sized at (and drops by its policy if it must); a new one, or a
        # new figure, that does not fit is refused.
        journal = Journal(root + "/j")
        assert journal.stats()["capacity"] == capacity
        journal.close()
        journal = Journal(root + "/k", capacity_bytes=8 * BLOCK)
        assert _pending(journal) == [b"kept"]
        journal.close()
        try:
            Journal(root + "/k", capacity_bytes=9 * BLOCK)
        except JournalError as error:
            assert str(9 * BLOCK) in str(error) and "free" in str(error), str(error)
        else:
            raise AssertionError("a capacity that does not fit was accepted")
        try:
            Journal(root + "/new", capacity_bytes=BLOCK)
        except JournalError as error:
            assert "ENOSPC" in str(error), str(error)        # the real cause
        else:
            raise AssertionError("a journal was made on a full filesystem")
        for name in names:
            os.remove(name)
    finally:
        os.umount(root)


def test_full_filesystem_drop_oldest_makes_room():
    """Filled by other files: packing needs a block there is not; the
    journal drops its oldest segment (counted) and goes on; once room is
    made, commits pack again."""
    device, root = _mount(64)
    try:
        journal = Journal(root + "/flash/journal", policy="drop_oldest")
        for n in range(800):
            journal.commit(_record(n))
        assert journal.stats()["segments"] >= 4
        names = _fill(root)
        for n in range(800, 1400):
            journal.commit(_record(n))
        stats = journal.stats()
        assert stats["dropped"] > 0 and stats["dropped"] + stats["pending"] == 1400, stats
        for name in names:
            os.remove(name)
        for n in range(1400, 1800):
            journal.commit(_record(n))
        after = journal.stats()
        assert after["dropped"] == stats["dropped"]          # no more drops
        times = [forward.decode_commit(p)[0] for p in _pending(journal)]
        assert times == [1790000000 + 60 * n for n in range(after["dropped"], 1800)]
        journal.close()
    finally:
        os.umount(root)


def test_full_filesystem_refuse_raises_and_resumes():
    device, root = _mount(64)
    try:
        journal = Journal(root + "/j", policy="refuse")
        for n in range(800):
            journal.commit(_record(n))
        names = _fill(root)
        committed = 800
        refused = None
        for n in range(800, 1400):
            try:
                journal.commit(_record(committed))
                committed += 1
            except JournalFullError as error:
                refused = str(error)
        # The real cause, not a swallowed ENOENT.
        assert refused is not None and "ENOSPC" in refused and "28" in refused, refused
        assert journal.stats()["pending"] == committed and journal.stats()["dropped"] == 0
        for name in names:
            os.remove(name)
        for n in range(300):
            journal.commit(_record(committed))
            committed += 1
        times = [forward.decode_commit(p)[0] for p in _pending(journal)]
        assert times == [1790000000 + 60 * n for n in range(committed)]
        journal.close()
    finally:
        os.umount(root)


def test_ten_thousand_commits_on_the_unix_board():
    """The unix profile (64-block filesystem, capacity "auto", drop_oldest):
    10,000 one-value commits, a push and an acknowledgement every 10: none
    lost, nothing raised, the filesystem does not fill."""
    device, root = _mount(64)
    try:
        journal = Journal(root + "/flash/journal", capacity_bytes="auto", policy="drop_oldest")
        delivered = 0
        for n in range(10000):
            journal.commit(_record(n))
            if n % 10 == 9:
                last = None
                for position, payload in journal.pending():
                    assert forward.decode_commit(payload)[0] == 1790000000 + 60 * delivered
                    delivered += 1
                    last = position
                journal.ack(last)
        stats = journal.stats()
        assert delivered == 10000 and stats["pending"] == 0 and stats["dropped"] == 0, stats
        journal.close()
        assert len(_fill(root)) > 20         # the journal's files did not grow
    finally:
        os.umount(root)


def test_dead_letter_round_trip_and_bound():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=1024, dead_bytes=2048)
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
        again = Journal(root + "/j", capacity_bytes=1024, dead_bytes=2048)
        assert again.stats()["dead_lettered"] == 7
        assert list(again.dead_letters())[5:] == [(b"a", "unreadable commit"),
                                                 (b"b", "unreadable commit")]
        assert _pending(again) == []
        # Damage in the store costs only the damaged letter.
        again.close()
        _damage(root + "/j/d", 14)           # inside the first letter's payload
        third = Journal(root + "/j", capacity_bytes=1024, dead_bytes=2048)
        assert list(third.dead_letters()) == letters[1:] + [(b"a", "unreadable commit"),
                                                            (b"b", "unreadable commit")]
        # The bound: the oldest letters go, counted; the newest stay.
        for n in range(100):
            third.dead_letter(b"letter %d" % n + b"." * 40, "full %d" % n)
            assert os.stat(root + "/j/d")[6] <= 2048
        kept = list(third.dead_letters())
        stats = third.stats()
        assert kept[-1] == (b"letter 99" + b"." * 40, "full 99")
        assert stats["dead_lettered"] == len(kept) and stats["dead_dropped"] > 0
        assert stats["dead_dropped"] + len(kept) == 106, stats    # 6 left, 100 added
        third.close()
        fourth = Journal(root + "/j", capacity_bytes=1024, dead_bytes=2048)
        assert fourth.stats()["dead_dropped"] == stats["dead_dropped"]
        assert list(fourth.dead_letters()) == kept
        try:
            fourth.dead_letter(b"x" * 1500, "too big for a store of 2048 bytes")
        except JournalError:
            pass
        else:
            raise AssertionError("a dead letter larger than half the store was accepted")
        fourth.close()
    finally:
        os.umount(root)


def _segment_files(path):
    names = [name for name in os.listdir(path + "/s") if name.isdigit()]
    return ["%s/s/%s" % (path, name) for name in sorted(names, key=int)]


def test_damage_in_a_segment_skipped_and_counted_once():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=65536)
        payloads = [_record(n) for n in range(300)]
        for payload in payloads:
            journal.commit(payload)
        journal.close()
        segment = _segment_files(root + "/j")[0]
        with open(segment, "rb") as f:
            data = bytearray(f.read())
        starts = [begin - 10 for _, _, begin, _ in _frames(data)]
        # Damage the 4th and the 11th frame.
        data[starts[3] + 15] ^= 1
        data[starts[10] + 4] ^= 0xFF         # its size byte: the reader must resync
        _damage(segment, data=data)
        again = Journal(root + "/j", capacity_bytes=65536)
        expected = [p for n, p in enumerate(payloads) if n not in (3, 10)]
        assert _pending(again) == expected
        assert again.stats()["corrupt"] == 2, again.stats()
        assert again.stats()["pending"] == 298
        again.close()
        third = Journal(root + "/j", capacity_bytes=65536)
        assert third.stats()["corrupt"] == 2             # counted once, not at every open
        assert _pending(third) == expected
        _ack_all(third)
        third.commit(b"after")
        assert _pending(third) == [b"after"]
        third.close()
    finally:
        os.umount(root)


def test_torn_tail_and_damaged_ring_files():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=8192)
        for n in range(4):
            journal.commit(_payload(n))
        journal.commit(_payload(4, 3 * DATA))          # frames 4, 5, 6
        journal.close()
        os.remove(root + "/j/r0/6")                     # its last frame never made it
        again = Journal(root + "/j", capacity_bytes=8192)
        assert _pending(again) == [_payload(n) for n in range(4)]
        assert again.stats()["corrupt"] == 1 and again.stats()["pending"] == 4
        again.commit(b"next")                           # takes frame 4's place
        assert _pending(again) == [_payload(n) for n in range(4)] + [b"next"]
        again.close()
        # A damaged file in the middle of the ring costs its commit only
        # (damage is counted once per run of sequence numbers, in order: this
        # one comes after the torn tail's).
        again = Journal(root + "/j", capacity_bytes=8192)
        for n in range(5, 8):
            again.commit(_payload(n))
        again.close()
        _damage(root + "/j/r0/6")
        third = Journal(root + "/j", capacity_bytes=8192)
        assert _pending(third) == [_payload(n) for n in range(4)] + \
            [b"next", _payload(5), _payload(7)]
        assert third.stats()["corrupt"] == 2
        third.commit(b"later")
        assert _pending(third)[-1] == b"later"
        third.close()
    finally:
        os.umount(root)


def test_state_lost_delivers_again_never_loses():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=65536)
        payloads = [_record(n) for n in range(400)]
        for payload in payloads:
            journal.commit(payload)
        positions = [position for position, _ in journal.pending()]
        journal.ack(positions[199])
        expected = _pending(journal)
        journal.close()
        for name in ("a", "b"):
            _damage(root + "/j/s/" + name, data=bytes(27))
        again = Journal(root + "/j", capacity_bytes=65536)
        seen = _pending(again)
        # The ack point is gone: acknowledged commits still on flash come
        # again (duplicates, never losses), in order, then the rest.
        assert seen[len(seen) - len(expected):] == expected
        assert seen == payloads[400 - len(seen):]
        _ack_all(again)
        again.commit(b"after")
        again.close()
        assert _pending(Journal(root + "/j", capacity_bytes=65536)) == [b"after"]
    finally:
        os.umount(root)


def _state(version, acked):
    data = bytearray(27)
    struct.pack_into("<BHIIIII", data, 4, version, 1, acked, 0, 0, 0, 0)
    struct.pack_into("<I", data, 0, __import__("binascii").crc32(data[4:]) & 0xFFFFFFFF)
    return data


def test_other_version_refused_and_kept():
    device, root = _mount()
    try:
        journal = Journal(root + "/j", capacity_bytes=8192)
        journal.commit(b"kept")
        journal.close()
        with open(root + "/j/s/a", "wb") as f:
            f.write(_state(3, 0))
        try:
            Journal(root + "/j", capacity_bytes=8192)
        except JournalError as error:
            assert "version 3" in str(error) and "version 2" in str(error), str(error)
        else:
            raise AssertionError("a version 3 journal was opened")
        assert sorted(os.listdir(root + "/j/s")) == ["a", "b"] and os.stat(root + "/j/r0/0")
        with open(root + "/j/s/a", "wb") as f:
            f.write(_state(2, 0))
        assert _pending(Journal(root + "/j", capacity_bytes=8192)) == [b"kept"]
    finally:
        os.umount(root)


def test_version_1_journal_carried_over():
    """A journal of uonep 0.1 (format 1) on a board that gets this
    firmware: its pending commits (JSON records) come over as records of
    today's format, its dead letters too; what it had acknowledged does not."""
    import json

    from uonep import rpc
    device, root = _mount(128)
    try:
        os.mkdir(root + "/data")
        old = journal_v1.Journal(root + "/data/journal", capacity_bytes=65536)
        records = [[1790000000 + 60 * n, 5, n, [["temp", n / 4], ["count", n]]]
                   for n in range(300)]
        records.append([None, 5, 300, [["status", "x" * 200]]])     # two chunks, untimed
        records.append([None, 5, None, [["temp", 1.5, 1790000007]]])  # a point kept back
        for record in records:
            old.commit(rpc.dumps(record).encode())
        old.ack([position for position, _ in old.pending()][99])
        old.dead_letter(b"refused", "invalid")
        old.close()
        journal = Journal(root + "/data/journal")
        carried = [forward.decode_commit(p) for p in _pending(journal)]
        assert len(carried) == 202
        for record, got in zip(records[100:], carried):
            timestamp, boot, ticks, points = got
            if record[0] is not None:
                assert (timestamp, points) == (record[0], record[3]), (record, got)
            elif len(record[3][0]) == 3:
                # A point kept back with its own time: one point, one time.
                assert (timestamp, points) == (record[3][0][2], [record[3][0][:2]]), got
            else:
                assert (boot, ticks, points) == (record[1], record[2], record[3]), got
        assert list(journal.dead_letters()) == [(b"refused", "invalid")]
        assert "J" not in os.listdir(root + "/data/journal")
        assert sorted(os.listdir(root + "/data")) == ["journal"]
        journal.close()
        # And it is a journal of today's format from now on.
        assert len(_pending(Journal(root + "/data/journal"))) == 202
        json.dumps(carried)
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
        big = Journal(root + "/big", capacity_bytes=256 * BLOCK)
        for n in range(2000):
            big.commit(_payload(n, 20))
        count_small, high_small = _live_high_water(small)
        count_big, high_big = _live_high_water(big)
        print("pending() live heap: %d commits %d bytes, %d commits %d bytes" % (
            count_small, high_small, count_big, high_big))
        assert count_small == 20 and count_big == 2000
        # One segment read at a time: a block, whatever the backlog.
        assert high_big < high_small + BLOCK + 1024, (high_small, high_big)
        small.close()
        big.close()
    finally:
        os.umount(root)


class ReadCounter(Journal):
    """Counts the bytes read from segment files, by segment."""

    def _read_into(self, name, buffer, offset):
        length = Journal._read_into(self, name, buffer, offset)
        self.reads.append((name, offset, length))
        return length


def test_a_walk_resumes_after_the_ack_and_keeps_nothing():
    device, root = _mount(512)
    try:
        journal = ReadCounter(root + "/j", capacity_bytes=64 * BLOCK)
        for n in range(600):
            journal.commit(_record(n))
        assert journal.stats()["segments"] >= 4
        journal.reads = []
        gc.collect()
        before = gc.mem_alloc()
        # A push's pattern: read on one commit past a batch, acknowledge
        # the batch, read again.
        positions = []
        for position, _, _, _ in journal.pending_slices():
            positions.append(position)
            if len(positions) == 181:
                break
        journal.ack(positions[179])
        segment = "s/%d" % journal._first
        journal.reads = []
        after_ack = [position for position, _, _, _ in journal.pending_slices()]
        assert after_ack[0] == positions[180] and len(after_ack) == 600 - 180
        # The segment holding the last commit acknowledged is read from
        # just past it, not from its start.
        first = journal.reads[0]
        assert first[0] == segment and first[1] > 0, journal.reads
        journal.ack(after_ack[-1])
        journal.reads = None
        after_ack = positions = first = None
        gc.collect()
        # Walking and acknowledging leave nothing behind in the heap (no
        # segment buffer, no memo tuples).
        assert gc.mem_alloc() - before < 128, gc.mem_alloc() - before
        assert journal.stats()["pending"] == 0
        journal.close()
        reopened = Journal(root + "/j", capacity_bytes=64 * BLOCK)
        assert _pending(reopened) == []
        reopened.close()
    finally:
        os.umount(root)


def test_random_corruption_never_crashes():
    device, root = _mount(64)
    payloads = {}
    try:
        journal = Journal(root + "/j", capacity_bytes=16384)
        for n in range(300):
            payload = _payload(n, 15 + (n * 37) % 260)
            payloads[payload] = n
            journal.commit(payload)
            if n == 90:
                journal.ack([p for p, _ in journal.pending()][40])
        journal.dead_letter(b"letter", "why")
        journal.close()
    finally:
        os.umount(root)
    gc.collect()
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
                journal = Journal(root + "/j", capacity_bytes=16384)
            except JournalError:
                refused += 1
                continue
            opened += 1
            last = None
            previous = -1
            for position, payload in journal.pending():
                assert payload in payloads, "corrupt payload delivered"
                assert payloads[payload] > previous, "out of order"
                previous = payloads[payload]
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
    assert opened >= 140, (opened, refused)


def test_layout_constants():
    # What the module's doc and the README say: 128 ring files of at most
    # 128 bytes, segments of one block, the folders' overhead.
    assert RING == 128 and DATA == 118 and BLOCK == 4096
    assert OVERHEAD == 10 * 2 * BLOCK
