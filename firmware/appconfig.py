"""Configuration of the device application: the board profile (JSON, in the
repository), the secrets file (WiFi and credentials, never in git) and the
CIK stored after activation.

    profile = load_profile("/")                 # /board.json on a board
    secrets = load_secrets("/secrets.json")     # raises ConfigError, with a fix
    store_cik(cik_path("/secrets.json"), cik)   # atomic: tmp file + rename

Reading and checking the files is a boot's job: its code (profilecheck.py,
configfiles.py) is loaded for it and dropped after (once), so what stays in
a board's heap is this small module. Nothing here prints or raises a
secret: messages name the file and the field that is wrong, never its
content.
"""

import gc
import os
import sys

from uonep.errors import ValidationError
from uonep.rpc import is_hex40

SECRETS_PATH = "/secrets.json"
SECRETS_EXAMPLE = ('{"wifi": {"ssid": "MyNetwork", "password": "..."}, '
                   '"cik": "<40 hex characters>"}')


class ConfigError(ValidationError):
    """A profile or secrets file that cannot be used; the message says how
    to fix it and never quotes the file's content. Not retryable (a
    ValidationError): nothing changes until someone fixes the file."""


def once(name, function, *args):
    """function(*args) of module `name`, a job a board does once a boot
    (or at the REPL): the module is loaded for the call and dropped from
    sys.modules after, so its code does not sit in the heap for months.
    Collected at once, its place is reused from the start instead of being
    left as holes between what comes next."""
    module = __import__(name)
    try:
        return getattr(module, function)(*args)
    finally:
        sys.modules.pop(name, None)
        del module
        gc.collect()


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
    return once("profilecheck", "load", folder, overrides)


def parse_args(argv):
    """Options from the unix port's command line:
    --board DIR --secrets FILE --set section.key=JSON (repeatable)."""
    return once("profilecheck", "parse_args", argv)


def load_secrets(path):
    """The secrets file, checked: {"wifi": {"ssid", "password"}, and "cik" or
    "vendor"/"model" (else the profile's), optional "server": URL and
    "verify" (as the profile's)} (configfiles.load_secrets)."""
    found, problem = once("configfiles", "secrets", path)
    if problem is not None:
        raise ConfigError(problem)
    return found


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
