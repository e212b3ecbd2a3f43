"""The board profile at boot: its defaults, the overrides, every field's
type and range.

    load(folder, overrides)   # the merged profile, or a ConfigError
    problem(profile)          # None, or "push.max_points must be ... (got 0)"

appconfig.load_profile and parse_args import this module and drop it from
sys.modules after, so that its code costs a board's heap only while it
boots (settings.py does the same for a remote change); load() drops the
file reader it borrows from configfiles.py the same way.
"""

import json
import sys

import appconfig

PROFILE_NAME = "board.json"
# Read bound: a profile is a few hundred bytes; a larger file is a mistake.
PROFILE_BYTES = 8192

SLEEP_MODES = ("none", "light", "deep")
POLICIES = ("drop_oldest", "refuse")
SECTIONS = ("push", "journal", "storage", "wifi", "ntp", "simulation", "update", "settings")
# The longest wait a profile may ask for: a 32-bit board's time.ticks_add()
# refuses an interval of 2**29 ms (6.2 days) or more.
MAX_SECONDS = 518400
SECONDS = "a number of seconds above 0 and at most %d" % MAX_SECONDS
TEXT = "a non-empty string"

# Every profile field and its default; a profile names only what differs.
DEFAULTS = {
    "name": "generic",
    "glue": None,
    "vendor": None,
    "model": None,
    "server": "https://m2.exosite.com",
    # TLS certificate check: true (the CA set shipped in /lib/uonep/ca.der),
    # a CA file on the board ("/ca.pem"), or false (no check: avoid).
    "verify": True,
    "timeout": 10,
    "sample_interval": 60,
    "push": {"every_samples": 10, "max_interval": 900, "backlog_bytes": 8192,
             "max_points": 500},
    "journal": {"path": "/data/journal", "capacity_bytes": "auto", "policy": "drop_oldest"},
    "storage": {"mount": "/"},
    "sleep": "light",
    "watchdog": 120,
    "wifi": {"timeout": 20, "backoff_base": 5, "backoff_cap": 600},
    "ntp": {"host": "pool.ntp.org"},
    "sensors": [],
    "run_for": None,
    "simulation": {},
    # The app's own update from a content (update.py): off while content_id is null.
    "update": {"content_id": None, "every_pushes": 24, "boots": 3},
    # Remote settings in a dataport (settings.py): off while alias is null.
    "settings": {"alias": None, "status": "settings_status", "every_pushes": 1},
}



def merge(base, changes):
    """base updated by changes, one level deep for nested sections (a copy)."""
    merged = {}
    for key, value in base.items():
        merged[key] = dict(value) if isinstance(value, dict) else value
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def load(folder, overrides=None):
    """The board profile in folder (board.json, or profile.json in the
    repository's boards/NAME/), merged over DEFAULTS and checked."""
    import configfiles
    try:
        path = appconfig.join(folder, PROFILE_NAME)
        if not appconfig.exists(path):
            path = appconfig.join(folder, "profile.json")
        document, found = configfiles.read_json(path, "board profile", PROFILE_BYTES)
        if found is not None:
            raise appconfig.ConfigError(found)
        profile = merge(DEFAULTS, document)
        for key, value in (overrides or {}).items():
            set_path(profile, key, value)
        found = problem(profile) or configfiles.server_problem(profile["server"])
    finally:
        sys.modules.pop("configfiles", None)
    if found is not None:
        raise appconfig.ConfigError("board profile %s: %s" % (path, found))
    return profile


def set_path(document, dotted, value):
    """document["a"]["b"] = value for dotted "a.b" (sections are created);
    an object given for a section is merged into it, as in a profile."""
    keys = dotted.split(".")
    for key in keys[:-1]:
        if not isinstance(document.get(key), dict):
            document[key] = {}
        document = document[key]
    if isinstance(value, dict) and isinstance(document.get(keys[-1]), dict):
        document[keys[-1]].update(value)
    else:
        document[keys[-1]] = value


def parse_args(argv):
    """Options from the unix port's command line:
    --board DIR --secrets FILE --set section.key=JSON (repeatable).
    A board has no command line: every option has the board's default."""
    options = {"board": "/", "secrets": appconfig.SECRETS_PATH, "overrides": {}}
    index = 0
    while index < len(argv):
        name = argv[index]
        if name not in ("--board", "--secrets", "--set") or index + 1 >= len(argv):
            raise appconfig.ConfigError("usage: main.py [--board DIR] [--secrets FILE] "
                                        "[--set section.key=JSON ...]; not understood: %s" % name)
        value = argv[index + 1]
        index += 2
        if name == "--set":
            key, _, text = value.partition("=")
            try:
                options["overrides"][key] = json.loads(text)
            except ValueError:
                options["overrides"][key] = text
        else:
            options[name[2:]] = value
    return options


class _Wrong(Exception):
    pass


def problem(profile):
    """What is wrong with the merged profile: a sentence naming the first
    wrong field, or None. (The server URL is configfiles.server_problem's.)"""
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
