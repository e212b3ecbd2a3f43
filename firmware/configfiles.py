"""The configuration files read at boot: the JSON reader the profile and
the secrets file share, and the secrets file's checks. Each function says
what is wrong in a sentence (appconfig and profilecheck raise it as a
ConfigError). Loaded for a read and dropped after (appconfig.once), like
profilecheck: a board keeps neither in its heap while it samples.

Nothing here prints or returns a secret: messages name the file and the
field that is wrong, never its content.
"""

import errno
import json
import os

from uonep.errors import ValidationError
from uonep.rpc import check_key
from uonep.client import parse_server

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
