"""Fixtures for the emulator's own tests: a fixed-clock emulator and an Rpc client."""

import pytest

from emulator_helpers import T0, Rpc
from uonep_host.emulator import DEFAULT_SEED, Emulator


@pytest.fixture
def emu():
    """An emulator whose clock stands still at T0 (move it with set_clock(advance=...))."""
    emulator = Emulator(seed=DEFAULT_SEED, clock=lambda: T0).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def rpc(emu):
    return Rpc(emu.url)
