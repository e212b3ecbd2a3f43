"""The only module of the core that talks to the network: one HTTP request
through an `http` object with requests' call shape.

By default that is uonep.http.HTTP (verified TLS, one kept-alive
connection, one deadline per request, bounded answers) on both runtimes.
`requests`, MicroPython's `requests` or a `requests.Session` work too (see
the README for what each leaves unprotected). Whatever such a library raises
becomes a TransportError; responses are always closed.
"""

from .errors import OnepError, TransportError

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
        return "<Transport %s>" % self.base

    def request(self, method, path, body=None, content_type=None, timeout=None, headers=None):
        """Send one request (`headers`: more header fields, a dict); return
        (HTTP status, body bytes). Raises TransportError when no complete
        answer arrived."""
        headers = dict(headers or ())
        headers["User-Agent"] = self.user_agent
        if content_type is not None:
            headers["Content-Type"] = content_type
        http = self.http
        if http is None:
            from .http import HTTP
            http = self.http = self._made = HTTP(self.verify)
        response = None
        try:
            response = http.request(method, self.base + path, data=body, headers=headers,
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
        """Close the kept connection of the uonep.http.HTTP this Transport
        made (an http object passed in is left to its owner)."""
        if self._made is not None:
            self._made.close()


def __getattr__(name):
    # server_url (the older host/port form) and reason (the cause of what
    # another HTTP library raised) are in uonep.builders: a board pushing
    # through uonep.http runs neither.
    if name in ("server_url", "reason", "REASON_LENGTH"):
        from . import builders
        return getattr(builders, name)
    raise AttributeError(name)
