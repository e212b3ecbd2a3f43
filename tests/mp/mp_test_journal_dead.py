# The dead-letter store read a piece at a time: opening a journal whose
# store is full needs no more heap than opening one whose store is empty
# (it used to read the store whole and slice every letter at boot), and the
# letters counted and read back are those a whole-file reading finds, damage
# and all.
import gc
import os
import struct
import binascii

from uonep.journal import Journal

HEAPSIZE = "512k"

_folders = [0]


def _folder(name):
    _folders[0] += 1
    return "%s/%s%d" % (os.getenv("UONEP_TMP"), name, _folders[0])


def _random(state):
    """A seeded xorshift32: the next state."""
    state ^= state << 13 & 0xFFFFFFFF
    state ^= state >> 17
    return state ^ state << 5 & 0xFFFFFFFF


def _whole(data):
    """The (payload, reason) of each valid letter in data, read whole (the
    format's reference reading: damage skipped a byte at a time)."""
    found = []
    at = 0
    while at + 10 <= len(data):
        size, text, stored = struct.unpack_from("<HHI", data, at + 2)
        end = at + 10 + size + text
        if data[at:at + 2] != b"\xdeL" or end > len(data) or \
                binascii.crc32(data[at + 10:end], binascii.crc32(data[at + 2:at + 6])) != stored:
            at += 1
            continue
        found.append((bytes(data[at + 10:end - text]), bytes(data[end - text:end]).decode()))
        at = end
    return found


def _full(path, seed=7):
    """A journal at path whose store of 8192 bytes is full: letters of 0 to
    700 bytes (many across a piece's end)."""
    journal = Journal(path, capacity_bytes=16384)
    state = seed
    while True:
        state = _random(state)
        payload = b"letter %d;" % journal.stats()["dead_lettered"] + b"x" * (state % 700)
        if journal._dead_size + 10 + len(payload) + 8 > journal.dead_bytes:
            break
        journal.dead_letter(payload, "reason %d" % (state % 1000))
    journal.close()
    return path


def _opens_with(path, spare, whole=False):
    """Whether the journal at path opens with about `spare` bytes of the heap
    free, the rest taken (whole: its store held whole while it opens, as
    opening once did)."""
    ballast = [None] * 4096
    count = 0
    gc.collect()
    try:
        size = 4096
        while size >= 16:
            try:
                while gc.mem_free() - size > spare and count < len(ballast):
                    ballast[count] = bytearray(size - 8)
                    count += 1
            except MemoryError:
                pass
            size //= 4
        held = None
        if whole:
            with open(path + "/d", "rb") as f:
                held = f.read()
        Journal(path, capacity_bytes=16384).close()
        held = None
        return True
    except MemoryError:
        return False
    finally:
        ballast = None
        gc.collect()


def _smallest(path, whole=False):
    """The smallest spare heap (to 256 bytes) the journal at path opens in.
    (Which spare sizes work is not quite monotonic, the ballast's layout
    changing with them: figures are compared, found the same way, rather
    than one size probed.)"""
    low, high = 0, 128 * 1024
    assert _opens_with(path, high, whole)
    while high - low > 256:
        middle = (low + high) // 2
        if _opens_with(path, middle, whole):
            high = middle
        else:
            low = middle
    return high


def test_a_full_store_opens_in_the_heap_an_empty_one_needs():
    empty = _folder("empty")
    Journal(empty, capacity_bytes=16384).close()
    full = _full(_folder("full"))
    assert os.stat(full + "/d")[6] > 8192 - 720
    needs = _smallest(empty)
    # 1 KiB over what the empty store needs at most: far below the store's 8 KB.
    assert _smallest(full) <= needs + 1024, "a full dead-letter store costs heap at open"
    # The probe tells: a store held whole through opening needs its 8 KB more.
    assert _smallest(full, whole=True) > needs + 4096
    journal = Journal(full, capacity_bytes=16384)
    with open(full + "/d", "rb") as f:
        assert list(journal.dead_letters()) == _whole(f.read())
    assert journal.stats()["dead_lettered"] > 10


def test_damaged_stores_count_and_read_as_a_whole_reading_does():
    path = _full(_folder("damaged"), seed=11)
    with open(path + "/d", "rb") as f:
        original = f.read()
    state = 99
    for case in range(150):
        data = bytearray(original)
        for _ in range(1 + case % 4):
            state = _random(state)
            at = state % len(data)
            kind = state >> 20 & 3
            if kind == 0:
                data[at] ^= 1 << (state >> 8 & 7)
            elif kind == 1:
                data[at:at + 2] = b"\xdeL"           # a false start
            elif kind == 2:
                data[at:at + 40] = b""               # a piece gone
            else:
                data = data[:at]                     # cut short
        with open(path + "/d", "wb") as f:
            f.write(data)
        expected = _whole(data)
        journal = Journal(path, capacity_bytes=16384)
        assert journal.stats()["dead_lettered"] == len(expected), case
        assert list(journal.dead_letters()) == expected, case
        journal.close()


def test_trimming_keeps_the_newest_and_what_follows_them():
    path = _full(_folder("trim"), seed=5)
    with open(path + "/d", "rb") as f:
        before = _whole(f.read())
    journal = Journal(path, capacity_bytes=16384)
    journal.dead_letter(b"n" * 600, "newest")
    kept = list(journal.dead_letters())
    stats = journal.stats()
    assert kept[-1] == (b"n" * 600, "newest") and kept[:-1] == before[len(before) - len(kept) + 1:]
    assert stats["dead_dropped"] == len(before) + 1 - len(kept) > 0
    assert os.stat(path + "/d")[6] <= journal.dead_bytes // 2
    assert "d~" not in os.listdir(path)
    journal.close()
    again = Journal(path, capacity_bytes=16384)
    assert list(again.dead_letters()) == kept
    assert again.stats()["dead_lettered"] == len(kept)
    assert again.stats()["dead_dropped"] == stats["dead_dropped"]



def test_a_long_reason_is_cut_between_characters_and_reads_back():
    journal = Journal(_folder("reason"), capacity_bytes=16384)
    journal.dead_letter(b"payload", "\u20ac" * 600)      # 1,800 bytes of UTF-8
    journal.close()
    reopened = Journal(journal.path, capacity_bytes=16384)
    [(payload, reason)] = list(reopened.dead_letters())
    reopened.close()
    assert payload == b"payload"
    assert reason == "\u20ac" * 256, len(reason)
