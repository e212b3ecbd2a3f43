"""Resource descriptions: the defaults `create` fills in and the checks
`create` and `update` make, per resource type. Pure functions; references
to other resources (subscribe, preprocess operands) are resolved by the
procedures, which can see the store.

Keys a description does not document are kept as given at create (pyonep
sends "limits" to dataports, "writeinterval" and "visibility" to clients);
`update` may change documented keys and keys the description already has.
"""

from . import preprocess, timeseries
from .errors import invalid
from .timeseries import show

RETENTION = {"count": "infinity", "duration": "infinity"}
RULE_KINDS = ("simple", "timeout", "interval", "duration", "count", "script")
METHODS = ("email", "http_get", "http_post", "http_put", "sms", "xmpp")


def _client_defaults():
    return {"limits": {}, "locked": False, "meta": "", "name": "", "public": False}


def _series_defaults():
    return {"meta": "", "name": "", "preprocess": [], "public": False,
            "retention": dict(RETENTION), "subscribe": None}


def _dataport_defaults():
    return dict(_series_defaults(), format=None)


def _datarule_defaults():
    return dict(_series_defaults(), format=None, rule=None)


def _dispatch_defaults():
    return dict(_series_defaults(), locked=False, message="", method=None, recipient=None,
                subject="")


DEFAULTS = {"client": _client_defaults, "dataport": _dataport_defaults,
            "datarule": _datarule_defaults, "dispatch": _dispatch_defaults}
TYPES = tuple(DEFAULTS)


def describe(kind, given):
    """The full description of a new resource of `kind` from what create was
    given, or CallFailure "invalid" saying what is wrong."""
    if not isinstance(given, dict):
        raise invalid("a description is an object, not %s" % show(given))
    full = DEFAULTS[kind]()
    full.update(given)
    if "retention" in given and isinstance(given["retention"], dict):
        full["retention"] = dict(RETENTION, **given["retention"])
    check(kind, full)
    return full


def updated(kind, current, changes):
    """`current` with `changes` merged in, or CallFailure "invalid"."""
    if not isinstance(changes, dict):
        raise invalid("a description is an object, not %s" % show(changes))
    unknown = sorted(set(changes) - set(DEFAULTS[kind]()) - set(current))
    if unknown:
        raise invalid("%s is not a key of a %s description" % (show(unknown[0]), kind))
    if "format" in changes and changes["format"] != current.get("format"):
        raise invalid("a %s's format cannot change (it is %s)"
                      % (kind, show(current.get("format"))))
    merged = dict(current, **changes)
    if isinstance(changes.get("retention"), dict):
        merged["retention"] = dict(current.get("retention") or RETENTION, **changes["retention"])
    check(kind, merged)
    return merged


def check(kind, full):
    """CallFailure "invalid" unless a full description of `kind` is usable."""
    _text(full, "name")
    _text(full, "meta")
    _flag(full, "public")
    if kind == "client":
        _flag(full, "locked")
        if not isinstance(full["limits"], dict):
            raise invalid("limits is an object, not %s" % show(full["limits"]))
        return
    if not timeseries.valid_retention(full["retention"]):
        raise invalid("retention is {\"count\": n|\"infinity\", \"duration\": hours|\"infinity\"},"
                      " not %s" % show(full["retention"]))
    trouble = preprocess.problem(full["preprocess"])
    if trouble:
        raise invalid(trouble)
    subscribe = full["subscribe"]
    if subscribe is not None and preprocess.reference(subscribe) is None:
        raise invalid("subscribe is a RID, an alias or null, not %s" % show(subscribe))
    if kind in ("dataport", "datarule") and full["format"] not in timeseries.FORMATS:
        raise invalid("format is float, integer or string, not %s" % show(full["format"]))
    if kind == "datarule":
        _check_rule(full["rule"])
    if kind == "dispatch":
        _check_dispatch(full)


def _check_rule(rule):
    if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in RULE_KINDS:
        raise invalid("a datarule's rule is one of {%s: ...}, not %s"
                      % (", ".join(RULE_KINDS), show(rule)))
    kind, body = next(iter(rule.items()))
    if kind == "script" and not isinstance(body, str):
        raise invalid("a script rule is {\"script\": \"<Lua source>\"}")
    if kind != "script" and not isinstance(body, dict):
        raise invalid("a %s rule's settings are an object" % kind)


def _check_dispatch(full):
    if full["method"] not in METHODS:
        raise invalid("a dispatch's method is one of %s, not %s"
                      % (", ".join(METHODS), show(full["method"])))
    if not isinstance(full["recipient"], str) or not full["recipient"]:
        raise invalid("a dispatch needs a recipient")
    _text(full, "subject")
    _text(full, "message")
    _flag(full, "locked")


def _text(full, key):
    if not isinstance(full[key], str):
        raise invalid("%s is a string, not %s" % (key, show(full[key])))


def _flag(full, key):
    if not isinstance(full[key], bool):
        raise invalid("%s is true or false, not %s" % (key, show(full[key])))
