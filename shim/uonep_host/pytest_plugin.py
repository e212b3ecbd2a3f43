"""pytest plugin (entry point pytest11): the One Platform emulator fixture.

Fixtures:
- onep_seed: the seed the emulator starts with; override it in a test module
  or conftest to return another dict or a JSON file path. The default is
  uonep_host.emulator.DEFAULT_SEED (the same as tests/seeds/default.json):
  client CIK "1" * 40 with float "temp", integer "count" and string "status"
  dataports, vendor acme (vendor token "3" * 40) with its model m1, an
  activatable device acme/m1/0001 (CIK "2" * 40) and a disabled one
  acme/m1/0002.
- onep_emulator: a started Emulator on a free loopback port with an in-memory
  database, seeded with onep_seed; stopped after the test. It has .url,
  .faults, .points(cik, alias), .requests, .set_clock(...), .reset_faults().
- onep_in_process: the same, not listening: reach it through .session()
  (requests' call shape, no socket; pass it as http= to a Client).
"""

import pytest


@pytest.fixture
def onep_seed():
    """The seed for onep_emulator (override to change it)."""
    import copy

    from uonep_host.emulator import DEFAULT_SEED
    return copy.deepcopy(DEFAULT_SEED)


@pytest.fixture
def onep_emulator(onep_seed):
    """A running emulator for one test."""
    from uonep_host.emulator import Emulator
    emulator = Emulator(db=":memory:", seed=onep_seed).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def onep_in_process(onep_seed):
    """An emulator for one test, reached in process through .session()."""
    from uonep_host.emulator import Emulator
    emulator = Emulator(db=":memory:", seed=onep_seed)
    try:
        yield emulator
    finally:
        emulator.stop()
