"""The CPython side of uonep's transport: a configured requests.Session.

The core's uonep.transport.Transport sends through any object with
requests' `request(method, url, data=, headers=, timeout=)`; on a board
that is uonep.http, here it is a Session that keeps connections alive,
verifies TLS certificates, never follows a redirect, ends every request by
one deadline (connect, handshake, send, headers and body together: a
server that drips its answer a byte at a time is cut off), and reads at
most `max_response` bytes of an answer.

    from uonep_host.transport import session, transport
    http = session()                           # keep-alive, TLS verified
    link = transport("https://m2.exosite.com", http=http)
    status, body = link.request("GET", "/timestamp")

    from uonep_host import Client
    with Client(cik) as c:                     # uonep.Client over a Session
        c.write("temp", 23.5)
"""

import io
import socket
import threading
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from uonep.client import Client as CoreClient
from uonep.errors import CertificateError, ProtocolError
from uonep.transport import Transport

USER_AGENT = "uonep-host/0.1"
# Connections kept open per host. One client talks to one server, so a few
# cover the usual case of a long poll running next to ordinary calls.
POOL = 4
# The largest answer read whole (a read of about 200,000 points); more is a
# ProtocolError, never a memory exhaustion.
MAX_RESPONSE = 4 << 20

# The deadline (time.monotonic()) of the request this thread is making.
_request = threading.local()


def _remaining():
    """Seconds left before this thread's request deadline (None: no deadline)."""
    deadline = getattr(_request, "deadline", None)
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("the request's deadline passed")
    return left


class _DeadlineSocket:
    """A connected socket (plain or TLS) whose every read and write ends by
    the deadline of the request in progress: a per-read timeout alone lets
    a server that sends a byte a second hold a request for ever."""

    def __init__(self, sock):
        self._sock = sock

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def _arm(self):
        left = _remaining()
        if left is not None:
            self._sock.settimeout(left)

    def recv_into(self, buffer, size=0, flags=0):
        self._arm()
        return self._sock.recv_into(buffer, size, flags)

    def recv(self, size, flags=0):
        self._arm()
        return self._sock.recv(size, flags)

    def send(self, data, flags=0):
        self._arm()
        return self._sock.send(data, flags)

    def sendall(self, data, flags=0):
        self._arm()
        return self._sock.sendall(data, flags)

    def makefile(self, mode="rb", buffering=-1, **ignored):
        # http.client reads the answer from this file: through our recv_into.
        # The file holds the real socket open until it is closed, as
        # socket.makefile does (its close calls _decref_socketios).
        self._sock._io_refs += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"), io.DEFAULT_BUFFER_SIZE)


class _DeadlineConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        # The TLS handshake that follows runs under this timeout: the rest.
        left = _remaining()
        if left is not None:
            sock.settimeout(left)
        return sock

    def connect(self):
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineSecureConnection(_DeadlineConnection, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


class _SecurePool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineSecureConnection


class _Adapter(HTTPAdapter):
    """An HTTPAdapter whose connections keep the request deadline."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _SecurePool}


class _Session(requests.Session):
    """A Session whose own `verify` wins (plain requests lets the
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE environment variables replace a CA
    bundle, or a verify=False, set on the Session, silently), that never
    follows redirects, ends each request by one deadline (`timeout`
    seconds for the whole exchange) and reads at most max_response bytes."""

    max_response = MAX_RESPONSE

    def request(self, method, url, **options):
        options.setdefault("verify", self.verify)
        # A redirect would carry the body, and its CIK, to another host.
        options["allow_redirects"] = False
        options["stream"] = True
        timeout = options.get("timeout")
        _request.deadline = None if timeout is None else time.monotonic() + timeout
        response = None
        try:
            response = super().request(method, url, **options)
            body = bytearray()
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > self.max_response:
                    raise ProtocolError("an answer larger than max_response (%d bytes)"
                                        % self.max_response)
            response._content = bytes(body)
            return response
        except requests.exceptions.SSLError as failure:
            if "CERTIFICATE_VERIFY_FAILED" not in str(failure):
                raise
            raise CertificateError("%s: TLS certificate refused, not a network failure (%s)"
                                   % (url.split("/")[2], _cause(failure))) from None
        except BaseException:
            if response is not None:
                response.close()
            raise
        finally:
            _request.deadline = None


def _cause(failure):
    """The certificate check's own words, from requests' long message."""
    text = str(failure)
    start = text.find("certificate verify failed")
    return text[start:].split(" (_ssl", 1)[0] if start >= 0 else "verification failed"


def session(verify=True, pool=POOL, user_agent=USER_AGENT, max_response=MAX_RESPONSE):
    """A requests.Session for the One Platform: connections are kept alive
    and reused, TLS certificates are verified (verify=False turns that off;
    a path names a CA bundle), redirects are not followed, each request ends
    by its `timeout` as a whole, answers over max_response bytes are refused,
    and nothing is retried behind the caller's back: a POST may have run on
    the server even when its answer was lost, so whether to send it again is
    the caller's decision."""
    http = _Session()
    http.verify = verify
    http.max_response = max_response
    http.headers["User-Agent"] = user_agent
    adapter = _Adapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def transport(server, timeout=10, user_agent=None, http=None, verify=True):
    """The core's Transport to the server URL ("https://host:port") sending
    through a Session (a new one from session(verify) unless `http` is given)."""
    if http is None:
        http = session(verify=verify)
    return Transport(server, timeout, user_agent, http)


class Client(CoreClient):
    """uonep.Client sending through a Session from session(verify) unless
    http= is given (as a keyword). close() (or leaving a `with` block)
    closes the Session it made; one passed in is left to its owner."""

    def __init__(self, *args, http=None, verify=True, **kwargs):
        self._owns_http = http is None
        if http is None:
            http = session(verify=verify)
        super().__init__(*args, http=http, **kwargs)

    def close(self):
        """Close the keep-alive connections of the Session this client made."""
        if self._owns_http:
            self.transport.http.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, failure, trace):
        self.close()
        return False
