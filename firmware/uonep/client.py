"""Client: one method per One Platform procedure, batches of calls in one
HTTP request, and (with a Journal) durable add_value / commit / push.

    c = Client(cik, host="m2.exosite.com")
    c.write("temp", 23.5)
    c.read("temp", limit=10)          # -> [[timestamp, value], ...]
    with c.batch() as b:
        b.write("a", 1)
        b.read("b")
    b.results                         # one entry per call
"""

from . import forward, rpc
from .clock import Clock
from .errors import CallError, JournalError, OnepError, ProtocolError, ValidationError
from .transport import Transport


class Procedures:
    """The procedure methods, shared by Client (sends at once) and Batch
    (queues). Each builds its call with uonep.rpc, which checks the input."""

    def _call(self, call, timeout=None):
        raise NotImplementedError

    def read(self, resource, starttime=None, endtime=None, sort="desc", limit=1, selection="all"):
        """[[timestamp, value], ...], newest first by default."""
        return self._call(rpc.read(resource, starttime, endtime, sort, limit, selection))

    def write(self, resource, value):
        """Store value at the server's current time."""
        return self._call(rpc.write(resource, value))

    def writegroup(self, values):
        """{resource: value} (or [[resource, value], ...]), one shared timestamp."""
        return self._call(rpc.writegroup(values))

    def record(self, resource, entries):
        """Deprecated by the platform; use recordbatch."""
        return self._call(rpc.record(resource, entries))

    def recordbatch(self, resource, entries):
        """Store [[timestamp, value], ...]; a negative timestamp is seconds before now."""
        return self._call(rpc.recordbatch(resource, entries))

    def flush(self, resource, newerthan=None, olderthan=None):
        """Delete points, all or those strictly inside (newerthan, olderthan)."""
        return self._call(rpc.flush(resource, newerthan, olderthan))

    def wait(self, resource, timeout=30000, since=None):
        """Block until a point newer than `since` arrives: [timestamp, value].
        Raises CallError with status "expire" after `timeout` ms."""
        return self._call(rpc.wait(resource, timeout, since), timeout=timeout / 1000)

    def create(self, kind, description=None):
        """Create a resource of `kind` (client, dataport, ...); returns its RID."""
        return self._call(rpc.create(kind, description))

    def create_dataport(self, format="float", name="", retention_count="infinity",
                        retention_duration="infinity", **description):
        """Create a dataport with the protocol's defaults; returns its RID."""
        full = rpc.dataport_description(format, name, count=retention_count,
                                        duration=retention_duration, **description)
        return self._call(rpc.create("dataport", full))

    def update(self, resource, description):
        return self._call(rpc.update(resource, description))

    def info(self, resource=None, options=None):
        """Everything about a resource (the calling client by default)."""
        return self._call(rpc.info(_self_or(resource), options))

    def listing(self, types=("dataport",), resource=None, options=None):
        """{"dataport": [rid, ...], ...} for the calling client by default."""
        return self._call(rpc.listing(_self_or(resource), types, options))

    def drop(self, resource):
        return self._call(rpc.drop(resource))

    def move(self, resource, destination, aliases=True):
        return self._call(rpc.move(resource, destination, aliases))

    def usage(self, metric, starttime, endtime, resource=None):
        return self._call(rpc.usage(_self_or(resource), metric, starttime, endtime))

    def map(self, rid, alias):
        """Give the resource `rid` the alias `alias` in the calling client."""
        return self._call(rpc.map(rid, alias))

    def unmap(self, alias):
        return self._call(rpc.unmap(alias))

    def lookup(self, key, kind="alias"):
        """The RID behind an alias (or an "owner" RID, or a "shared" code)."""
        return self._call(rpc.lookup(key, kind))

    def share(self, resource, options=None):
        return self._call(rpc.share(resource, options))

    def revoke(self, codetype, code):
        return self._call(rpc.revoke(codetype, code))

    def activate(self, codetype, code):
        return self._call(rpc.activate(codetype, code))

    def deactivate(self, codetype, code):
        return self._call(rpc.deactivate(codetype, code))

    def grant(self, resource, permissions, ttl=None):
        """A token for {"token": ...} auth, limited to `permissions`."""
        return self._call(rpc.grant(resource, permissions, ttl))

    def tag(self, resource, action, name):
        return self._call(rpc.tag(resource, action, name))


def _self_or(resource):
    return {"alias": ""} if resource is None else resource


class Client(Procedures):
    """A One Platform client for one set of credentials.

    cik: the device's 40-hex key (or give token=...); client_id/resource_id
    act as a descendant client or as the owner of a descendant resource.
    host/port/https/timeout/user_agent: where and how to connect (timeout:
    seconds for a whole request). verify: how the built-in uonep.http
    checks the server's TLS certificate (True: the shipped CA set; a path or
    PEM/DER bytes: your own CA; False: no check). http: a `requests`-like
    object instead of uonep.http (a requests.Session on CPython). journal: a
    uonep.Journal for add_value/commit/push. clock: a uonep.clock.Clock
    (the board's clock by default).

    Plain HTTP as the device (the CIK alone, loaded on first call):
    content_list(vendor, model), content_info(vendor, model, id),
    content_download(vendor, model, id, path) (uonep.content), and the HTTP
    Data API data_write({alias: value}), data_read([alias]),
    data_wait(alias, timeout_ms) (uonep.dataapi).
    """

    def __init__(self, cik=None, host="m2.exosite.com", port=None, https=True, timeout=10,
                 user_agent=None, client_id=None, resource_id=None, token=None,
                 http=None, journal=None, clock=None, verify=True):
        self._auth = rpc.auth(cik, client_id, resource_id, token)
        self.transport = Transport(host, port, https, timeout, user_agent, http, verify)
        self.journal = journal
        self.clock = clock or Clock()
        self._values = {}
        self._forwarder = None
        self.requests = 0
        self.last_body_bytes = 0

    def set_credentials(self, cik=None, client_id=None, resource_id=None, token=None):
        """Use other credentials from the next request on (a device that
        has just activated gets its CIK here)."""
        self._auth = rpc.auth(cik, client_id, resource_id, token)

    def __repr__(self):
        # Credentials stay out of reprs: they end up in logs.
        return "<uonep.Client %s>" % self.transport.base

    def batch(self):
        """Queue calls, send them in one HTTP request (on `with` exit or send())."""
        return Batch(self)

    def send(self, calls, timeout=None):
        """Send [(procedure, arguments), ...] as one request: one result (or
        CallError instance) per call, in order."""
        ids = list(range(1, len(calls) + 1))
        return self._exchange(rpc.encode_request(self._auth, calls, ids), calls, ids, timeout)

    def send_recordbatches(self, batches):
        """One request of recordbatch calls from pre-encoded points
        ([(resource, b"[ts,v],..."), ...], see rpc.encode_recordbatches):
        one result or CallError per call."""
        ids = list(range(1, len(batches) + 1))
        calls = [("recordbatch", None)] * len(batches)
        return self._exchange(rpc.encode_recordbatches(self._auth, batches), calls, ids, None)

    def _exchange(self, body, calls, ids, timeout):
        self.requests += 1
        self.last_body_bytes = len(body)
        status, answer = self.transport.request("POST", rpc.PATH, body, rpc.CONTENT_TYPE,
                                                 _longer(self.transport.timeout, timeout))
        try:
            return rpc.decode_response(status, answer, calls, ids)
        except ProtocolError:
            # A server that answers what cannot be read is not kept for the
            # next request: its connection is closed.
            self.transport.close()
            raise

    def _call(self, call, timeout=None):
        outcome = self.send([call], timeout)[0]
        if isinstance(outcome, CallError):
            raise outcome
        return outcome

    def __getattr__(self, name):
        # content_list/_info/_download and data_write/_read/_wait are in
        # uonep.content and uonep.dataapi, imported on the first call: a
        # sampling device never loads them.
        if name.startswith("content_"):
            from . import content
            function = getattr(content, name)
        elif name.startswith("data_"):
            from . import dataapi
            function = getattr(dataapi, name)
        else:
            raise AttributeError(name)
        return lambda *args, **options: function(self, *args, **options)

    # -- store and forward (needs journal=) -------------------------------

    def add_value(self, resource, value):
        """Stage a value for the next commit; the same resource twice before
        a commit: the last value wins. Bad input is refused here, so nothing
        unsendable ever reaches the journal."""
        if isinstance(resource, dict):
            resource = rpc.resource(resource)["alias"]
        rpc.resource(resource)
        self._values[resource] = rpc.value(value)

    def commit(self, timestamp=None):
        """Write the staged values to the journal as one record: all or none,
        durable when this returns. timestamp: Unix seconds (default: now, or
        "not known yet" when the clock is not valid, dated at push time).
        Returns the number of values committed."""
        journal = self._journal()
        if not self._values:
            return 0
        if timestamp is not None:
            timestamp = rpc.timestamp(timestamp)
        elif self.clock.valid():
            timestamp = self.clock.now()
        points = [[resource, value] for resource, value in self._values.items()]
        journal.commit(forward.encode_commit(timestamp, self._boot(), self.clock.ticks_ms(),
                                             points))
        # Only now: a refused commit (journal full) keeps the values staged.
        self._values = {}
        return len(points)

    def push(self, max_points=None, max_bytes=forward.MAX_BYTES):
        """Send committed values, oldest first, in recordbatch calls packed
        into requests of at most max_bytes; acknowledge only what the server
        answered "ok". Returns {"sent", "requests", "bytes", "dead_lettered",
        "remaining"}. Raises TransportError/HTTPError/ProtocolError/ServerError
        (retry later), AuthError (fix the CIK) or CallError with every unsent
        value still in the journal."""
        self._journal()
        return self._forwarder.push(max_points, max_bytes)

    def _journal(self):
        if self.journal is None:
            raise JournalError("this Client has no journal: Client(cik, journal=Journal(path))")
        if self._forwarder is None:
            self._forwarder = forward.Forwarder(self, self.journal, forward.new_boot_id(),
                                                self.clock)
        return self.journal

    def _boot(self):
        return self._forwarder.boot


def _longer(base, extra):
    """A long poll must not be cut by the ordinary HTTP timeout."""
    return base if extra is None else base + extra


class Batch(Procedures):
    """Calls queued for one request. Each method returns the call's index in
    `results`. Leaving a `with` block sends them and raises the first
    CallError (all results stay in .results); send() returns the results with
    CallError instances in place of failed calls, and raises nothing for them."""

    def __init__(self, client):
        self.client = client
        self.calls = []
        self.results = None
        self.timeout = None

    def _call(self, call, timeout=None):
        if self.results is not None:
            raise ValidationError("this batch was already sent")
        self.calls.append(call)
        if timeout is not None:
            # One long poll in the batch makes the whole request a long poll.
            self.timeout = max(self.timeout or 0, timeout)
        return len(self.calls) - 1

    def send(self):
        if self.results is None:
            if not self.calls:
                raise ValidationError("an empty batch")
            self.results = self.client.send(self.calls, self.timeout)
        return self.results

    def __enter__(self):
        return self

    def __exit__(self, kind, failure, trace):
        if kind is not None:
            return False
        for outcome in self.send():
            if isinstance(outcome, OnepError):
                raise outcome
        return False
