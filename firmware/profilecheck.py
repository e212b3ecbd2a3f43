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

# The longest wait a profile may ask for: a 32-bit board's time.ticks_add()
# refuses an interval of 2**29 ms (6.2 days) or more.
MAX_SECONDS = 518400

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



def merge(base, document):
    """base updated by document, one level deep for nested sections (a copy)."""
    merged = {}
    for key, value in base.items():
        merged[key] = dict(value) if isinstance(value, dict) else value
    for key, value in document.items():
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
        path = appconfig.join(folder, "board.json")
        if not appconfig.exists(path):
            path = appconfig.join(folder, "profile.json")
        # Read bound: a profile is a few hundred bytes; a larger file is a mistake.
        document, found = configfiles.read_json(path, "board profile", 8192)
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


def set_path(document, path, value):
    """document["a"]["b"] = value for path "a.b" (sections are created);
    an object given for a section is merged into it, as in a profile."""
    keys = path.split(".")
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


def problem(profile):
    """What is wrong with the merged profile: a sentence naming the first
    wrong field, or None. (The server URL is configfiles.server_problem's.)"""
    for path, good, what in _rules(profile):
        section, _, key = path.partition(".")
        value = profile[section].get(key) if key else profile.get(section)
        if not good(value):
            return "%s must be %s (got %s)" % (path, what, _shown(value))
    return None


def _rules(profile):
    """(field, good(value), what a good value is) in the order of the
    checks: the sections first, so that the fields after them can be read
    (a generator: each rule is made once the ones before it passed)."""
    # (Locals, not module names: a name would stay in a board's qstr table.)
    text = "a non-empty string"
    seconds = "a number of seconds above 0 and at most %d" % MAX_SECONDS
    for section in ("push", "journal", "storage", "wifi", "ntp", "simulation", "update",
                    "settings"):
        yield section, lambda value: isinstance(value, dict), "an object {...}"
    for path in ("name", "journal.path", "storage.mount", "ntp.host"):
        yield path, _text, text
    for path in ("glue", "vendor", "model", "storage.image", "simulation.unique_id",
                 "simulation.control", "update.content_id", "settings.alias"):
        yield path, lambda value: value is None or _text(value), text + " or null"
    for path in ("timeout", "sample_interval", "push.max_interval", "wifi.timeout",
                 "wifi.backoff_base"):
        yield path, _seconds, seconds
    base = profile["wifi"]["backoff_base"]
    yield "wifi.backoff_cap", lambda value: _seconds(value) and value >= base, \
        "a number of seconds from wifi.backoff_base to %d" % MAX_SECONDS
    timeout = profile["timeout"]
    # A watchdog shorter than a request would reset the board in the middle of one.
    yield "watchdog", lambda value: value == 0 and not isinstance(value, bool) or \
        _seconds(value) and value > timeout, \
        "0 (off) or a number of seconds above timeout and at most %d" % MAX_SECONDS
    for path in ("push.every_samples", "push.max_points", "update.every_pushes",
                 "update.boots", "settings.every_pushes"):
        yield path, lambda value: _whole(value) and value >= 1, "a whole number from 1"
    yield "settings.status", _text, text
    yield "push.backlog_bytes", lambda value: _whole(value) and value >= 0, \
        "a whole number from 0"
    yield "journal.capacity_bytes", lambda value: value == "auto" or _whole(value) and \
        value >= 512, "a whole number from 512, or \"auto\""
    yield "storage.blocks", lambda value: value is None or _whole(value) and value >= 2, \
        "a whole number from 2"
    yield "journal.policy", lambda value: value in ("drop_oldest", "refuse"), \
        "one of drop_oldest, refuse"
    yield "sleep", lambda value: value in ("none", "light", "deep"), \
        "one of none, light, deep"
    yield "run_for", lambda value: value is None or _number(value) and value >= 0, \
        "a number of seconds from 0, or null (forever)"
    yield "verify", lambda value: isinstance(value, bool) or _text(value), \
        "true, false or the path of a CA certificates file"
    yield "sensors", _sensors, "a list of {\"alias\": ..., \"kind\": ...}, " \
        "each alias once (\"enabled\": true or false)"
    yield "simulation.world_start", lambda value: value is None or _number(value), \
        "a number (Unix seconds)"
    yield "simulation.outages", lambda value: value is None or _pairs(value, _number), \
        "a list of [at, seconds]"
    yield "simulation.faults", lambda value: value is None or _pairs(
        value, lambda value: isinstance(value, dict)), "a list of [at, {...}]"


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


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


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
