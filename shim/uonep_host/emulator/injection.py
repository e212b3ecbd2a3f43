"""Fault injection: what the server should do wrong, armed at run time.

A Fault fires on matching requests (on one path, the JSON-RPC endpoint
unless told otherwise) or, for kind "call_status", on matching calls:

- drop_before_body: close the connection without reading the body or answering
  (the calls do not run);
- drop_after_body: read the body, run the calls, close without answering (a lost
  acknowledgement);
- stall: run the calls, sleep `seconds`, then answer normally (then="answer") or
  close without answering (then="close");
- http_status: answer `status` (500, 502, 503, ...) with an HTML body; the calls do
  not run;
- truncate: run the calls and answer with the first half of the body (the HTTP
  framing is correct, the JSON is cut);
- auth: answer the request-level 401 error without running the calls;
- call_status: calls of `procedure` (any procedure when not given) do not run and
  answer status `call_status` ("fail" by default).

`count` is how many times the fault fires (default 1; unlimited when only
`every` is given); `every` = k makes it fire on every k-th matching request
(or call) counted from when it was armed.
"""

import threading

RPC_PATH = "/onep:v1/rpc/process"
REQUEST_KINDS = ("drop_before_body", "drop_after_body", "stall", "http_status", "truncate",
                 "auth")
KINDS = REQUEST_KINDS + ("call_status",)
# the paths a fault can be armed for (`path`): what a device talks to
PATHS = (RPC_PATH, "/provision/activate", "/provision/download", "/timestamp",
         "/onep:v1/stack/alias", "/onep:v1/stack/waitalias", "/onep:v1/stack/record")


class Fault:
    """One armed fault; see the module docstring for the options."""

    def __init__(self, kind, count=None, every=None, status=503, seconds=1.0, procedure=None,
                 call_status="fail", path=RPC_PATH, then="answer"):
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r" % (kind,))
        if path not in PATHS:
            raise ValueError("faults apply to %s" % ", ".join(PATHS))
        if count is not None and (type(count) is not int or count < 1):
            raise ValueError("count is a positive integer")
        if every is not None and (type(every) is not int or every < 1):
            raise ValueError("every is a positive integer")
        if type(status) is not int or not 100 <= status <= 599:
            raise ValueError("status is an HTTP status code")
        if type(seconds) not in (int, float) or seconds < 0:
            raise ValueError("seconds is a non-negative number")
        if then not in ("answer", "close"):
            raise ValueError("then is answer or close")
        if not isinstance(call_status, str) or not call_status or call_status == "ok":
            raise ValueError("call_status is a failing status such as fail or invalid")
        self.kind = kind
        self.remaining = count if count is not None else (None if every else 1)
        self.every = every
        self.status = status
        self.seconds = seconds
        self.procedure = procedure
        self.call_status = call_status
        self.path = path
        self.then = then
        self.seen = 0

    def describe(self):
        """The fault as JSON for GET /_emulator/faults."""
        return {"kind": self.kind, "remaining": self.remaining, "every": self.every,
                "status": self.status, "seconds": self.seconds, "procedure": self.procedure,
                "call_status": self.call_status, "path": self.path, "then": self.then,
                "seen": self.seen}

    def _fires(self):
        """Count one match; True when this one fires (and use one of `count`)."""
        self.seen += 1
        if self.every is not None and self.seen % self.every:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True

    @property
    def spent(self):
        return self.remaining == 0


class Faults:
    """The armed faults of one emulator (thread-safe). `fired` lists the kinds
    that have fired, oldest first."""

    def __init__(self):
        self._lock = threading.Lock()
        self._armed = []
        self.fired = []

    def arm(self, kind, **options):
        """Arm a fault (kind "clear" disarms everything); returns the Fault."""
        if kind == "clear":
            self.clear()
            return None
        fault = Fault(kind, **options)
        with self._lock:
            self._armed.append(fault)
        return fault

    def arm_from_json(self, spec):
        """Arm from a control-API object {"kind": ..., options...}; ValueError if bad."""
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValueError("a fault is an object with a kind")
        options = dict(spec)
        kind = options.pop("kind")
        unknown = set(options) - {"count", "every", "status", "seconds", "procedure",
                                  "call_status", "path", "then"}
        if unknown:
            raise ValueError("unknown fault options: %s" % ", ".join(sorted(unknown)))
        return self.arm(kind, **options)

    def clear(self):
        with self._lock:
            self._armed = []

    def armed(self):
        """The armed faults as JSON-able dicts."""
        with self._lock:
            return [fault.describe() for fault in self._armed]

    def for_request(self, path):
        """The request-level fault to apply to this request on `path`, or None."""
        return self._take(lambda fault: fault.kind in REQUEST_KINDS and fault.path == path)

    def for_call(self, procedure):
        """The failing status to answer instead of running this call, or None."""
        fault = self._take(lambda fault: fault.kind == "call_status"
                           and fault.procedure in (None, procedure))
        return fault.call_status if fault else None

    def _take(self, matches):
        chosen = None
        with self._lock:
            for fault in self._armed:
                if chosen is None and matches(fault) and fault._fires():
                    chosen = fault
            self._armed = [fault for fault in self._armed if not fault.spent]
            if chosen is not None:
                self.fired.append(chosen.kind)
        return chosen
