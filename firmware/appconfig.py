"""Configuration of the device application: the board profile (JSON, in the
repository), the secrets file (WiFi and credentials, never in git) and the
CIK stored after activation.

    profile = load_profile("/")                 # /board.json on a board
    secrets = load_secrets("/secrets.json")     # raises ConfigError, with a fix
    store_cik(cik_path("/secrets.json"), cik)   # atomic: tmp file + rename

Nothing here prints or raises a secret: messages name the file and the
field that is wrong, never its content.
"""

import json
import os

PROFILE_NAME = "board.json"
SECRETS_PATH = "/secrets.json"
CIK_NAME = "cik"
SECRETS_EXAMPLE = ('{"wifi": {"ssid": "MyNetwork", "password": "..."}, '
                   '"cik": "<40 hex characters>"}')

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
    "journal": {"path": "/data/journal", "capacity_bytes": 65536, "policy": "drop_oldest"},
    "storage": {"mount": "/"},
    "sleep": "light",
    "watchdog": 120,
    "wifi": {"timeout": 20, "backoff_base": 5, "backoff_cap": 600},
    "ntp": {"host": "pool.ntp.org"},
    "sensors": [],
    "run_for": None,
    "simulation": {},
}
SLEEP_MODES = ("none", "light", "deep")
POLICIES = ("drop_oldest", "refuse")


class ConfigError(Exception):
    """A profile or secrets file that cannot be used; the message says how
    to fix it and never quotes the file's content."""


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


def join(folder, name):
    """folder/name without doubling the separator ("/" + "x" -> "/x")."""
    if not folder or folder == ".":
        return name
    return folder.rstrip("/") + "/" + name


def parent(path):
    """The folder of a path ("/secrets.json" -> "/", "a/b" -> "a", "b" -> ".")."""
    if "/" not in path:
        return "."
    head = path.rsplit("/", 1)[0]
    return head or "/"


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def makedirs(path):
    """Create path and its missing parents (os.makedirs is not on every port)."""
    if not path or path in ("/", ".") or exists(path):
        return
    makedirs(parent(path))
    try:
        os.mkdir(path)
    except OSError:
        if not exists(path):
            raise


def read_json(path, what):
    """The JSON document at path, or ConfigError naming what is wrong."""
    try:
        with open(path) as stream:
            text = stream.read()
    except OSError:
        raise ConfigError("%s %s is missing" % (what, path))
    try:
        document = json.loads(text)
    except ValueError:
        # The text may hold a password: say where, never what.
        raise ConfigError("%s %s is not valid JSON" % (what, path))
    if not isinstance(document, dict):
        raise ConfigError("%s %s must be a JSON object {...}" % (what, path))
    return document


def load_profile(folder, overrides=None):
    """The board profile in folder (board.json, or profile.json in the
    repository's boards/NAME/), merged over DEFAULTS and checked."""
    path = join(folder, PROFILE_NAME)
    if not exists(path):
        path = join(folder, "profile.json")
    profile = merge(DEFAULTS, read_json(path, "board profile"))
    for key, value in (overrides or {}).items():
        set_path(profile, key, value)
    check_profile(profile)
    return profile


def set_path(document, dotted, value):
    """document["a"]["b"] = value for dotted "a.b" (sections are created)."""
    keys = dotted.split(".")
    for key in keys[:-1]:
        if not isinstance(document.get(key), dict):
            document[key] = {}
        document = document[key]
    document[keys[-1]] = value


def check_profile(profile):
    if profile["sleep"] not in SLEEP_MODES:
        raise ConfigError("profile: sleep must be one of %s" % (SLEEP_MODES,))
    if profile["journal"]["policy"] not in POLICIES:
        raise ConfigError("profile: journal.policy must be one of %s" % (POLICIES,))
    if not profile["sample_interval"] or profile["sample_interval"] <= 0:
        raise ConfigError("profile: sample_interval must be a positive number of seconds")
    check_verify(profile["verify"], "profile")
    for sensor in profile["sensors"]:
        if not isinstance(sensor, dict) or "alias" not in sensor or "kind" not in sensor:
            raise ConfigError("profile: every sensor needs an alias and a kind")


def load_secrets(path):
    """The secrets file, checked: {"wifi": {"ssid", "password"}, and "cik" or
    "vendor"/"model" (else the profile's), optional "server": URL and
    "verify" (as the profile's)}."""
    secrets = read_json(path, "secrets file")
    wifi = secrets.get("wifi")
    if not isinstance(wifi, dict) or not isinstance(wifi.get("ssid"), str) or not wifi["ssid"]:
        raise ConfigError("secrets file %s needs \"wifi\": {\"ssid\": ..., \"password\": ...}"
                          % path)
    if not isinstance(wifi.get("password", ""), str):
        raise ConfigError("secrets file %s: wifi.password must be a string" % path)
    cik = secrets.get("cik")
    if cik is not None and not is_cik(cik):
        raise ConfigError("secrets file %s: cik must be 40 lowercase hex characters" % path)
    server = secrets.get("server")
    if server is not None:
        parse_server(server)
    if "verify" in secrets:
        check_verify(secrets["verify"], "secrets file %s" % path)
    return secrets


def check_verify(verify, where):
    if not (isinstance(verify, bool) or isinstance(verify, str) and verify):
        raise ConfigError("%s: verify must be true, false or the path of a CA file on the "
                          "board" % where)


def verify_of(profile, secrets):
    """The TLS check to use: the secrets file's "verify" if it has one,
    else the profile's."""
    return secrets.get("verify", profile["verify"]) if secrets else profile["verify"]


def is_cik(text):
    if not isinstance(text, str) or len(text) != 40:
        return False
    for character in text:
        if character not in "0123456789abcdef":
            return False
    return True


def mask(secret):
    """What may be logged of a credential: its first 4 characters. ASCII
    dots, not an ellipsis: MicroPython's repr escapes non-ASCII, and
    app.status() at the REPL would show \\u2026."""
    if not secret:
        return "(none)"
    return secret[:4] + "..."


def parse_server(url):
    """(host, port or None, https) from "https://host[:port]" / "http://..."."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError("server must be a URL such as https://m2.exosite.com")
    scheme, rest = url.split("://", 1)
    if scheme not in ("http", "https"):
        raise ConfigError("server must start with http:// or https://")
    host = rest.split("/", 1)[0]
    port = None
    if ":" in host:
        host, number = host.rsplit(":", 1)
        try:
            port = int(number)
        except ValueError:
            raise ConfigError("server port must be a number")
    if not host:
        raise ConfigError("server URL has no host")
    return host, port, scheme == "https"


def cik_path(secrets_path):
    """Where an activated CIK is kept: a small file next to the secrets."""
    return join(parent(secrets_path), CIK_NAME)


def load_cik(path):
    """The stored CIK, or None when there is none (or it is damaged)."""
    try:
        with open(path) as stream:
            text = stream.read().strip()
    except OSError:
        return None
    return text if is_cik(text) else None


def store_cik(path, cik):
    """Write the CIK atomically: a power cut leaves the old file or the new
    one, never half of one (LittleFS and POSIX renames replace in one step)."""
    temporary = path + ".tmp"
    with open(temporary, "w") as stream:
        stream.write(cik)
    os.rename(temporary, path)


def parse_args(argv):
    """Options from the unix port's command line:
    --board DIR --secrets FILE --set section.key=JSON (repeatable).
    A board has no command line: every option has the board's default."""
    options = {"board": "/", "secrets": SECRETS_PATH, "overrides": {}}
    index = 0
    while index < len(argv):
        name = argv[index]
        if name not in ("--board", "--secrets", "--set") or index + 1 >= len(argv):
            raise ConfigError("usage: main.py [--board DIR] [--secrets FILE] "
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
