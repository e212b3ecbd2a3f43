"""The CPython side of uonep's transport: a configured requests.Session.

The core's uonep.transport.Transport sends through any object with
requests' `request(method, url, data=, headers=, timeout=)`; on a board
that is MicroPython's `requests` module, here it is a Session, which keeps
connections alive between requests and verifies TLS certificates.

    from uonep_host.transport import session, transport
    http = session()                           # keep-alive, TLS verified
    link = transport("m2.exosite.com", http=http)
    status, body = link.request("GET", "/timestamp")

    from uonep_host import Client
    with Client(cik) as c:                     # uonep.Client over a Session
        c.write("temp", 23.5)
"""

import requests
from requests.adapters import HTTPAdapter

from uonep.client import Client as CoreClient
from uonep.transport import Transport

USER_AGENT = "uonep-host/0.1"
# Connections kept open per host. One client talks to one server, so a few
# cover the usual case of a long poll running next to ordinary calls.
POOL = 4


class _Session(requests.Session):
    """A Session whose own `verify` wins: plain requests lets the
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE environment variables replace a CA
    bundle (or a verify=False) set on the Session, silently."""

    def request(self, method, url, **options):
        options.setdefault("verify", self.verify)
        return super().request(method, url, **options)


def session(verify=True, pool=POOL, user_agent=USER_AGENT):
    """A requests.Session for the One Platform: connections are kept alive
    and reused, TLS certificates are verified (verify=False turns that off;
    a path names a CA bundle), and nothing is retried behind the caller's
    back: a POST may have run on the server even when its answer was lost,
    so whether to send it again is the caller's decision."""
    http = _Session()
    http.verify = verify
    http.headers["User-Agent"] = user_agent
    adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def transport(host, port=None, https=True, timeout=10, user_agent=None, http=None,
              verify=True):
    """The core's Transport sending through a Session (a new one from
    session(verify) unless `http` is given)."""
    if http is None:
        http = session(verify=verify)
    return Transport(host, port, https, timeout, user_agent, http)


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
