"""The in-process front door: requests' call shape, no sockets.

    from uonep_host import Client
    from uonep_host.emulator import DEFAULT_CIK, DEFAULT_SEED, Emulator
    emulator = Emulator(seed=DEFAULT_SEED)        # not started: no port, no thread
    client = Client(DEFAULT_CIK, host="emulator", https=False, http=emulator.session())
    client.write("temp", 21.5)
    emulator.stop()

Every request goes to the emulator's core (the scheme, host and port of a
URL are ignored; a bare path works too). Faults arm and fire as over HTTP,
and what they do to a connection becomes what a requests.Session raises:
drop_before_body and drop_after_body (after running the calls) raise
requests.ConnectionError; a stall, or a long poll, that outlasts the
request's timeout raises requests.ReadTimeout (the calls ran); stall with
then="close" raises requests.ConnectionError; truncate cuts the body.
"""

import json as jsonlib
import time
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from .core import Request


class Response:
    """The part of requests.Response that clients of the emulator use."""

    def __init__(self, url, status, headers, content):
        self.url = url
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers)
        self.content = content

    def __repr__(self):
        return "<Response [%d]>" % self.status_code

    @property
    def reason(self):
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def ok(self):
        return self.status_code < 400

    @property
    def text(self):
        return self.content.decode(_charset(self.headers.get("Content-Type", "")), "replace")

    def json(self, **options):
        """The body decoded as JSON; ValueError when it is not JSON."""
        return jsonlib.loads(self.text, **options)

    def close(self):
        """Nothing to release (for the same calls as requests.Response)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class Session:
    """requests.Session's call shape over an emulator's core (see the
    module docstring). Thread-safe like the core: several threads may send
    at once (a long poll in one, writes in another)."""

    def __init__(self, core):
        self.core = core

    def request(self, method, url, data=None, json=None, headers=None, timeout=None):
        """Send one request; a Response, or requests' ConnectionError or
        ReadTimeout where a socket would have failed."""
        if self.core.stopped:
            raise requests.ConnectionError("the in-process emulator is stopped")
        body, content_type = _encode(data, json)
        sent = CaseInsensitiveDict(headers or {})
        if content_type is not None and "Content-Type" not in sent:
            sent["Content-Type"] = content_type
        limit = _read_timeout(timeout)
        started = time.monotonic()
        answer = self.core.handle(Request(method.upper(), url, sent, body,
                                          peer="127.0.0.1:0", server=_server(url)))
        late = limit is not None and time.monotonic() - started > limit
        if answer.stall and not late:
            left = answer.stall if limit is None else limit - (time.monotonic() - started)
            late = answer.stall > left
            self.core.stopping.wait(max(0.0, min(answer.stall, left)))
        if late:
            raise requests.ReadTimeout("the in-process emulator did not answer %s %s within "
                                       "%s s" % (method, url, limit))
        if answer.drop:
            raise requests.ConnectionError("the in-process emulator closed the connection of "
                                           "%s %s without answering" % (method, url))
        headers = dict(answer.headers, **{"Content-Length": str(len(answer.body))})
        return Response(url, answer.status, headers, answer.body)

    def get(self, url, **options):
        return self.request("GET", url, **options)

    def post(self, url, data=None, json=None, **options):
        return self.request("POST", url, data=data, json=json, **options)

    def put(self, url, data=None, **options):
        return self.request("PUT", url, data=data, **options)

    def delete(self, url, **options):
        return self.request("DELETE", url, **options)

    def close(self):
        """Nothing to release (for the same calls as requests.Session)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _encode(data, document):
    """(body bytes, Content-Type or None) as requests makes them."""
    if document is not None:
        return jsonlib.dumps(document).encode("utf-8"), "application/json"
    if data is None:
        return b"", None
    if isinstance(data, (dict, list, tuple)):
        # a list value is a repeated field, as requests sends it
        return urlencode(data, doseq=True).encode("ascii"), "application/x-www-form-urlencoded"
    if isinstance(data, str):
        return data.encode("utf-8"), None
    return bytes(data), None


def _server(url):
    """(address, port) a URL names, as a server would see it: a name that
    is not an address is the loopback; no port is the scheme's."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "127.0.0.1"
    if not all(piece.isdigit() for piece in host.split(".")) or host.count(".") != 3:
        host = "127.0.0.1"
    return host, port or (443 if parts.scheme == "https" else 80)


def _read_timeout(timeout):
    """Seconds to wait for an answer (None: forever); requests also takes a
    (connect, read) pair."""
    if isinstance(timeout, tuple):
        return timeout[1]
    return timeout


def _charset(content_type):
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"
