"""Counters of the reliability and power-loss campaigns, summed over the run
and printed by tests/conftest.py as one line each.

CPython tests call record(); MicroPython tests print a line
"@@CAMPAIGN {json}" (see report()), which the harness adds in."""
import json

TOTALS = {
    "reliability": {"faults": 0, "fuzzed": 0, "corruptions": 0, "lost": 0},
    "power-loss": {"cut points": 0, "lost": 0, "corrupt delivered": 0},
}


def record(campaign, **counts):
    totals = TOTALS[campaign]
    for name, number in counts.items():
        totals[name.replace("_", " ")] += number


def report(campaign, **counts):
    """From MicroPython: print the marker line the harness reads."""
    print("@@CAMPAIGN " + json.dumps([campaign, counts]))


def summary_lines():
    reliability = TOTALS["reliability"]
    power = TOTALS["power-loss"]
    return [
        "reliability campaign: faults=%d fuzzed=%d corruptions=%d lost=%d" % (
            reliability["faults"], reliability["fuzzed"], reliability["corruptions"],
            reliability["lost"]),
        "power-loss campaign: %d cut points, %d lost, %d corrupt delivered" % (
            power["cut points"], power["lost"], power["corrupt delivered"]),
    ]


def shard():
    """(index, count) of this MicroPython process among its module's SHARDS
    (see tests/conftest.py): a campaign takes the cut points whose number
    modulo count is index. (0, 1) when not sharded."""
    import os
    text = os.getenv("UONEP_SHARD") if hasattr(os, "getenv") else None
    if not text:
        return 0, 1
    index, count = text.split("/")
    return int(index), int(count)
