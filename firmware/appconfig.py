"""Configuration of the device application: the board profile (JSON, in the
repository), the secrets file (WiFi and credentials, never in git) and the
CIK stored after activation.

    profile = load_profile("/")                 # /board.json on a board
    secrets = load_secrets("/secrets.json")     # raises ConfigError, with a fix
    store_cik(cik_path("/secrets.json"), cik)   # atomic: tmp file + rename

Reading and checking the files is a boot's job: its code (profilecheck.py,
configfiles.py) is loaded for it and dropped after (once), so what stays in
a board's heap is this small module: once, ConfigError and the secrets
file's default path and example. The file functions (load_profile,
parse_args, mask, cik_path, load_cik, store_cik, and the path
helpers join, parent, exists, makedirs) are configfiles', named here as
well: `appconfig.load_cik` and `from appconfig import load_cik` load
configfiles, which the next once() drops again. Nothing here prints or
raises a secret: messages name the file and the field that is wrong, never
its content.
"""

import gc
import sys

from uonep.errors import ValidationError

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
        # The file functions the job used (see __getattr__) go with it.
        sys.modules.pop("configfiles", None)
        del module
        gc.collect()


def load_secrets(path):
    """The secrets file, checked: {"wifi": {"ssid", "password"}, and "cik" or
    "vendor"/"model" (else the profile's), optional "server": URL and
    "verify" (as the profile's)} (configfiles.load_secrets)."""
    found, problem = once("configfiles", "secrets", path)
    if problem is not None:
        raise ConfigError(problem)
    return found


def __getattr__(name):
    # The file functions: configfiles', whose code a board keeps in its heap
    # only during the boot's jobs (once drops it). Never for a private name
    # (CPython asks for __path__ and friends).
    if name[:1] == "_":
        raise AttributeError(name)
    import configfiles
    return getattr(configfiles, name)
