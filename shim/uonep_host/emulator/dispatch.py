"""One JSON-RPC request from body bytes to answer: request-level checks in
the documented order, then the calls, in order, each in its own transaction.

Order of request-level checks: body is JSON (-1), request shape (400),
credentials (401); a request refused as a whole ran nothing. Then each
call's procedure name and arguments are checked: a call the emulator does
not support (an unknown procedure, arguments of an unsupported shape) fails
alone, with status "fail" and an error object (code 501, context
"procedure" or "arguments", a message saying why), and the other calls of
the request run as usual.
"""

import json
import sys
import traceback

from .access import authenticate, mask
from .errors import CallFailure, RequestError
from .procedures import NOTHING, PROCEDURES, Context, unknown


def _no_constants(name):
    # NaN and Infinity are not JSON, whatever Python's json module accepts.
    raise ValueError(name)


def decode(raw):
    """The request object, or RequestError -1 when the body is not JSON text."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError):
        raise RequestError(-1, "Request body is not JSON", "calls")


def check_shape(request):
    """(auth, calls) of a well-formed request, or RequestError 400."""
    if not isinstance(request, dict):
        raise RequestError(400, "The request is not an object", "calls")
    auth = request.get("auth")
    if not isinstance(auth, dict):
        raise RequestError(400, "Missing or malformed auth", "auth")
    calls = request.get("calls")
    if not isinstance(calls, list) or not calls:
        raise RequestError(400, "calls must be a non-empty list", "calls")
    for call in calls:
        _check_call_shape(call)
    return auth, calls


def _check_call_shape(call):
    if not isinstance(call, dict):
        raise RequestError(400, "A call is not an object", "calls")
    call_id = call.get("id")
    if call_id is not None:
        good_number = type(call_id) in (int, float)
        good_text = isinstance(call_id, str) and len(call_id) <= 40
        if not (good_number or good_text):
            raise RequestError(400, "A call id is a number or a string of at most 40 "
                               "characters", "calls")
    if not isinstance(call.get("procedure"), str):
        raise RequestError(400, "A call has no procedure", "calls")
    if not isinstance(call.get("arguments", []), list):
        raise RequestError(400, "A call's arguments are not a list", "calls")


def plan(calls):
    """[(call, procedure name, run function or None, parsed arguments or
    the CallFailure that refuses the call)], checked before any call runs."""
    planned = []
    for call in calls:
        name = call["procedure"]
        if name not in PROCEDURES:
            planned.append((call, name, None, unknown(name)))
            continue
        parse, run = PROCEDURES[name]
        try:
            planned.append((call, name, run, parse(call.get("arguments", []))))
        except CallFailure as refusal:
            planned.append((call, name, None, refusal))
    return planned


def masked(request):
    """A copy of a decoded request safe to log: credentials cut to 4 characters.
    Only the RIDs client_id and resource_id are kept whole: a malformed auth
    ("CIK": ..., or the bare key as a string) is masked too."""
    if not isinstance(request, dict) or "auth" not in request:
        return request
    auth = request["auth"]
    copy = dict(request)
    if isinstance(auth, dict):
        copy["auth"] = {key: value if key in ("client_id", "resource_id") else mask(value)
                        for key, value in auth.items()}
    else:
        copy["auth"] = mask(auth)
    return copy


class Dispatcher:
    """Runs JSON-RPC requests against a store; `faults` supplies call_status faults."""

    def __init__(self, store, clock, faults, stopping):
        self.store = store
        self.clock = clock
        self.faults = faults
        self.stopping = stopping

    def process(self, request):
        """The answer object for a decoded request (a list, or None for "no
        body"); RequestError for request-level failures."""
        auth, calls = check_shape(request)
        with self.store.lock:
            caller = authenticate(self.store, auth, self.clock.now())
        planned = plan(calls)
        answers = []
        for call, name, run, parsed in planned:
            entry = self._run_call(caller, name, run, parsed)
            # a call without an id (or with "id": null) gets no answer entry
            if call.get("id") is not None:
                answers.append(dict({"id": call["id"]}, **entry))
        return answers or None

    def _run_call(self, caller, name, run, parsed):
        injected = self.faults.for_call(name)
        if injected is not None:
            return {"status": injected}
        if run is None:
            return _failure_entry(parsed)
        context = Context(self.store, caller, self.clock.now(), self.stopping)
        try:
            # a CallFailure is caught inside the transaction, so what a call
            # stored before failing (recordbatch's good points) is committed
            with self.store.transaction():
                try:
                    result = run(context, parsed)
                except CallFailure as failure:
                    return _failure_entry(failure)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            raise RequestError(500, "Internal error in %s" % name, "calls")
        if result is NOTHING:
            return {"status": "ok"}
        return {"status": "ok", "result": result}


def _failure_entry(failure):
    return {"status": failure.status, "error": failure.error}
