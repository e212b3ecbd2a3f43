"""Property-based round trips through the emulator: any value and alias is
either accepted and read back equal, or refused with a clear error (by the
core before sending, or by the server as a failed call) — never a crash,
never a different value stored. Numeric strings ("42", "-0.5e3") are
numbers to float and integer dataports, as on the real platform."""
import math
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaign
from uonep.errors import CallError, ValidationError
from uonep_host import Client
from uonep_host.emulator import DEFAULT_CIK, Emulator

CASES = 400
ROUND_TRIP = settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
FORMAT_OF = {"temp": "float", "count": "integer", "status": "string"}


@pytest.fixture(scope="module")
def emulator():
    # in process: the values and aliases are the point here, not the sockets
    emulator = Emulator(seed={"clients": [{"cik": DEFAULT_CIK, "dataports": [
        {"alias": alias, "format": kind} for alias, kind in FORMAT_OF.items()]}]})
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def client(emulator):
    return Client(DEFAULT_CIK, "http://emulator", timeout=5, http=emulator.session())


NUMERIC_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _as_number(value):
    """The number a value stands for in a float/integer dataport, or None."""
    if type(value) in (int, float):
        return value
    if type(value) is str and len(value) <= 400 and NUMERIC_TEXT.fullmatch(value):
        return Decimal(value)
    return None


def _fits(kind, value):
    """What the emulator documents it stores for a dataport format."""
    if kind == "string":
        return type(value) is str
    number = _as_number(value)
    if number is None or not math.isfinite(float(number)):
        return False
    if kind == "float":
        return True
    return number == int(number) and -(1 << 63) <= int(number) < (1 << 63)


def _same(kind, sent, stored):
    if kind == "float":
        return float(_as_number(sent)) == stored and type(stored) is float
    if kind == "integer":
        return int(_as_number(sent)) == stored and type(stored) is int
    return sent == stored


values = (st.integers(min_value=-(1 << 64), max_value=1 << 64) | st.floats() | st.text()
          | st.from_regex(r"\A[+-]?[0-9]{0,22}(\.[0-9]{0,5})?([eE][+-]?[0-9]{1,3})?\Z")
          | st.binary(max_size=3) | st.none() | st.booleans())


def test_values_round_trip_or_are_refused(client):
    cases = []
    timestamps = iter(range(1700000000, 1800000000, 7))

    @ROUND_TRIP
    @given(st.sampled_from(sorted(FORMAT_OF)), values)
    def check(alias, value):
        cases.append(1)
        kind = FORMAT_OF[alias]
        timestamp = next(timestamps)
        try:
            client.recordbatch(alias, [[timestamp, value]])
        except ValidationError as refused:
            assert str(refused)
            assert not (type(value) in (int, float, str) and
                        (type(value) is not float or math.isfinite(value)) and
                        (type(value) is not int or -(1 << 63) <= value < (1 << 63)))
            return
        except CallError as failed:
            assert not _fits(kind, value), (alias, value, failed)
            return
        assert _fits(kind, value)
        [[stamp, stored]] = client.read(alias, starttime=timestamp, endtime=timestamp)
        assert stamp == timestamp and _same(kind, value, stored), (value, stored)

    check()
    campaign.record("reliability", fuzzed=len(cases))


aliases = st.text(min_size=1, max_size=40) | st.text(alphabet="0123456789abcdef",
                                                     min_size=40, max_size=40)


def test_aliases_map_and_resolve_or_are_refused(client, emulator):
    cases = []
    rid = client.lookup("temp")

    @settings(max_examples=200, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(aliases)
    def check(alias):
        cases.append(1)
        try:
            client.map(rid, alias)
        except (ValidationError, CallError) as refused:
            assert str(refused)
            return
        try:
            assert client.lookup(alias) == rid
            if alias != "temp" and len(alias) != 40:
                client.write(alias, 1.5)
                assert client.read(alias)[0][1] == 1.5
        finally:
            client.unmap(alias)

    check()
    campaign.record("reliability", fuzzed=len(cases))
