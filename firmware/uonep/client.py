"""Client: the One Platform RPC client. Data procedures are methods here;
management procedures (create, info, listing, share, grant ...) live in
uonep.admin and are loaded on their first call, so a sampling device never
pays for them. Store and forward is uonep.forward.Uplink, over a Client.

    c = Client(cik, server="https://m2.exosite.com")
    c.write("temp", 23.5)
    c.read("temp", limit=10)          # -> [[timestamp, value], ...]
    with c.batch() as b:
        b.write("a", 1)
        b.read("b")
    b.results                         # one entry per call
"""

from . import rpc
from .errors import CallError, OnepError, ProtocolError, ValidationError
from .transport import Transport, server_url


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

    def wait(self, resource, timeout=30000, since=None):
        """Block until a point newer than `since` arrives: [timestamp, value].
        Raises CallError with status "expire" after `timeout` ms."""
        return self._call(rpc.wait(resource, timeout, since), timeout=timeout / 1000)

    def __getattr__(self, name):
        # create, create_dataport, update, info, listing, drop, flush, move,
        # usage, map, unmap, lookup, share, revoke, activate, deactivate,
        # grant, tag: built by uonep.admin, imported on the first of them.
        if name[0] != "_":
            from . import admin
            if name in admin.PROCEDURES:
                build = admin.PROCEDURES[name]
                return lambda *args, **options: self._call(build(*args, **options))
        raise AttributeError(name)


class Client(Procedures):
    """A One Platform client for one set of credentials.

    cik: the device's 40-hex key (or give token=...); client_id/resource_id
    act as a descendant client or as the owner of a descendant resource.
    server: the server's URL ("https://host[:port]"; host/port/https, the
    older form, still work). timeout: seconds for a whole request.
    user_agent: the User-Agent header. verify: how the built-in uonep.http
    checks the server's TLS certificate (True: the shipped CA set; a path or
    PEM/DER bytes: your own CA; False: no check). http: a `requests`-like
    object instead of uonep.http (a requests.Session on CPython).

    Plain HTTP as the device (the CIK alone, loaded on first call):
    content_list(vendor, model), content_info(vendor, model, id),
    content_download(vendor, model, id, path) (uonep.content), and the HTTP
    Data API data_write({alias: value}), data_read([alias]),
    data_wait(alias, timeout_ms) (uonep.dataapi).
    """

    def __init__(self, cik=None, server="https://m2.exosite.com", timeout=10, user_agent=None,
                 client_id=None, resource_id=None, token=None, http=None, verify=True,
                 host=None, port=None, https=True):
        self._auth = rpc.auth(cik, client_id, resource_id, token)
        if host is not None:
            server = server_url(host, port, https)
        self.transport = Transport(server, timeout, user_agent, http, verify)
        self.requests = 0

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
        ([(resource, b"[ts,v],..."), ...], see rpc.encode_recordbatches).
        Returns (one result or CallError per call, bytes of body sent)."""
        ids = list(range(1, len(batches) + 1))
        calls = [("recordbatch", None)] * len(batches)
        body = rpc.encode_recordbatches(self._auth, batches)
        return self._exchange(body, calls, ids, None), len(body)

    def _exchange(self, body, calls, ids, timeout):
        self.requests += 1
        transport = self.transport
        if timeout is not None:
            # A long poll must not be cut by the ordinary HTTP timeout.
            timeout += transport.timeout
        status, answer = transport.request("POST", rpc.PATH, body, rpc.CONTENT_TYPE, timeout)
        try:
            return rpc.decode_response(status, answer, calls, ids)
        except ProtocolError:
            # A server that answers what cannot be read is not kept for the
            # next request: its connection is closed.
            transport.close()
            raise

    def _call(self, call, timeout=None):
        outcome = self.send([call], timeout)[0]
        if isinstance(outcome, CallError):
            raise outcome
        return outcome

    def request(self, method, path, body=None, content_type=None):
        """One plain HTTP request to this client's server (no credentials
        added): (status, body bytes). For /timestamp, /provision/activate."""
        return self.transport.request(method, path, body, content_type)

    def close(self):
        """End the kept connection (the next request opens a new one)."""
        self.transport.close()

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
            return Procedures.__getattr__(self, name)
        return lambda *args, **options: function(self, *args, **options)


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
