"""The millisecond counter of uonep.clock where the time module has none
(CPython): a counter that never wraps. A board never loads this module."""

import time


def ticks_ms():
    return int(time.time() * 1000)


def ticks_diff(later, earlier):
    return later - earlier


def ticks_add(ticks, delta):
    return ticks + delta
