"""OnepV1: a drop-in replacement for pyonep 0.13.8's class of the same name.

    from uonep_host import OnepV1
    o = OnepV1()                                   # https://m2.exosite.com
    ok, result = o.read(cik, {"alias": "temp"}, {"limit": 1})
    o.write(cik, {"alias": "temp"}, 23.5, defer=True)
    o.read(cik, {"alias": "temp"}, {}, defer=True)
    for call, ok, result in o.send_deferred(cik):
        ...

Same constructor, methods, argument names, defaults and return shapes as
pyonep, and JSON-equal request bodies: arguments are passed through as given,
the way pyonep does, except that nan and inf are refused (they are not JSON).
The body is written and the answer parsed by the uonep core (uonep.rpc) and
sent through its Transport over a requests.Session; what the core reports is
translated into pyonep's shapes and exceptions here.

Returns: (True, result), or (True, 'ok') for a procedure with no result;
(False, status) for a call the server refused (for recordbatch, the status
is the list of [timestamp, reason] points it did not store); True for a call
queued with defer=True. send_deferred returns [(call, ok, result), ...] in
the order the calls were queued. Request-level failures raise:
OnePlatformException (the server refused the request, or the answer is not
usable JSON-RPC), JsonRPCRequestException (network failure, a value that is
not JSON, nothing deferred).

Deliberate differences from pyonep 0.13.8 (none changes what is sent):
loggedrequests() lists this instance's requests (pyonep's list is shared by
every instance), `agent` sets this instance's User-Agent (pyonep's sets it
for every instance), a request that holds a `wait` gets the server's 5
minute long-poll limit plus httptimeout instead of no timeout at all, an
answer that lacks a call or names an unknown id raises OnePlatformException
instead of being skipped, and logging is left to the application.
"""

import logging

from uonep import rpc
from uonep.errors import (CallError, HTTPError, ProtocolError, RecordBatchError,
                          RequestError, TransportError, ValidationError)
from uonep.transport import Transport, server_url

from .exceptions import JsonRPCRequestException, OnePlatformException
from .transport import session

log = logging.getLogger(__name__)

# The server holds a wait for at most 5 minutes; a request carrying one may
# take that long before the ordinary timeout starts to matter.
LONG_POLL_SECONDS = rpc.WAIT_MAX_MS // 1000

_NO_RESULT = "ok"


class FORMATS:
    """Dataport formats, as pyonep names them."""
    STRING = "string"
    FLOAT = "float"
    INTEGER = "integer"


class DeferredRequests:
    """Calls queued with defer=True, kept apart per auth (a CIK string or an
    auth dict) until send_deferred(auth) sends them in one request."""

    def __init__(self):
        self._requests = {}
        self._notimeouts = {}

    @staticmethod
    def _key(auth):
        # A CIK string and {"cik": CIK} are different queues, as in pyonep.
        if isinstance(auth, dict):
            return tuple(sorted((str(name), str(value)) for name, value in auth.items()))
        return auth

    def add(self, auth, method, args, notimeout=False):
        """Queue the call (method, args) for auth."""
        key = self._key(auth)
        self._requests.setdefault(key, []).append((method, args))
        self._notimeouts[key] = self._notimeouts.get(key, False) or bool(notimeout)

    def reset(self, auth):
        """Forget every call queued for auth."""
        key = self._key(auth)
        self._requests.pop(key, None)
        self._notimeouts.pop(key, None)

    def has_requests(self, auth):
        """True when calls are queued for auth."""
        return bool(self._requests.get(self._key(auth)))

    def get_method_args_pairs(self, auth):
        """The calls queued for auth: [(method, args), ...]."""
        return self._requests[self._key(auth)]

    def get_notimeout(self, auth):
        """True when a queued call (a wait) must not be cut by httptimeout."""
        return self._notimeouts[self._key(auth)]


class OnepV1:
    """One Platform JSON-RPC with pyonep's interface.

    host, port, url: where requests go (url is the RPC path). https: use TLS
    (certificates are verified). httptimeout: seconds per request. agent:
    the User-Agent header. reuseconnection: keep one keep-alive connection
    for every request (close() ends it) instead of one per request.
    logrequests: remember each request, see loggedrequests(). curldebug: log
    each request as a curl command line at DEBUG level (it includes the CIK).
    startid: the id of the next call; every call gets the next number.

    `verify` (not in pyonep, so not in the constructor): how TLS certificates
    are checked, as in requests: True (certifi's CAs), a CA bundle path, or
    False; set it on the instance (o.verify = "/path/ca.pem") before a call.
    """

    verify = True

    def __init__(self, host="m2.exosite.com", port="443", url="/onep:v1/rpc/process",
                 https=True, httptimeout=10, agent=None, reuseconnection=False,
                 logrequests=False, curldebug=False, startid=0):
        self.url = url
        self.headers = {"Content-Type": rpc.CONTENT_TYPE}
        if agent is not None:
            self.headers["User-Agent"] = agent
        self.httptimeout = int(httptimeout)
        self.reuseconnection = reuseconnection
        self.logrequests = logrequests
        self.curldebug = curldebug
        self.startid = startid
        self.deferred = DeferredRequests()
        self._clientid = None
        self._resourceid = None
        self._loggedrequests = []
        self._session = None
        self._transport = Transport(server_url(host, port, https), self.httptimeout, agent)

    def __repr__(self):
        return "<uonep_host.OnepV1 %s%s>" % (self._transport.base, self.url)

    # -- connection, identity, deferred calls ---------------------------------

    def close(self):
        """Close the kept connection (reuseconnection=True); the next call
        opens a new one."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def loggedrequests(self):
        """The requests this instance made while logrequests was on, each
        {"auth": ..., "calls": [...]} as sent."""
        return self._loggedrequests

    def connect_as(self, clientid):
        """Act as the descendant client `clientid` (a RID) when auth is a CIK string."""
        self._clientid = clientid
        self._resourceid = None

    def connect_owner(self, resourceid):
        """Act as the owner of the descendant `resourceid` when auth is a CIK string."""
        self._resourceid = resourceid
        self._clientid = None

    def has_deferred(self, auth):
        """True when calls are queued for auth."""
        return self.deferred.has_requests(auth)

    def send_deferred(self, auth):
        """Send every call queued for auth in one request: [(call, ok,
        result), ...], call being {"id", "procedure", "arguments"}. The
        queue is emptied even when the request fails."""
        if not self.deferred.has_requests(auth):
            raise JsonRPCRequestException("No deferred requests to send.")
        try:
            calls = self._compose(self.deferred.get_method_args_pairs(auth))
            return self._request(auth, calls, self.deferred.get_notimeout(auth))
        finally:
            self.deferred.reset(auth)

    # -- procedures (pyonep's names, arguments and defaults) ------------------

    def activate(self, auth, codetype, code, defer=False):
        """Activate a client or share code ("client" | "share") for the caller."""
        return self._call("activate", auth, [codetype, code], defer)

    def create(self, auth, type, desc, defer=False):
        """Create a resource of `type` ("client", "dataport", ...) described by desc."""
        return self._call("create", auth, [type, desc], defer)

    def createDataport(self, auth, desc, defer=False):
        """Create a dataport; desc needs at least "format" and "retention"."""
        return self._call("create", auth, ["dataport", desc], defer)

    def deactivate(self, auth, codetype, code, defer=False):
        """Deactivate a client or share code."""
        return self._call("deactivate", auth, [codetype, code], defer)

    def drop(self, auth, resource, defer=False):
        """Delete a resource."""
        return self._call("drop", auth, [resource], defer)

    def flush(self, auth, resource, options=None, defer=False):
        """Delete a dataport's points (options: {"newerthan", "olderthan"})."""
        arguments = [resource]
        if options is not None:
            arguments.append(options)
        return self._call("flush", auth, arguments, defer)

    def grant(self, auth, resource, permissions, ttl=None, defer=False):
        """A token for {"token": ...} auth limited to permissions {RID: [...]}."""
        arguments = [resource, permissions]
        if ttl is not None:
            arguments.append({"ttl": ttl})
        return self._call("grant", auth, arguments, defer)

    def info(self, auth, resource, options=None, defer=False):
        """Information about a resource (options {} means everything)."""
        return self._call("info", auth, [resource, _or_empty(options)], defer)

    def listing(self, auth, types, options=None, resource=None, defer=False):
        """A client's children by type. Pass both options and resource for the
        current form; without them the deprecated forms [types] and [types,
        options] are sent, as pyonep does."""
        if options is None:
            arguments = [types]
        elif resource is None:
            arguments = [types, options]
        else:
            arguments = [resource, types, options]
        return self._call("listing", auth, arguments, defer)

    def lookup(self, auth, type, mapping, defer=False):
        """A RID by alias, owner RID or share code (type "alias" | "owner" | "shared")."""
        return self._call("lookup", auth, [type, mapping], defer)

    def map(self, auth, resource, alias, defer=False):
        """Give resource the alias `alias` in the calling client."""
        return self._call("map", auth, ["alias", resource, alias], defer)

    def move(self, auth, resource, destinationresource, options=None, defer=False):
        """Move resource under another client (options default {"aliases": True})."""
        if options is None:
            options = {"aliases": True}
        return self._call("move", auth, [resource, destinationresource, options], defer)

    def read(self, auth, resource, options, defer=False):
        """Points of a dataport: options "starttime", "endtime", "sort", "limit", "selection"."""
        return self._call("read", auth, [resource, options], defer)

    def record(self, auth, resource, entries, options=None, defer=False):
        """Store [[timestamp, value], ...] (deprecated by the platform; use recordbatch)."""
        return self._call("record", auth, [resource, entries, _or_empty(options)], defer)

    def recordbatch(self, auth, resource, entries, defer=False):
        """Store [[timestamp, value], ...]; a refusal lists the points not stored."""
        return self._call("recordbatch", auth, [resource, entries], defer)

    def revoke(self, auth, codetype, code, defer=False):
        """Revoke a client or share code."""
        return self._call("revoke", auth, [codetype, code], defer)

    def share(self, auth, resource, options=None, defer=False):
        """A share code for resource."""
        return self._call("share", auth, [resource, _or_empty(options)], defer)

    def tag(self, auth, resource, action, tag, defer=False):
        """Add or remove ("add" | "remove") a tag on resource."""
        return self._call("tag", auth, [resource, action, tag], defer)

    def unmap(self, auth, alias, defer=False):
        """Remove the alias `alias` from the calling client."""
        return self._call("unmap", auth, ["alias", alias], defer)

    def update(self, auth, resource, desc=None, defer=False):
        """Change a resource's description."""
        return self._call("update", auth, [resource, _or_empty(desc)], defer)

    def usage(self, auth, resource, metric, starttime, endtime, defer=False):
        """Usage of `metric` by resource and its descendants between two times."""
        return self._call("usage", auth, [resource, metric, starttime, endtime], defer)

    def wait(self, auth, resource, options, defer=False):
        """Long poll until a new point arrives (options "timeout" in ms, "since")."""
        return self._call("wait", auth, [resource, options], defer, notimeout=True)

    def write(self, auth, resource, value, options=None, defer=False):
        """Store value at the server's current time."""
        return self._call("write", auth, [resource, value, _or_empty(options)], defer)

    def writegroup(self, auth, entries, defer=False):
        """Store [[resource, value], ...] with one shared timestamp."""
        return self._call("writegroup", auth, [entries], defer)

    # -- the request ----------------------------------------------------------

    def _call(self, method, auth, arguments, defer, notimeout=False):
        if defer:
            self.deferred.add(auth, method, arguments, notimeout=notimeout)
            return True
        outcome = self._request(auth, self._compose([(method, arguments)]), notimeout)[0]
        return outcome[1:]

    def _compose(self, pairs):
        """pyonep's call objects, numbered on from startid."""
        calls = []
        for method, arguments in pairs:
            calls.append({"id": self.startid, "procedure": method, "arguments": arguments})
            self.startid += 1
        return calls

    def _auth(self, auth):
        """An auth dict is sent as given; a CIK string becomes {"cik": ...},
        with the client_id or resource_id set by connect_as/connect_owner."""
        if isinstance(auth, dict):
            return auth
        if self._clientid is not None:
            return {"cik": auth, "client_id": self._clientid}
        if self._resourceid is not None:
            return {"cik": auth, "resource_id": self._resourceid}
        return {"cik": auth}

    def _request(self, auth, calls, notimeout):
        """Send calls in one request: [(call, ok, result), ...] in call order."""
        credentials = self._auth(auth)
        if self.logrequests:
            self._loggedrequests.append({"auth": credentials, "calls": calls})
        pairs = [(call["procedure"], call["arguments"]) for call in calls]
        ids = [call["id"] for call in calls]
        body = _encode(credentials, pairs, ids)
        status, answer = self._post(body, notimeout)
        outcomes = _decode(status, answer, pairs, ids)
        return [(call,) + _pyonep_outcome(outcome) for call, outcome in zip(calls, outcomes)]

    def _post(self, body, notimeout):
        # A wait may be held by the server for minutes: it gets a connection
        # of its own, as in pyonep, so a kept connection is never tied up.
        fresh = notimeout or not self.reuseconnection
        http = session(self.verify) if fresh else self._kept_session()
        self._transport.http = http
        timeout = self.httptimeout + (LONG_POLL_SECONDS if notimeout else 0)
        self._log(body, timeout)
        try:
            return self._transport.request("POST", self.url, body,
                                           self.headers["Content-Type"], timeout)
        except (TransportError, ProtocolError) as failure:
            # ProtocolError: an answer larger than the Session reads.
            if not fresh:
                self.close()
            raise JsonRPCRequestException("Failed to make http request: %s" % failure) from failure
        finally:
            if fresh:
                http.close()

    def _kept_session(self):
        if self._session is None:
            self._session = session(self.verify)
        return self._session

    def _log(self, body, timeout):
        if not log.isEnabledFor(logging.DEBUG):
            return
        url = self._transport.base + self.url
        if self.curldebug:
            headers = " ".join("-H %s" % _shell_quote("%s: %s" % pair)
                               for pair in sorted(self.headers.items()))
            log.debug("curl %s -X POST -m %s %s -d %s", _shell_quote(url), timeout, headers,
                      _shell_quote(body.decode("utf-8")))
        else:
            # Without curldebug the body (and its CIK) stays out of the log.
            log.debug("POST %s (%d bytes)", url, len(body))


# -- translation between pyonep's shapes and the core's -----------------------

def _or_empty(options):
    """pyonep's `options={}` default, without a shared mutable default."""
    return {} if options is None else options


def _encode(credentials, pairs, ids):
    """The body, written by the core from pyonep-shaped (unvalidated) arguments."""
    try:
        return rpc.encode_request(_jsonable(credentials),
                                  [(method, _jsonable(arguments)) for method, arguments in pairs],
                                  ids)
    except (ValidationError, TypeError) as failure:
        raise JsonRPCRequestException("Cannot write the request as JSON: %s" % failure) from failure


def _jsonable(item):
    """A copy the core's encoder accepts, with json.dumps' leniency: tuples,
    dict/str/int/float subclasses and non-string keys become plain JSON
    types. nan and inf are left in, for the encoder to refuse."""
    if item is None or isinstance(item, bool):
        return item
    if isinstance(item, str):
        return str(item)
    if isinstance(item, int):
        return int(item)
    if isinstance(item, float):
        return float(item)
    if isinstance(item, dict):
        return {_key(name): _jsonable(value) for name, value in item.items()}
    if isinstance(item, (list, tuple)):
        return [_jsonable(element) for element in item]
    raise TypeError("a %s is not JSON serializable" % type(item).__name__)


def _key(name):
    """An object key as json.dumps writes it."""
    if isinstance(name, str):
        return str(name)
    if name is True:
        return "true"
    if name is False:
        return "false"
    if name is None:
        return "null"
    if isinstance(name, int):
        return str(int(name))
    if isinstance(name, float):
        return repr(float(name))
    raise TypeError("keys must be str, int, float, bool or None, not %s" % type(name).__name__)


def _decode(status, answer, pairs, ids):
    """The core's per-call outcomes; request-level failures as pyonep raises them."""
    try:
        return rpc.decode_response(status, answer, pairs, ids)
    except RequestError as failure:
        error = {"code": failure.code, "message": failure.message, "context": failure.context}
        raise OnePlatformException(str(error), error) from failure
    except (ProtocolError, HTTPError) as failure:
        raise OnePlatformException("Exception while parsing JSON response: %s" % failure) from failure


def _pyonep_outcome(outcome):
    """(ok, result) as pyonep returns it for one call."""
    if isinstance(outcome, RecordBatchError):
        return False, outcome.rejected
    if isinstance(outcome, CallError):
        return False, outcome.status
    if outcome is None:
        return True, _NO_RESULT
    return True, outcome


def _shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"
