"""Client: the One Platform RPC client, and Transport, the HTTP link to one
server it is. What a sampling device runs is here: the credentials, the
connection and send_recordbatches, the request uonep.forward.Uplink pushes
with. The other methods (send, batch, read, write, writegroup, record,
recordbatch, wait; the management procedures create, info, listing, share,
grant ...; content_* and data_*) are loaded on their first call from
uonep.builders (and uonep.admin, uonep.content, uonep.dataapi), so a
sampling device never pays for them.

    c = Client(cik, server="https://m2.exosite.com")
    c.write("temp", 23.5)
    c.read("temp", limit=10)          # -> [[timestamp, value], ...]
    with c.batch() as b:
        b.write("a", 1)
        b.read("b")
    b.results                         # one entry per call

Transport is the one class of the core that talks to the network: one HTTP
request through an `http` object with requests' call shape. By default that
is uonep.http.HTTP (verified TLS, one kept-alive connection, one deadline
per request, bounded answers) on both runtimes. `requests`, MicroPython's
`requests` or a `requests.Session` work too (see the README for what each
leaves unprotected). Whatever such a library raises becomes a
TransportError; responses are always closed. (uonep.transport names it too.)
"""

from . import rpc
from .errors import OnepError, ProtocolError, TransportError

USER_AGENT = "uonep/0.1"


def parse_server(server):
    """(https, host, port) of a server URL "https://host[:port]" or
    "http://host[:port]" (port None: the scheme's own). The one parser of
    server URLs: a ValidationError for anything else."""
    scheme, _, host = server.partition("://") if isinstance(server, str) else ("", "", "")
    if host[-1:] == "/":
        host = host[:-1]
    host, colon, port = host.partition(":")
    port = int(port) if port.isdigit() else 0 if colon else None
    if scheme in ("http", "https") and host and "/" not in host and "@" not in host and \
            port != 0 and (port or 0) < 65536:
        return scheme == "https", host, port
    from .builders import refusal
    raise refusal("server", server)


class Transport:
    """HTTP to one server, given as a URL ("https://m2.exosite.com"). `http`
    is anything with requests' call `request(method, url, data=...,
    headers=..., timeout=...)`; None: a uonep.http.HTTP checking
    certificates as `verify` says (True: the shipped CA set; a path or
    PEM/DER bytes: that CA; False: no check)."""

    def __init__(self, server, timeout=10, user_agent=None, http=None, verify=True):
        https, host, port = parse_server(server)
        self.base = ("https://" if https else "http://") + host
        if port not in (None, 443 if https else 80):
            self.base += ":%d" % port
        self.timeout = timeout
        self.user_agent = user_agent or USER_AGENT
        self.http = http
        self.verify = verify
        self._made = None

    def __repr__(self):
        # Credentials stay out of reprs: they end up in logs.
        return "<uonep.%s %s>" % (type(self).__name__, self.base)

    def request(self, method, path, body=None, content_type=None, timeout=None, headers=None):
        """Send one request (`headers`: more header fields, a dict); return
        (HTTP status, body bytes). Raises TransportError when no complete
        answer arrived. (No credentials added: for /timestamp,
        /provision/activate.)"""
        fields = {"User-Agent": self.user_agent}
        if content_type is not None:
            fields["Content-Type"] = content_type
        if headers:
            # Theirs first, as the wire has always had them.
            fields = dict(headers, **fields)
        http = self.http
        if http is None:
            from .http import HTTP
            http = self.http = self._made = HTTP(self.verify)
        response = None
        try:
            response = http.request(method, self.base + path, data=body, headers=fields,
                                    timeout=self.timeout if timeout is None else timeout)
            return response.status_code, response.content
        except (OnepError, MemoryError):
            # uonep.http's errors already say what failed; a MemoryError is
            # not the network: the caller may retry with smaller requests.
            raise
        except Exception as failure:
            # Another library's socket errors, timeouts, a connection closed
            # mid-answer, a garbled status line: all mean "no usable
            # answer", and all can be retried.
            from .builders import reason
            raise TransportError("%s %s failed: %s" % (method, path, reason(failure)))
        finally:
            if response is not None:
                try:
                    response.close()
                except Exception:
                    pass

    def close(self):
        """End the kept connection of the uonep.http.HTTP this made (the
        next request opens a new one; an http object passed in is left to
        its owner)."""
        if self._made is not None:
            self._made.close()


class Client(Transport):
    """A One Platform client for one set of credentials.

    cik: the device's 40-hex key (or give token=...); client_id/resource_id
    act as a descendant client or as the owner of a descendant resource.
    server: the server's URL ("https://host[:port]"; host/port/https, the
    older form, still work). timeout: seconds for a whole request.
    user_agent: the User-Agent header. verify: how the built-in uonep.http
    checks the server's TLS certificate (True: the shipped CA set; a path or
    PEM/DER bytes: your own CA; False: no check). http: a `requests`-like
    object instead of uonep.http (a requests.Session on CPython).

    A Client is its own transport (client.transport, as before): request(),
    close(), base, timeout, http.

    Plain HTTP as the device (the CIK alone, loaded on first call):
    content_list(vendor, model), content_info(vendor, model, id),
    content_download(vendor, model, id, path) (uonep.content), and the HTTP
    Data API data_write({alias: value}), data_read([alias]),
    data_wait(alias, timeout_ms) (uonep.dataapi).
    """

    def __init__(self, cik=None, server="https://m2.exosite.com", timeout=10, user_agent=None,
                 client_id=None, resource_id=None, token=None, http=None, verify=True,
                 host=None, port=None, https=True):
        self.set_credentials(cik, client_id, resource_id, token)
        if host is not None:
            from .builders import server_url
            server = server_url(host, port, https)
        Transport.__init__(self, server, timeout, user_agent, http, verify)
        self.transport = self

    def set_credentials(self, cik=None, client_id=None, resource_id=None, token=None):
        """Use other credentials from the next request on (a device that
        has just activated gets its CIK here)."""
        self._auth = rpc.auth(cik, client_id, resource_id, token)

    def send_recordbatches(self, batches):
        """One request of recordbatch calls from pre-encoded points
        ([(resource, b"[ts,v],..."), ...], see rpc.encode_recordbatches).
        Returns (one result or CallError per call, bytes of body sent)."""
        from .http import HTTP
        ids = list(range(1, len(batches) + 1))
        body = rpc.recordbatch_parts(self._auth, batches)
        size = 0
        for part in body:
            size += len(part)
        if self.http is not None and not isinstance(self.http, HTTP):
            # Another library takes bytes; uonep.http (made at the first
            # request when none was given) takes the parts, uncopied.
            body = b"".join(body)
        return self._exchange(body, [("recordbatch",)] * len(ids), ids, None), size

    def _exchange(self, body, calls, ids, timeout):
        if timeout is not None:
            # A long poll must not be cut by the ordinary HTTP timeout.
            timeout += self.timeout
        status, answer = self.request("POST", rpc.PATH, body, rpc.CONTENT_TYPE, timeout)
        try:
            return rpc.decode_response(status, answer, calls, ids)
        except ProtocolError:
            # A server that answers what cannot be read is not kept for the
            # next request: its connection is closed.
            self.close()
            raise

    def __getattr__(self, name):
        # Every method beyond the push is built by uonep.builders, imported
        # on the first of them. Never for a private name (copy and pickle
        # ask for __getstate__ and friends before __init__ ran).
        if name[0] == "_":
            raise AttributeError(name)
        from .builders import method
        return method(self, name)


def __getattr__(name):
    # uonep.client.Batch, as before the builders moved out; server_url (the
    # older host/port form) and reason (the cause of what another HTTP
    # library raised), as uonep.transport had them: a board pushing through
    # uonep.http runs none of them. Never for a private name (CPython asks
    # for __path__ and friends).
    if name[:1] == "_":
        raise AttributeError(name)
    from . import builders
    return getattr(builders, name)
