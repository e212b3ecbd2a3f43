"""A block device kept in a host file, for LittleFS on the unix port.

    device = FileBlockDevice(".state/flash.img", blocks=64)
    vfs.VfsLfs2.mkfs(device); vfs.mount(vfs.VfsLfs2(device), "/flash")

It speaks MicroPython's extended block protocol (readblocks/writeblocks
with a byte offset, ioctl 4 count, 5 size, 6 erase), the one the ESP32's
flash partition speaks, so the journal sees the same file system it sees on
a board. Erased bytes read 0xff, as on NOR flash.
"""

from micropython import const

# Constants, not module globals: they cost the heap nothing.
_BLOCK = const(4096)
_COUNT = const(4)
_SIZE = const(5)
_ERASE = const(6)
# Erased bytes are written a piece at a time: a board erases in hardware,
# without heap, so the simulation keeps 256 bytes for it, not a block.
_PIECE = const(256)


class FileBlockDevice:
    """`blocks` erase blocks of 4096 bytes in the file at `path`
    (created erased when missing)."""

    def __init__(self, path, blocks=64):
        self.blocks = blocks
        # Made once: no allocation per erase.
        self._blank = b"\xff" * _PIECE
        try:
            self.file = open(path, "r+b")
        except OSError:
            with open(path, "wb") as blank:
                for _ in range(blocks * _BLOCK // _PIECE):
                    blank.write(self._blank)
            self.file = open(path, "r+b")

    def readblocks(self, block, buffer, offset=0):
        self.file.seek(block * _BLOCK + offset)
        self.file.readinto(buffer)

    def writeblocks(self, block, buffer, offset=None):
        # Without an offset the caller wants whole blocks erased first.
        if offset is None:
            for index in range(len(buffer) // _BLOCK):
                self.ioctl(_ERASE, block + index)
            offset = 0
        self.file.seek(block * _BLOCK + offset)
        self.file.write(buffer)
        self.file.flush()

    def ioctl(self, operation, argument):
        if operation == _COUNT:
            return self.blocks
        if operation == _SIZE:
            return _BLOCK
        if operation == _ERASE:
            self.file.seek(argument * _BLOCK)
            for _ in range(_BLOCK // _PIECE):
                self.file.write(self._blank)
            return 0
        # 1 init, 2 deinit, 3 sync: nothing to do for a file.
        return 0 if operation in (1, 2, 3) else None
