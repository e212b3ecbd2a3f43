"""Client: the One Platform RPC client. What a sampling device runs is
here: the credentials, the connection and send_recordbatches, the request
uonep.forward.Uplink pushes with. The other methods (send, batch, read,
write, writegroup, record, recordbatch, wait; the management procedures
create, info, listing, share, grant ...; content_* and data_*) are loaded
on their first call from uonep.builders (and uonep.admin, uonep.content,
uonep.dataapi), so a sampling device never pays for them.

    c = Client(cik, server="https://m2.exosite.com")
    c.write("temp", 23.5)
    c.read("temp", limit=10)          # -> [[timestamp, value], ...]
    with c.batch() as b:
        b.write("a", 1)
        b.read("b")
    b.results                         # one entry per call
"""

from . import rpc
from .errors import ProtocolError
from .transport import Transport


class Client:
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
        self.set_credentials(cik, client_id, resource_id, token)
        if host is not None:
            from .builders import server_url
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

    def send_recordbatches(self, batches):
        """One request of recordbatch calls from pre-encoded points
        ([(resource, b"[ts,v],..."), ...], see rpc.encode_recordbatches).
        Returns (one result or CallError per call, bytes of body sent)."""
        ids = list(range(1, len(batches) + 1))
        body = rpc.encode_recordbatches(self._auth, batches)
        return self._exchange(body, [("recordbatch",)] * len(ids), ids, None), len(body)

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

    def request(self, method, path, body=None, content_type=None):
        """One plain HTTP request to this client's server (no credentials
        added): (status, body bytes). For /timestamp, /provision/activate."""
        return self.transport.request(method, path, body, content_type)

    def close(self):
        """End the kept connection (the next request opens a new one)."""
        self.transport.close()

    def __getattr__(self, name):
        # Every method beyond the push is built by uonep.builders, imported
        # on the first of them. Never for a private name (copy and pickle
        # ask for __getstate__ and friends before __init__ ran).
        if name[0] == "_":
            raise AttributeError(name)
        from .builders import method
        return method(self, name)


def __getattr__(name):
    # uonep.client.Batch, as before the builders moved out.
    if name == "Batch":
        from .builders import Batch
        return Batch
    raise AttributeError(name)
