"""Configuration of the device application: the board profile (JSON, in the
repository), the secrets file (WiFi and credentials, never in git) and the
CIK stored after activation.

    profile = load_profile("/")                 # /board.json on a board
    secrets = load_secrets("/secrets.json")     # raises ConfigError, with a fix
    store_cik(cik_path("/secrets.json"), cik)   # atomic: tmp file + rename

Nothing here prints or raises a secret: messages name the file and the
field that is wrong, never its content.
"""

import errno
import gc
import json
import os
import sys

from uonep.errors import ValidationError
from uonep.rpc import check_key, is_hex40
from uonep.transport import parse_server as _parse_server

SECRETS_PATH = "/secrets.json"
CIK_NAME = "cik"
SECRETS_EXAMPLE = ('{"wifi": {"ssid": "MyNetwork", "password": "..."}, '
                   '"cik": "<40 hex characters>"}')

# Read bounds: a secrets file holds a few short strings; a larger file is
# a mistake, and reading it whole could take the heap a board needs.
SECRETS_BYTES = 2048


class ConfigError(Exception):
    """A profile or secrets file that cannot be used; the message says how
    to fix it and never quotes the file's content."""

    # Nothing changes by trying again: someone must fix the file.
    retryable = False


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


def read_json(path, what, limit):
    """The JSON object in the file at path (at most limit bytes), or
    ConfigError saying what is wrong with it, whatever the failure."""
    problem = document = None
    try:
        # The size first: a buffer of the limit would cost as much heap as
        # the largest file, and the parser reads the stream itself.
        if os.stat(path)[6] > limit:
            problem = "is larger than %d bytes" % limit
        else:
            with open(path, encoding="utf-8") as stream:
                document = json.load(stream)
    except OSError as failure:
        problem = "is missing" if failure.errno == errno.ENOENT else \
            "cannot be read (%s)" % failure
    except UnicodeError:
        problem = "is not UTF-8 text"
    except ValueError:
        # The text may hold a password: say where, never what.
        problem = "is not valid JSON"
    except Exception as failure:
        # MemoryError on a small heap; RecursionError from CPython's parser.
        problem = "cannot be read (%s)" % type(failure).__name__
    if problem is None and not isinstance(document, dict):
        problem = "must be a JSON object {...}"
    if problem is not None:
        raise ConfigError("%s %s %s" % (what, path, problem))
    return document


def load_profile(folder, overrides=None):
    """The board profile in folder (board.json, or profile.json in the
    repository's boards/NAME/), merged over the defaults and checked."""
    return _at_boot("load", folder, overrides)


def parse_args(argv):
    """Options from the unix port's command line:
    --board DIR --secrets FILE --set section.key=JSON (repeatable)."""
    return _at_boot("parse_args", argv)


def _at_boot(name, *args):
    # Loading the profile is a boot-time job: profilecheck (the defaults,
    # the overrides, the checks) is loaded for it and dropped after it, so
    # its code does not sit in the heap for months.
    import profilecheck
    try:
        return getattr(profilecheck, name)(*args)
    finally:
        sys.modules.pop("profilecheck", None)
        # Collected at once, its place is reused from the start instead of
        # being left as holes between what comes next (measured in make bench).
        gc.collect()


def load_secrets(path):
    """The secrets file, checked: {"wifi": {"ssid", "password"}, and "cik" or
    "vendor"/"model" (else the profile's), optional "server": URL and
    "verify" (as the profile's)}."""
    secrets = read_json(path, "secrets file", SECRETS_BYTES)
    wifi = secrets.get("wifi")
    if not isinstance(wifi, dict) or not isinstance(wifi.get("ssid"), str) or not wifi["ssid"]:
        raise ConfigError("secrets file %s needs \"wifi\": {\"ssid\": ..., \"password\": ...}"
                          % path)
    if not isinstance(wifi.get("password", ""), str):
        raise ConfigError("secrets file %s: wifi.password must be a string" % path)
    cik = secrets.get("cik")
    if cik is not None:
        try:
            check_key(cik, "cik")
        except ValidationError as failure:
            raise ConfigError("secrets file %s: %s" % (path, failure))
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
    return is_hex40(text)


def mask(secret):
    """What may be logged of a credential: its first 4 characters. ASCII
    dots, not an ellipsis: MicroPython's repr escapes non-ASCII, and
    app.status() at the REPL would show \\u2026."""
    if not secret:
        return "(none)"
    return secret[:4] + "..."


def parse_server(url):
    """(https, host, port or None) of "https://host[:port]" / "http://...",
    by the core's parser; a ConfigError for anything else."""
    try:
        return _parse_server(url)
    except ValidationError as failure:
        raise ConfigError(str(failure))


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
