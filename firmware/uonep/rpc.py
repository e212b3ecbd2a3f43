"""One Platform JSON-RPC, pure: build request bodies, parse answers.

Nothing here touches the network or the filesystem. This module holds what
a sampling device runs: checking a CIK, a resource and a value, writing the
JSON of a recordbatch request (encode_recordbatches, point_bytes, dumps)
and reading the answer (decode_response). The builders of calls
(uonep.builders: read, write ..., encode_request; uonep.admin: create,
info ...) and the explanations of refused input are loaded on first use;
rpc.write, rpc.encode_request and friends still reach them.

The body is byte-identical under MicroPython and CPython: object keys are
written sorted, and strings and numbers are escaped the same way on both.
"""

import json
import sys

from .errors import AuthError, CallError, HTTPError, ProtocolError, RecordBatchError, RequestError, ServerError

PATH = "/onep:v1/rpc/process"
CONTENT_TYPE = "application/json; charset=utf-8"
# Integer dataports hold signed 64-bit values; larger ints cannot be stored.
_LIMIT = 1 << 63
# The deepest nesting of arrays and objects an answer may have (One
# Platform answers nest 5 or 6 deep).
MAX_DEPTH = 32
# MicroPython's json.dumps writes strings as the bodies want them; CPython's
# writer is uonep.builders.host_text (set at the end of this module).
_text = json.dumps


def _refuse(what, item, name=None):
    # The explanation of refused input lives with the builders: bad input
    # is rare on a device, and its messages are bytes a board keeps loaded.
    from .builders import refusal
    return refusal(what, item, name)


# -- input checks -------------------------------------------------------------

def is_hex40(text):
    """True for a well-formed CIK, RID or share code: 40 lowercase hex digits."""
    if not isinstance(text, str) or len(text) != 40:
        return False
    for character in text:
        if character not in "0123456789abcdef":
            return False
    return True


def check_key(text, what):
    """Refuse a CIK/RID/code that is not 40 lowercase hex characters. The value
    itself is never quoted: it may be a secret."""
    if not is_hex40(text):
        raise _refuse("key", text, what)
    return text


def resource(spec):
    """A <ResourceID>: a 40-hex RID, an alias string, or {"alias": name}
    ({"alias": ""} is the calling client itself)."""
    if isinstance(spec, str):
        if is_hex40(spec):
            return spec
        if spec and not is_hex40(spec.lower()):
            return {"alias": spec}
    elif isinstance(spec, dict) and len(spec) == 1 and isinstance(spec.get("alias"), str):
        return {"alias": spec["alias"]}
    raise _refuse("resource", spec)


def value(item):
    """A dataport value: int, float or str. No bool, None, bytes, containers,
    nan or inf (MicroPython would write nan/inf, which is not JSON)."""
    kind = type(item)
    # inf - inf and nan - nan are both nan, which is never equal to 0.
    if kind is str or kind is float and item - item == 0.0 or kind is int and \
            -_LIMIT <= item < _LIMIT:
        return item
    raise _refuse("value", item)


def timestamp(item):
    """A Unix timestamp in whole seconds (negative: seconds before now)."""
    if type(item) is float and item - item == 0.0:
        item = int(item)
    if type(item) is not int or not -_LIMIT <= item < _LIMIT:
        raise _refuse("timestamp", item)
    return item


def auth(cik=None, client_id=None, resource_id=None, token=None):
    """One of the four auth forms: cik; cik + client_id (act as a descendant
    client); cik + resource_id (act as the owner of a descendant); token."""
    if client_id is None and resource_id is None and token is None:
        return {"cik": check_key(cik, "CIK")}
    from .builders import auth
    return auth(cik, client_id, resource_id, token)


def __getattr__(name):
    # The builders live in modules loaded on first use (a sampling device
    # sends recordbatches it encodes itself and calls none of them): the
    # data procedures (read, write ..., encode_request) in uonep.builders,
    # the management ones (create, info, listing, share ...) in uonep.admin.
    # Never for a dunder: CPython asks for __path__ while builders imports
    # from here.
    if name[:2] == "__":
        raise AttributeError(name)
    from . import builders
    if hasattr(builders, name):
        return getattr(builders, name)
    from . import admin
    try:
        return getattr(admin, name)
    except AttributeError:
        raise AttributeError(name)


# -- encoding -----------------------------------------------------------------

def _encode(item, out):
    kind = type(item)
    if kind is str:
        out.append(_text(item))
    elif kind is float and item - item == 0.0:
        out.append(repr(item))
    elif kind is int or kind is bool or item is None:
        out.append(json.dumps(item))
    elif kind is list or kind is tuple:
        out.append("[")
        for index, element in enumerate(item):
            if index:
                out.append(",")
            _encode(element, out)
        out.append("]")
    elif kind is dict:
        out.append("{")
        for index, key in enumerate(sorted(item)):
            if type(key) is not str:
                raise _refuse("json key", key)
            out.append("%s%s:" % ("," if index else "", _text(key)))
            _encode(item[key], out)
        out.append("}")
    else:
        raise _refuse("json", item)


def dumps(item):
    """Compact, key-sorted JSON text, identical on both runtimes."""
    out = []
    _encode(item, out)
    return "".join(out)


def point_bytes(timestamp, item):
    """One recordbatch point, b"[timestamp,value]", as encode_request writes it."""
    return dumps([timestamp, item]).encode()


def encode_recordbatches(credentials, batches, first_id=1):
    """A request of recordbatch calls whose points are already encoded:
    batches is [(resource, b"[ts,v],[ts,v]"), ...]; call ids count from
    first_id. The bytes equal encode_request's for the same calls, but a
    device needs ~20 bytes of heap per point instead of a list and a float
    object each."""
    # The pieces first (small), then the body in one allocation (join
    # sizes it before copying): growing it piece by piece would leave a
    # trail of freed copies in a small heap.
    pieces = [b'{"auth":%s,"calls":[' % dumps(credentials).encode()]
    for index, (spec, points) in enumerate(batches):
        pieces.append(b'%s{"arguments":[%s,[' % (b"," if index else b"",
                                                  dumps(resource(spec)).encode()))
        pieces.append(points)
        pieces.append(b']],"id":%d,"procedure":"recordbatch"}' % (first_id + index))
    pieces.append(b"]}")
    return b"".join(pieces)


# -- decoding -----------------------------------------------------------------

def decode_response(status, body, calls, ids):
    """One entry per call, in call order: the call's result (None when the
    procedure returns nothing or the call had no id), or a CallError instance
    for a call that failed. Raises RequestError/AuthError/ServerError,
    HTTPError or ProtocolError when the answer fails as a whole."""
    if status != 200:
        raise _status_error(status, body)
    answer = _load(body)
    if type(answer) is dict:
        raise _request_error(answer)
    wanted = {}
    for index, call_id in enumerate(ids):
        if call_id is not None:
            wanted[call_id] = index
    results = [None] * len(calls)
    if answer is None and wanted or answer is not None and type(answer) is not list:
        raise ProtocolError("the answer is %s, not a list of %d call(s)"
                            % (type(answer).__name__, len(wanted)))
    for entry in answer or ():
        if type(entry) is not dict or "status" not in entry:
            raise ProtocolError("an answer entry is not {id, status, ...}")
        call_id = entry.get("id")
        # True == 1 and 1.0 == 1 in Python; only an id of the very same type
        # matches, and each once.
        index = wanted.pop(call_id, None) if type(call_id) in (int, str) else None
        if index is None:
            raise ProtocolError("an answer entry has no, an unknown or a repeated id")
        results[index] = _outcome(entry, calls[index][0], call_id)
    if wanted:
        raise ProtocolError("the answer lacks call id(s) %s" % ", ".join(
            repr(call_id) for call_id in wanted))
    return results


def _load(body):
    if body is None:
        return None
    if type(body) not in (bytes, bytearray, str):
        raise ProtocolError("the answer body is a %s" % type(body).__name__)
    if not body.strip():
        return None
    if not _shallow(body):
        raise ProtocolError("the answer nests deeper than %d levels" % MAX_DEPTH)
    try:
        return json.loads(body)
    except Exception as failure:  # ValueError, UnicodeError, RecursionError, ...
        raise ProtocolError("the answer is not JSON (%d bytes, %s)"
                            % (len(body), type(failure).__name__))


def _shallow(body):
    """Whether the JSON text nests at most MAX_DEPTH arrays and objects:
    deeper nesting would exhaust the parser's stack or heap. Brackets in
    strings do not count; the byte loop runs only for bodies with many."""
    if type(body) is str:
        body = body.encode()
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return True
    depth = 0
    quoted = escaped = False
    for byte in body:
        if escaped:
            escaped = False
        elif quoted:
            escaped = byte == 92        # backslash
            quoted = byte != 34         # closing quote
        elif byte == 34:
            quoted = True
        elif byte == 91 or byte == 123:     # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif byte == 93 or byte == 125:     # ] }
            depth -= 1
    return True


def _status_error(status, body):
    """A non-200 answer: its JSON error object if it has one (some gateways
    send {"error": ...} with a 4xx/5xx), else an error for the status."""
    try:
        answer = _load(body)
    except ProtocolError:
        answer = None
    if type(answer) is dict and type(answer.get("error")) is dict:
        return _request_error(answer)
    if status in (401, 403):
        return AuthError(401, "HTTP %d" % status, "auth")
    return HTTPError(status)


def _request_error(answer):
    error = answer.get("error")
    if type(error) is not dict:
        raise ProtocolError("a JSON object answer without an error object")
    code = error.get("code")
    message = error.get("message")
    context = error.get("context")
    kind = AuthError if code == 401 else ServerError if code == 500 else RequestError
    return kind(code, message if type(message) is str else "",
                context if type(context) is str else None)


def _outcome(entry, procedure, call_id):
    status = entry["status"]
    if status == "ok":
        return entry.get("result")
    if type(status) is list:
        for point in status:
            if type(point) is not list or len(point) != 2:
                raise ProtocolError("a partial status is not [[timestamp, reason], ...]")
        return RecordBatchError(procedure, call_id, status)
    if type(status) is not str:
        raise ProtocolError("a call status is neither a string nor a list")
    error = entry.get("error")
    return CallError(procedure, call_id, status, error if type(error) is dict else None)


if sys.implementation.name != "micropython":
    # CPython writes \b, \f and non-ASCII text unlike MicroPython: its own
    # writer, imported once this module's names exist (builders uses them).
    from .builders import host_text as _text  # noqa: E402,F811
