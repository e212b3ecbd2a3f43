"""Fixtures for the emulator's own tests: a fixed-clock emulator reached in
process (no socket) unless a test asks for HTTP (`served`), an Rpc client,
and `door`, which runs a test once through each front door."""

import pytest
import requests

from emulator_helpers import T0, Door, Rpc
from uonep_host.emulator import DEFAULT_SEED, Emulator


@pytest.fixture
def emu():
    """An emulator whose clock stands still at T0 (move it with
    set_clock(advance=...)), not listening: reach it through emu.session()."""
    emulator = Emulator(seed=DEFAULT_SEED, clock=lambda: T0)
    yield emulator
    emulator.stop()


@pytest.fixture
def served(emu):
    """The same emulator, listening on a free loopback port (emu.url)."""
    return emu.start()


@pytest.fixture
def rpc(emu):
    """JSON-RPC calls in process, with the seeded CIK."""
    return Rpc(emu.session())


@pytest.fixture(params=["in_process", "http"])
def door(request, emu):
    """Each front door in turn: the in-process session, then real HTTP."""
    if request.param == "in_process":
        yield Door("in_process", emu.session())
        return
    with requests.Session() as http:
        yield Door("http", http, emu.start().url)
