"""One Platform JSON-RPC, pure: build request bodies, parse answers.

Nothing here touches the network or the filesystem. This module holds what
a sampling device runs: checking a CIK, a resource and a value, writing the
JSON of a recordbatch request (encode_recordbatches, point_bytes, dumps)
and reading the common answers (decode_response). The builders of calls
(uonep.builders: read, write ..., encode_request; uonep.admin: create,
info ...), the explanations of refused input, the JSON of what a device
never sends and the reading of the other answers (errors, refusals,
broken answers) are loaded on first use; rpc.write, rpc.encode_request
and friends still reach them.

The body is byte-identical under MicroPython and CPython: object keys are
written sorted, and strings and numbers are escaped the same way on both.
"""

import json
import sys

from .errors import AuthError, CallError, HTTPError, RecordBatchError, RequestError, ServerError

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


# -- input checks -------------------------------------------------------------

# The explanation of refused input (builders.refusal) lives with the
# builders: bad input is rare on a device, and its messages are bytes a
# board would keep loaded.
def is_hex40(text):
    """True for a well-formed CIK, RID or share code: 40 lowercase hex digits."""
    # Stripping the hex digits from both ends leaves nothing only when
    # every character is one.
    return isinstance(text, str) and len(text) == 40 and not text.strip("0123456789abcdef")


def check_key(text, what):
    """Refuse a CIK/RID/code that is not 40 lowercase hex characters. The value
    itself is never quoted: it may be a secret."""
    if not is_hex40(text):
        from .builders import refusal
        raise refusal("key", text, what)
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
    from .builders import refusal
    raise refusal("resource", spec)


def value(item):
    """A dataport value: int, float or str. No bool, None, bytes, containers,
    nan or inf (MicroPython would write nan/inf, which is not JSON)."""
    kind = type(item)
    # inf - inf and nan - nan are both nan, which is never equal to 0.
    if kind is str or kind is float and item - item == 0.0 or kind is int and \
            -_LIMIT <= item < _LIMIT:
        return item
    from .builders import refusal
    raise refusal("value", item)


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
    # data procedures (read, write ..., encode_request) and the check of a
    # given timestamp in uonep.builders,
    # the management ones (create, info, listing, share ...) in uonep.admin.
    # Never for a private name: CPython asks for __path__ while builders
    # imports from here.
    # (uonep.builders hands on the management ones.)
    if name[:1] == "_":
        raise AttributeError(name)
    from . import builders
    return getattr(builders, name)


# -- encoding -----------------------------------------------------------------

def dumps(item):
    """Compact, key-sorted JSON text, identical on both runtimes."""
    kind = type(item)
    if kind is str:
        return _text(item)
    # repr writes an int as JSON does; inf - inf and nan - nan are nan.
    if kind is int or kind is float and item - item == 0.0:
        return repr(item)
    if kind is dict and len(item) == 1:
        for key in item:
            if type(key) is str:
                return "{%s:%s}" % (_text(key), dumps(item[key]))
    # What a device never writes (arrays, larger objects, true, false,
    # null) and the refusal of what JSON cannot hold: uonep.builders.
    from . import builders
    return builders.dumps(item)


def point_bytes(timestamp, item):
    """One recordbatch point, b"[timestamp,value]", as encode_request writes it."""
    return ("[%s,%s]" % (dumps(timestamp), dumps(item))).encode()


def encode_recordbatches(credentials, batches, first_id=1):
    """A request of recordbatch calls whose points are already encoded:
    batches is [(resource, b"[ts,v],[ts,v]"), ...]; call ids count from
    first_id. The bytes equal encode_request's for the same calls, but a
    device needs ~20 bytes of heap per point instead of a list and a float
    object each."""
    # The pieces first (small), then the body in one allocation (join
    # sizes it before copying): growing it piece by piece would leave a
    # trail of freed copies in a small heap.
    return b"".join(recordbatch_parts(credentials, batches, first_id))


def recordbatch_parts(credentials, batches, first_id=1):
    """encode_recordbatches' body as the list of its parts, each batch's
    points the very object given: uonep.http sends them in order, so a
    device never holds the points twice (in their buffer and in a body)."""
    parts = [b'{"auth":%s,"calls":[' % dumps(credentials).encode()]
    for index, (spec, points) in enumerate(batches):
        parts.append(b'%s{"arguments":[%s,[' % (b"," if index else b"",
                                                 dumps(resource(spec)).encode()))
        parts.append(points)
        parts.append(b']],"id":%d,"procedure":"recordbatch"}' % (first_id + index))
    parts.append(b"]}")
    return parts


# -- decoding -----------------------------------------------------------------

def decode_response(status, body, calls, ids):
    """One entry per call, in call order: the call's result (None when the
    procedure returns nothing or the call had no id), or a CallError instance
    for a call that failed. Raises RequestError/AuthError/ServerError,
    HTTPError or ProtocolError when the answer fails as a whole."""
    # The answers a device meets are read here: the list of a request's
    # outcomes (partial recordbatches too), a request refused as a whole
    # (a revoked CIK, a server failure), an HTTP error without a JSON body.
    # uonep.builders reads (and explains) the rest: broken answers, a JSON
    # error with an HTTP error, and a body with more brackets than MAX_DEPTH
    # (it counts the depth: deeper nesting would exhaust the parser's stack
    # or heap).
    if status == 200 and type(body) in (bytes, bytearray) and \
            body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        try:
            answer = json.loads(body)
        except Exception:
            answer = None
        if type(answer) is dict and type(answer.get("error")) is dict:
            raise _request_error(answer["error"])
        if type(answer) is list:
            wanted = {}
            for index, call_id in enumerate(ids):
                if call_id is not None:
                    wanted[call_id] = index
            results = [None] * len(calls)  # type: list
            for entry in answer:
                if type(entry) is not dict:
                    break
                call_id = entry.get("id")
                outcome = entry.get("status")
                # True == 1 and 1.0 == 1 in Python; only an id of the very
                # same type matches, and each once.
                index = wanted.pop(call_id, None) if type(call_id) in (int, str) else None
                if index is None:
                    break
                if outcome == "ok":
                    results[index] = entry.get("result")
                elif type(outcome) is str:
                    error = entry.get("error")
                    results[index] = CallError(calls[index][0], call_id, outcome,
                                               error if type(error) is dict else None)
                elif type(outcome) is list:
                    # A partial recordbatch: each refused point is
                    # [timestamp, reason].
                    for point in outcome:
                        if type(point) is not list or len(point) != 2:
                            break
                    else:
                        results[index] = RecordBatchError(calls[index][0], call_id, outcome)
                        continue
                    break
                else:
                    break
            else:
                if results and not wanted:
                    return results
    elif status != 200 and (body is None or type(body) in (bytes, bytearray) and
                            b"{" not in body):
        if status in (401, 403):
            raise AuthError(401, "HTTP %d" % status, "auth")
        raise HTTPError(status)
    from . import builders
    return builders.decode_response(status, body, calls, ids)


def _request_error(error):
    # The RequestError (AuthError, ServerError) of an answer's error object.
    code = error.get("code")
    message = error.get("message")
    context = error.get("context")
    kind = AuthError if code == 401 else ServerError if code == 500 else RequestError
    return kind(code, message if type(message) is str else "",
                context if type(context) is str else None)


if sys.implementation.name != "micropython":
    # CPython writes \b, \f and non-ASCII text unlike MicroPython: its own
    # writer, imported once this module's names exist (builders uses them).
    from .builders import host_text as _text  # noqa: E402,F811
