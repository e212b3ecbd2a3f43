"""The configuration files read at boot: the JSON reader the profile and
the secrets file share, the secrets file's checks, and the file functions
appconfig names (load_profile, parse_args, mask, cik_path, load_cik,
store_cik, join, parent, exists, makedirs). The checks say what is wrong
in a sentence (appconfig.load_secrets and profilecheck raise it as a
ConfigError). Loaded for the boot's jobs and dropped with them
(appconfig.once), like profilecheck: a board keeps neither in its heap
while it samples.

Nothing here prints or returns a secret: messages name the file and the
field that is wrong, never its content.
"""

import errno
import json
import os

import appconfig
from uonep.client import parse_server
from uonep.errors import ValidationError
from uonep.rpc import check_key, is_hex40


def read_json(path, what, limit):
    """(the JSON object in the file at path (at most limit bytes), None),
    or (None, what is wrong with it), whatever the failure."""
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
        return None, "%s %s %s" % (what, path, problem)
    return document, None


def server_problem(url):
    """None for "https://host[:port]" / "http://...", by the core's
    parser; else what is wrong with it."""
    try:
        parse_server(url)
    except ValidationError as failure:
        return str(failure)
    return None


def secrets(path):
    """(the secrets file, None), or (None, what is wrong with it): see
    appconfig.load_secrets."""
    # Read bound: a secrets file holds a few short strings; a larger file is
    # a mistake, and reading it whole could take the heap a board needs.
    found, problem = read_json(path, "secrets file", 2048)
    if problem is None:
        problem = _check(found, "secrets file " + path)
    return (None, problem) if problem else (found, None)


def _check(found, where):
    wifi = found.get("wifi")
    if not isinstance(wifi, dict) or not isinstance(wifi.get("ssid"), str) or not wifi["ssid"]:
        return where + " needs \"wifi\": {\"ssid\": ..., \"password\": ...}"
    if not isinstance(wifi.get("password", ""), str):
        return where + ": wifi.password must be a string"
    cik = found.get("cik")
    if cik is not None:
        try:
            check_key(cik, "cik")
        except ValidationError as failure:
            return "%s: %s" % (where, failure)
    server = found.get("server")
    # The core's sentence as it is: it names the field itself.
    problem = None if server is None else server_problem(server)
    if problem is not None:
        return problem
    verify = found.get("verify", True)
    if not (isinstance(verify, bool) or isinstance(verify, str) and verify):
        return where + ": verify must be true, false or the path of a CA file on the board"
    return None


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


def load_profile(folder, overrides=None):
    """The board profile in folder (board.json, or profile.json in the
    repository's boards/NAME/), merged over the defaults and checked
    (profilecheck.load)."""
    return appconfig.once("profilecheck", "load", folder, overrides)


def parse_args(argv):
    """Options from the unix port's command line:
    --board DIR --secrets FILE --set section.key=JSON (repeatable)."""
    return appconfig.once("profilecheck", "parse_args", argv)


def mask(secret):
    """What may be logged of a credential: its first 4 characters. ASCII
    dots, not an ellipsis: MicroPython's repr escapes non-ASCII, and
    app.status() at the REPL would show \\u2026."""
    if not secret:
        return "(none)"
    return secret[:4] + "..."


def cik_path(secrets_path):
    """Where an activated CIK is kept: a small file next to the secrets."""
    return join(parent(secrets_path), "cik")


def load_cik(path):
    """The stored CIK, or None when there is none (or it is damaged)."""
    try:
        with open(path) as stream:
            text = stream.read().strip()
    except OSError:
        return None
    return text if is_hex40(text) else None


def store_cik(path, cik):
    """Write the CIK atomically: a power cut leaves the old file or the new
    one, never half of one (LittleFS and POSIX renames replace in one step)."""
    temporary = path + ".tmp"
    with open(temporary, "w") as stream:
        stream.write(cik)
    os.rename(temporary, path)
