"""The only module that does network I/O: HTTP requests through `requests`.

On a board that is MicroPython's built-in `requests` (one connection per
request). On CPython, uonep_host passes a `requests.Session` (keep-alive,
TLS verification on), but plain `requests` works too. Whatever the library
raises becomes a TransportError; responses are always closed.
"""

from .errors import TransportError

USER_AGENT = "uonep/0.1"


class Transport:
    """HTTP to one server. `http` is anything with requests' call
    `request(method, url, data=..., headers=..., timeout=...)`: the
    `requests` module itself (the default) or a `requests.Session`."""

    def __init__(self, host, port=None, https=True, timeout=10, user_agent=None, http=None):
        scheme = "https" if https else "http"
        # pyonep users pass the port as a string ("443").
        port = None if port is None else int(port)
        if port is None or port == (443 if https else 80):
            self.base = "%s://%s" % (scheme, host)
        else:
            self.base = "%s://%s:%d" % (scheme, host, port)
        self.timeout = timeout
        self.user_agent = user_agent or USER_AGENT
        self.http = http
        self.requests_sent = 0

    def __repr__(self):
        return "<Transport %s>" % self.base

    def request(self, method, path, body=None, content_type=None, timeout=None):
        """Send one request; return (HTTP status, body bytes). Raises
        TransportError when no complete answer arrived."""
        headers = {"User-Agent": self.user_agent}
        if content_type is not None:
            headers["Content-Type"] = content_type
        http = self.http
        if http is None:
            import requests
            http = self.http = requests
        self.requests_sent += 1
        response = None
        try:
            response = http.request(method, self.base + path, data=body, headers=headers,
                                    timeout=self.timeout if timeout is None else timeout)
            return response.status_code, response.content
        except MemoryError:
            # Not the network: the caller may retry with smaller requests.
            raise
        except Exception as failure:
            # socket errors, timeouts, a connection closed mid-answer, a garbled
            # status line: all mean "no usable answer", and all can be retried.
            raise TransportError("%s %s failed: %s" % (method, path, _reason(failure)))
        finally:
            if response is not None:
                try:
                    response.close()
                except Exception:
                    pass


def _reason(failure):
    """A short cause for a transport failure. requests' messages can include
    the URL but never the body, so no credential is quoted."""
    text = str(failure)
    if len(text) > 200:
        # The cause ("certificate verify failed", "timed out") is at the end.
        text = text[:60] + " ... " + text[-140:]
    return "%s %s" % (type(failure).__name__, text)
