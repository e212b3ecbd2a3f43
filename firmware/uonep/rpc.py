"""One Platform JSON-RPC, pure: build request bodies, parse answers.

Nothing here touches the network or the filesystem. A call is a pair
``(procedure, arguments)`` made by one of the builders below, which check
their inputs; ``encode_request`` turns an auth and a list of calls into the
compact UTF-8 body, and ``decode_response`` turns the HTTP status and body
back into one result per call (or a CallError in its place), raising the
documented errors for answers that fail as a whole.

The body is byte-identical under MicroPython and CPython: object keys are
written sorted, and strings and numbers are escaped the same way on both.
"""

import json
import sys

from .errors import (AuthError, CallError, HTTPError, ProtocolError,
                     RecordBatchError, RequestError, ServerError,
                     ValidationError)

PATH = "/onep:v1/rpc/process"
CONTENT_TYPE = "application/json; charset=utf-8"

_HEX = "0123456789abcdef"
# Integer dataports hold signed 64-bit values; larger ints cannot be stored.
_INT_LIMIT = 1 << 63
_MICROPYTHON = sys.implementation.name == "micropython"

# The deepest nesting of arrays and objects an answer may have (One
# Platform answers nest 5 or 6 deep).
MAX_DEPTH = 32
# wait is a long poll the server caps at 5 minutes.
WAIT_MAX_MS = 300000


# -- input checks -------------------------------------------------------------

def is_hex40(text):
    """True for a well-formed CIK, RID or share code: 40 lowercase hex digits."""
    if not isinstance(text, str) or len(text) != 40:
        return False
    for character in text:
        if character not in _HEX:
            return False
    return True


def check_key(text, what):
    """Refuse a CIK/RID/code that is not 40 lowercase hex characters. The value
    itself is never quoted: it may be a secret."""
    if not is_hex40(text):
        if not isinstance(text, str):
            problem = "got %s" % _describe(text)
        elif len(text) != 40:
            problem = "got %d characters" % len(text)
        elif is_hex40(text.lower()):
            problem = "got uppercase letters"
        else:
            problem = "got characters other than 0-9 and a-f"
        raise ValidationError("%s must be 40 lowercase hex characters (%s)" % (what, problem))
    return text


def _describe(value):
    """Say what a bad value is without printing it (it may be a secret)."""
    if isinstance(value, str):
        return "a string of length %d" % len(value)
    return type(value).__name__


def check_alias(name):
    if not isinstance(name, str) or not name:
        raise ValidationError("an alias must be a non-empty string (got %s)"
                              % _describe(name))
    return name


def resource(spec):
    """A <ResourceID>: a 40-hex RID, an alias string, or {"alias": name}
    ({"alias": ""} is the calling client itself)."""
    if isinstance(spec, str):
        if is_hex40(spec):
            return spec
        if len(spec) == 40 and is_hex40(spec.lower()):
            raise ValidationError("a RID must be lowercase hex")
        return {"alias": check_alias(spec)}
    if isinstance(spec, dict) and len(spec) == 1 and isinstance(spec.get("alias"), str):
        return {"alias": spec["alias"]}
    raise ValidationError("a resource is an alias string, a 40-hex RID or "
                          "{'alias': name} (got %s)" % _describe(spec))


def value(item):
    """A dataport value: int, float or str. No bool, None, bytes, containers,
    nan or inf (MicroPython would write nan/inf, which is not JSON)."""
    kind = type(item)
    if kind is int:
        if not -_INT_LIMIT <= item < _INT_LIMIT:
            raise ValidationError("integer value out of the signed 64-bit range")
        return item
    if kind is float:
        # inf - inf and nan - nan are both nan, which is never equal to 0.
        if item - item != 0.0:
            raise ValidationError("value %r is not a finite number" % item)
        return item
    if kind is str:
        return item
    raise ValidationError("a value must be int, float or str (got %s)" % kind.__name__)


def timestamp(item):
    """A Unix timestamp in whole seconds (negative: seconds before now)."""
    if type(item) is float and item - item == 0.0:
        item = int(item)
    if type(item) is not int or not -_INT_LIMIT <= item < _INT_LIMIT:
        raise ValidationError("a timestamp must be an int of seconds (got %s)"
                              % _describe(item))
    return item


def __getattr__(name):
    # The builders live in modules loaded on first use (a sampling device
    # sends recordbatches it encodes itself and calls none of them): the
    # data procedures (read, write ...) in uonep.builders, the management
    # ones (create, info, listing, share ...) in uonep.admin. Never for a
    # dunder: CPython asks for __path__ while builders imports from here.
    if name.startswith("__"):
        raise AttributeError(name)
    from . import builders
    if hasattr(builders, name):
        return getattr(builders, name)
    from . import admin
    try:
        return getattr(admin, name)
    except AttributeError:
        raise AttributeError(name)


# -- auth ---------------------------------------------------------------------

def auth(cik=None, client_id=None, resource_id=None, token=None):
    """One of the four auth forms: cik; cik + client_id (act as a descendant
    client); cik + resource_id (act as the owner of a descendant); token."""
    if token is not None:
        if cik is not None or client_id is not None or resource_id is not None:
            raise ValidationError("a token is used alone, without CIK or ids")
        if not isinstance(token, str) or not token:
            raise ValidationError("a token must be a non-empty string")
        return {"token": token}
    credentials = {"cik": check_key(cik, "CIK")}
    if client_id is not None and resource_id is not None:
        raise ValidationError("give client_id or resource_id, not both")
    if client_id is not None:
        credentials["client_id"] = check_key(client_id, "client_id")
    if resource_id is not None:
        credentials["resource_id"] = check_key(resource_id, "resource_id")
    return credentials


# -- encoding -----------------------------------------------------------------

def _string(text, out):
    # json.dumps agrees on both runtimes except for \b and \f (MicroPython
    # writes \u0008, \u000c); write those two the MicroPython way everywhere.
    if _MICROPYTHON:
        out.append(json.dumps(text))
    elif "\b" in text or "\f" in text:
        chunks = []
        start = 0
        for position, character in enumerate(text):
            if character == "\b" or character == "\f":
                chunks.append(json.dumps(text[start:position], ensure_ascii=False)[1:-1])  # type: ignore[call-overload]
                chunks.append("\\u0008" if character == "\b" else "\\u000c")
                start = position + 1
        chunks.append(json.dumps(text[start:], ensure_ascii=False)[1:-1])  # type: ignore[call-overload]
        out.append('"' + "".join(chunks) + '"')
    else:
        # CPython only (the ESP32 json has no ensure_ascii): write UTF-8 as is, like MicroPython.
        out.append(json.dumps(text, ensure_ascii=False))  # type: ignore[call-overload]


def _encode(item, out):
    kind = type(item)
    if kind is str:
        _string(item, out)
    elif kind is float:
        if item - item != 0.0:
            raise ValidationError("%r is not JSON" % item)
        out.append(repr(item))
    elif kind is int or kind is bool or item is None:
        out.append(json.dumps(item))
    elif kind is list or kind is tuple:
        out.append("[")
        first = True
        for element in item:
            if not first:
                out.append(",")
            first = False
            _encode(element, out)
        out.append("]")
    elif kind is dict:
        out.append("{")
        first = True
        for key in sorted(item):
            if type(key) is not str:
                raise ValidationError("JSON object keys must be strings")
            if not first:
                out.append(",")
            first = False
            _string(key, out)
            out.append(":")
            _encode(item[key], out)
        out.append("}")
    else:
        raise ValidationError("cannot send a %s in a request" % kind.__name__)


def dumps(item):
    """Compact, key-sorted JSON text, identical on both runtimes."""
    out = []
    _encode(item, out)
    return "".join(out)


def encode_request(credentials, calls, ids):
    """The request body (bytes). calls: [(procedure, arguments), ...];
    ids: one per call, an int or a string of at most 40 characters, or None
    for a call whose answer is not wanted. Ids must be unique."""
    if not calls or len(calls) != len(ids):
        raise ValidationError("a request needs one id (or None) per call")
    seen = set()
    out = ['{"auth":']
    _encode(credentials, out)
    out.append(',"calls":[')
    for index, (procedure, arguments) in enumerate(calls):
        call_id = ids[index]
        if call_id is not None:
            _check_id(call_id)
            if call_id in seen:
                raise ValidationError("call id %r is used twice" % (call_id,))
            seen.add(call_id)
        if index:
            out.append(",")
        out.append('{"arguments":')
        _encode(arguments, out)
        if call_id is not None:
            out.append(',"id":')
            _encode(call_id, out)
        out.append(',"procedure":')
        _string(procedure, out)
        out.append("}")
    out.append("]}")
    return "".join(out).encode("utf-8")


def point_bytes(timestamp, item):
    """One recordbatch point, b"[timestamp,value]", as encode_request writes it."""
    out = []
    _encode([timestamp, item], out)
    return "".join(out).encode("utf-8")


def encode_recordbatches(credentials, batches, first_id=1):
    """A request of recordbatch calls whose points are already encoded:
    batches is [(resource, b"[ts,v],[ts,v]"), ...]; call ids count from
    first_id. The bytes equal encode_request's for the same calls, but a
    device needs ~20 bytes of heap per point instead of a list and a float
    object each."""
    # The pieces first (small), then the body in one allocation: growing
    # it piece by piece would leave a trail of freed copies in a small heap.
    pieces = [b'{"auth":' + dumps(credentials).encode("utf-8") + b',"calls":[']
    for index, (spec, points) in enumerate(batches):
        pieces.append(b'%s{"arguments":[%s,[' % (b"," if index else b"",
                                                  dumps(resource(spec)).encode("utf-8")))
        pieces.append(points)
        pieces.append(b']],"id":%d,"procedure":"recordbatch"}' % (first_id + index))
    pieces.append(b"]}")
    body = bytearray(sum(len(piece) for piece in pieces))
    at = 0
    for piece in pieces:
        body[at:at + len(piece)] = piece
        at += len(piece)
    return body


def _check_id(call_id):
    if type(call_id) is int:
        return
    if type(call_id) is str and 0 < len(call_id) <= 40:
        return
    raise ValidationError("a call id is an int or a string of 1 to 40 characters")


# -- decoding -----------------------------------------------------------------

def decode_response(status, body, calls, ids):
    """One entry per call, in call order: the call's result (None when the
    procedure returns nothing or the call had no id), or a CallError instance
    for a call that failed. Raises RequestError/AuthError/ServerError,
    HTTPError or ProtocolError when the answer fails as a whole."""
    if status != 200:
        raise _status_error(status, body)
    answer = _load(body)
    if isinstance(answer, dict):
        raise _request_error(answer)
    wanted = {}
    for index, call_id in enumerate(ids):
        if call_id is not None:
            wanted[call_id] = index
    results = [None] * len(calls)
    if answer is None:
        if wanted:
            raise ProtocolError("empty answer to %d call(s) with ids" % len(wanted))
        return results
    if not isinstance(answer, list):
        raise ProtocolError("the answer is a %s, not a list" % type(answer).__name__)
    for entry in answer:
        index = _match(entry, wanted)
        results[index] = _outcome(entry, calls[index][0], ids[index])
    if wanted:
        raise ProtocolError("the answer lacks call id(s) %s" % ", ".join(
            repr(call_id) for call_id in wanted))
    return results


def _load(body):
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        if not body.strip():
            return None
    elif isinstance(body, str):
        if not body.strip():
            return None
    else:
        raise ProtocolError("the answer body is a %s" % type(body).__name__)
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
    if isinstance(body, str):
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
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        return _request_error(answer)
    if status in (401, 403):
        return AuthError(401, "HTTP %d" % status, "auth")
    return HTTPError(status)


def _request_error(answer):
    error = answer.get("error")
    if not isinstance(error, dict):
        raise ProtocolError("a JSON object answer without an error object")
    code = error.get("code")
    message = error.get("message")
    message = message if isinstance(message, str) else ""
    context = error.get("context")
    context = context if isinstance(context, str) else None
    if code == 401:
        return AuthError(code, message, context)
    if code == 500:
        return ServerError(code, message, context)
    return RequestError(code, message, context)


def _match(entry, wanted):
    """The call index an answer entry belongs to; each id is used once."""
    if not isinstance(entry, dict) or "status" not in entry:
        raise ProtocolError("an answer entry is not {id, status, ...}")
    call_id = entry.get("id")
    # True == 1 and 1.0 == 1 in Python; only an id of the very same type matches.
    if type(call_id) is not int and type(call_id) is not str:
        raise ProtocolError("an answer entry has no usable id")
    index = wanted.pop(call_id, None)
    if index is None:
        raise ProtocolError("an answer entry has an unknown or repeated id %r" % (call_id,))
    return index


def _outcome(entry, procedure, call_id):
    status = entry["status"]
    if status == "ok":
        return entry.get("result")
    if isinstance(status, list):
        for point in status:
            if not isinstance(point, list) or len(point) != 2:
                raise ProtocolError("a partial status is not [[timestamp, reason], ...]")
        return RecordBatchError(procedure, call_id, status)
    if not isinstance(status, str):
        raise ProtocolError("a call status is neither a string nor a list")
    error = entry.get("error")
    return CallError(procedure, call_id, status, error if isinstance(error, dict) else None)
