"""The board profile's check: every field's type and range, at boot.

    problem(profile)    # None, or "push.max_points must be ... (got 0)"

appconfig.load_profile imports this module for the check and drops it from
sys.modules after, so that its code costs a board's heap only while it
boots.
"""

import json

SLEEP_MODES = ("none", "light", "deep")
POLICIES = ("drop_oldest", "refuse")
SECTIONS = ("push", "journal", "storage", "wifi", "ntp", "simulation", "update", "settings")
# The longest wait a profile may ask for: a 32-bit board's time.ticks_add()
# refuses an interval of 2**29 ms (6.2 days) or more.
MAX_SECONDS = 518400
SECONDS = "a number of seconds above 0 and at most %d" % MAX_SECONDS
TEXT = "a non-empty string"


class _Wrong(Exception):
    pass


def problem(profile):
    """What is wrong with the merged profile: a sentence naming the first
    wrong field, or None. (The server URL is appconfig.parse_server's.)"""
    try:
        _check(profile)
    except _Wrong as wrong:
        return str(wrong)
    return None


def _check(profile):
    def need(field, good, what):
        _need(profile, field, good, what)

    def optional(good):
        return lambda value: value is None or good(value)
    for section in SECTIONS:
        need(section, lambda value: isinstance(value, dict), "an object {...}")
    for field in ("name", "journal.path", "storage.mount", "ntp.host"):
        need(field, _text, TEXT)
    for field in ("glue", "vendor", "model", "storage.image", "simulation.unique_id",
                  "simulation.control", "update.content_id", "settings.alias"):
        need(field, optional(_text), TEXT + " or null")
    for field in ("timeout", "sample_interval", "push.max_interval", "wifi.timeout",
                  "wifi.backoff_base"):
        need(field, _seconds, SECONDS)
    base = profile["wifi"]["backoff_base"]
    need("wifi.backoff_cap", lambda value: _seconds(value) and value >= base,
         "a number of seconds from wifi.backoff_base to %d" % MAX_SECONDS)
    timeout = profile["timeout"]
    # A watchdog shorter than a request would reset the board in the middle of one.
    need("watchdog", lambda value: value == 0 and not isinstance(value, bool) or
         _seconds(value) and value > timeout,
         "0 (off) or a number of seconds above timeout and at most %d" % MAX_SECONDS)
    need("push.every_samples", lambda value: _whole(value, 1), "a whole number from 1")
    need("push.max_points", lambda value: _whole(value, 1), "a whole number from 1")
    for field in ("update.every_pushes", "update.boots", "settings.every_pushes"):
        need(field, lambda value: _whole(value, 1), "a whole number from 1")
    need("settings.status", _text, TEXT)
    need("push.backlog_bytes", lambda value: _whole(value, 0), "a whole number from 0")
    need("journal.capacity_bytes", lambda value: value == "auto" or _whole(value, 512),
         "a whole number from 512, or \"auto\"")
    need("storage.blocks", optional(lambda value: _whole(value, 2)), "a whole number from 2")
    need("journal.policy", lambda value: value in POLICIES, "one of " + ", ".join(POLICIES))
    need("sleep", lambda value: value in SLEEP_MODES, "one of " + ", ".join(SLEEP_MODES))
    need("run_for", optional(lambda value: _number(value) and value >= 0),
         "a number of seconds from 0, or null (forever)")
    need("verify", lambda value: isinstance(value, bool) or _text(value),
         "true, false or the path of a CA certificates file")
    need("sensors", _sensors, "a list of {\"alias\": ..., \"kind\": ...}, "
         "each alias once (\"enabled\": true or false)")
    need("simulation.world_start", optional(_number), "a number (Unix seconds)")
    need("simulation.outages", optional(lambda value: _pairs(value, _number)),
         "a list of [at, seconds]")
    need("simulation.faults", optional(lambda value: _pairs(
        value, lambda fault: isinstance(fault, dict))), "a list of [at, {...}]")


def _need(profile, field, good, what):
    section, _, key = field.partition(".")
    value = profile[section].get(key) if key else profile.get(section)
    if not good(value):
        raise _Wrong("%s must be %s (got %s)" % (field, what, _shown(value)))


def _shown(value):
    """A wrong value as the profile's JSON spells it (the profile holds no
    secret), short."""
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    if isinstance(value, str) and len(value) > 40:
        return "a string of %d characters" % len(value)
    return json.dumps(value)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value, low):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _seconds(value):
    return _number(value) and 0 < value <= MAX_SECONDS


def _text(value):
    return isinstance(value, str) and value != ""


def _sensors(sensors):
    if not isinstance(sensors, list):
        return False
    aliases = []
    for sensor in sensors:
        if not isinstance(sensor, dict) or not _text(sensor.get("kind")) or \
                not _text(sensor.get("alias")) or sensor["alias"] in aliases or \
                not isinstance(sensor.get("enabled", True), bool):
            return False
        aliases.append(sensor["alias"])
    return True


def _pairs(items, good):
    """items is a list of [number, x] with good(x) for every x."""
    if not isinstance(items, list):
        return False
    for item in items:
        if not isinstance(item, list) or len(item) != 2 or not _number(item[0]) or \
                not good(item[1]):
            return False
    return True
