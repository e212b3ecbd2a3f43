"""A simulated NOR flash for MicroPython's VFS (and CPython): test helper only.

FlashSim implements MicroPython's extended block protocol over a bytearray:
    readblocks(block, buf, offset=0)
    writeblocks(block, buf, offset=0)    a program: NOR can only clear bits
    ioctl(op, arg)                       1 init, 2 deinit, 3 sync, 4 count, 5 size, 6 erase
so that os.VfsLfs2.mkfs(dev) / os.VfsLfs2(dev) run on it unchanged.

NOR semantics: erase sets a whole block to 0xFF; a program ANDs its bytes
into the flash (it can only turn 1 bits into 0), exactly what a real chip
does when software programs a location twice without an erase.

Counters (cumulative, reset with reset_counters()): reads, bytes_read,
programs, bytes_programmed, erases, and ops (programs + erases).

Errors are returned the way the block protocol allows, as -EIO (5), which
the VFS turns into OSError(EIO) for its caller; a Python exception raised
inside a block-device callback would instead unwind through LittleFS's C
code, and, when the GC closes a file left open, be printed on stderr.

Power loss: cut_after(n) makes the n-th program or erase from now (n >= 1)
happen only partly -- a program writes a prefix of its bytes, an erase
resets a prefix of its block to 0xFF and leaves the rest as it was -- and
then that operation and every later one (reads included) fails with EIO,
so the filesystem raises OSError, as if the chip lost power, until
restore(). The partial length is drawn from a small deterministic
generator seeded by `seed`, so a campaign is reproducible. A campaign
should recover on a copy, FlashSim(blocks, data=dead.data): the dead
filesystem instance may still hold open files that the GC closes later,
and those writes must land on the dead device, not the recovered one.

A campaign need not replay its workload for every cut point: with log = []
a clean run records each program (its offset and bytes) and erase; the
flash at cut n is then the image before the run, operations 1 .. n-1
applied, and operation n applied in part (cut_images()), exactly what the
replay would have left. Progress records what the workload had done by
each operation count, so the state at any cut point can be rebuilt.

FileFlash(path, blocks) is the same device kept in a file on disk (a board
image): every program and erase is written through to the file.
"""

EIO = 5
BLOCK_SIZE = 4096
_ERASED = {}


def _erased(size):
    """A reusable run of 0xFF bytes (one allocation per size)."""
    run = _ERASED.get(size)
    if run is None:
        run = _ERASED[size] = b"\xff" * size
    return run


def xorshift(state):
    """xorshift32: deterministic, the same on MicroPython and CPython."""
    state ^= (state << 13) & 0xFFFFFFFF
    state ^= state >> 17
    state ^= (state << 5) & 0xFFFFFFFF
    return state


def mount(device, point, mtime=True):
    """LittleFS (stock settings) on device, mounted at point. LittleFS
    notes the time of every file write (mtime): two runs of the same
    workload differ in those bytes unless mtime is off."""
    import os
    os.mount(os.VfsLfs2(device, mtime=mtime), point)


def unmount(point):
    """Unmount point if something is mounted there (a cut may leave it so)."""
    import os
    try:
        os.umount(point)
    except OSError:
        pass


def file_names(folder, prefix=""):
    """Every file below folder (MicroPython's os.ilistdir), sorted, as
    paths relative to it."""
    import os
    names = []
    for entry in os.ilistdir(folder):
        if entry[1] == 0x4000:
            names.extend(file_names(folder + "/" + entry[0], prefix + entry[0] + "/"))
        else:
            names.append(prefix + entry[0])
    return sorted(names)


class FlashSim:
    def __init__(self, blocks=64, block_size=BLOCK_SIZE, data=None, seed=1):
        self.block_size = block_size
        self.blocks = blocks
        if data is None:
            self.data = bytearray(blocks * block_size)
            for block in range(blocks):
                self.data[block * block_size:(block + 1) * block_size] = _erased(block_size)
        else:
            if len(data) != blocks * block_size:
                raise ValueError("image size does not match blocks * block_size")
            self.data = bytearray(data)
        self._seed = seed or 1
        self.log = None        # a list: every program and erase is noted there
        self._cut = 0          # ops left before the cut; 0 = no cut armed
        self.powered = True
        self.cut_op = None     # kind of the operation that was cut ("program"/"erase")
        self.reset_counters()

    # -- counters ---------------------------------------------------------
    def reset_counters(self):
        self.reads = 0
        self.bytes_read = 0
        self.programs = 0
        self.bytes_programmed = 0
        self.erases = 0
        self.ops = 0

    def counters(self):
        return {"reads": self.reads, "bytes_read": self.bytes_read,
                "programs": self.programs, "bytes_programmed": self.bytes_programmed,
                "erases": self.erases, "ops": self.ops}

    # -- power ------------------------------------------------------------
    def cut_after(self, n):
        """Cut power during the n-th program or erase from now (n >= 1)."""
        if n < 1:
            raise ValueError("cut_after(n) needs n >= 1")
        self._cut = n

    def restore(self):
        """Power is back: operations work again, no cut armed."""
        self._cut = 0
        self.powered = True

    def snapshot(self):
        return bytes(self.data)

    def load(self, image):
        """Put an image (from snapshot()) back: same flash, power on, no
        cut armed, counters zeroed; cheaper than a new device."""
        self.data[:] = image
        self.restore()
        self.cut_op = None
        self.reset_counters()

    def _random(self, bound):
        self._seed = xorshift(self._seed)
        return self._seed % bound if bound > 0 else 0

    def _tick(self):
        """Count one program/erase; True when this one is the cut."""
        self.ops += 1
        if self._cut:
            self._cut -= 1
            if self._cut == 0:
                self.powered = False
                return True
        return False

    # -- storage hooks (FileFlash writes through) -------------------------
    def _stored(self, start, end):
        pass

    # -- block protocol ---------------------------------------------------
    def readblocks(self, block, buf, offset=0):
        if not self.powered:
            return -EIO
        start = block * self.block_size + offset
        n = len(buf)
        if start < 0 or start + n > len(self.data):
            return -EIO
        buf[:] = self.data[start:start + n]
        self.reads += 1
        self.bytes_read += n
        return 0

    def writeblocks(self, block, buf, offset=0):
        if not self.powered:
            return -EIO
        start = block * self.block_size + offset
        n = len(buf)
        if start < 0 or start + n > len(self.data):
            return -EIO
        cut = self._tick()
        if cut:
            self.cut_op = "program"
            n = self._random(n)       # a prefix, possibly empty
            if n == 0:
                return -EIO
        data = self.data
        old = data[start:start + n]
        # AND in C speed: as big integers (both runtimes have arbitrary ints).
        merged = int.from_bytes(old, "little") & int.from_bytes(buf[:n] if cut else buf, "little")
        data[start:start + n] = merged.to_bytes(n, "little")
        if self.log is not None:
            self.log.append((start, bytes(buf)))
        self._stored(start, start + n)
        self.programs += 1
        self.bytes_programmed += n
        return -EIO if cut else 0

    def erase(self, block):
        """Erase one block: 0 or -EIO (no power, or this erase was the cut)."""
        if not self.powered or block < 0 or block >= self.blocks:
            return -EIO
        start = block * self.block_size
        n = self.block_size
        cut = self._tick()
        if cut:
            self.cut_op = "erase"
            n = self._random(n)
        self.data[start:start + n] = _erased(self.block_size)[:n] if cut else _erased(n)
        if self.log is not None:
            self.log.append((start, None))
        self._stored(start, start + n)
        self.erases += 1
        return -EIO if cut else 0

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return self.block_size
        if op == 6:
            return self.erase(arg)
        if op in (1, 2, 3):
            # Init, deinit, sync: nothing buffered, but a dead chip says so.
            return 0 if self.powered else -EIO
        return None


def _apply(image, operation, length=None, block_size=BLOCK_SIZE):
    """Do a logged program (AND its bytes in) or erase (0xFF) on image,
    only its first `length` bytes when given."""
    start, data = operation
    if data is None:
        n = block_size if length is None else length
        image[start:start + n] = _erased(block_size)[:n]
        return
    n = len(data) if length is None else length
    merged = int.from_bytes(image[start:start + n], "little") & \
        int.from_bytes(data[:n], "little")
    image[start:start + n] = merged.to_bytes(n, "little")


def cut_images(template, log, seed=1, stride=1, block_size=BLOCK_SIZE, buffers=None):
    """Yield (cut, kind, image) for cut = 1, 1 + stride, ... through
    len(log): the flash left by power lost during operation `cut` of a
    logged run that started from template, kind "program" or "erase".
    The part of the cut operation that happened is drawn, as FlashSim
    draws it, from xorshift(seed + cut). The image is reused: copy it
    (FlashSim.load does) before the next one is asked for. buffers: two
    bytearrays of the template's size to work in (big allocations
    fragment MicroPython's heap)."""
    image, dead = buffers or (bytearray(len(template)), bytearray(len(template)))
    image[:] = template
    done = 0
    for cut in range(1, len(log) + 1, stride):
        while done < cut - 1:
            _apply(image, log[done], None, block_size)
            done += 1
        dead[:] = image
        operation = log[cut - 1]
        size = block_size if operation[1] is None else len(operation[1])
        state = xorshift(seed + cut)
        _apply(dead, operation, state % size if size else 0, block_size)
        yield cut, "erase" if operation[1] is None else "program", dead


class Progress:
    """What a workload has done, noted with the flash operation count at
    each step: state(cut) is what it had done when operation `cut` was
    cut short (every step noted after operation cut - 1). Asked for cut
    points in increasing order."""

    def __init__(self, device, initial):
        self.device = device
        self.initial = initial
        self.events = []
        self._state = None
        self._next = 0

    def set(self, key, value):
        self.events.append((self.device.ops, key, value))

    def state(self, cut):
        if self._state is None or cut < self._cut:
            self._state = dict(self.initial)
            self._next = 0
        self._cut = cut
        events = self.events
        while self._next < len(events) and events[self._next][0] < cut:
            _, key, value = events[self._next]
            self._state[key] = value
            self._next += 1
        return self._state

    def final(self):
        return self.state(self.device.ops + 1)


class FileFlash(FlashSim):
    """The same flash kept in a file: created erased (0xFF) when missing."""

    def __init__(self, path, blocks=64, block_size=BLOCK_SIZE, seed=1):
        self.path = path
        size = blocks * block_size
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        if len(data) != size:
            data = b"\xff" * size
            with open(path, "wb") as f:
                f.write(data)
        super().__init__(blocks, block_size, data, seed)

    def _stored(self, start, end):
        with open(self.path, "r+b") as f:
            f.seek(start)
            f.write(self.data[start:end])
