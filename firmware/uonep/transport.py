"""The only module of the core that talks to the network: one HTTP request
through an `http` object with requests' call shape.

By default that is uonep.http.HTTP (verified TLS, one kept-alive
connection, one deadline per request, bounded answers) on both runtimes.
`requests`, MicroPython's `requests` or a `requests.Session` work too (see
the README for what each leaves unprotected). Whatever such a library raises
becomes a TransportError; responses are always closed.
"""

from .errors import OnepError, TransportError, ValidationError

USER_AGENT = "uonep/0.1"
# Failure messages are cut to about this many characters, by whole words.
REASON_LENGTH = 200


def parse_server(server):
    """(https, host, port) of a server URL "https://host[:port]" or
    "http://host[:port]" (port None: the scheme's own). The one parser of
    server URLs: a ValidationError for anything else."""
    parts = server.split("://") if isinstance(server, str) else ()
    scheme = host = ""
    port = None
    if len(parts) == 2:
        scheme, host = parts
        if host.endswith("/"):
            host = host[:-1]
        if ":" in host:
            host, number = host.split(":", 1)
            port = int(number) if number.isdigit() else 0
    if scheme not in ("http", "https"):
        problem = "it does not start with http:// or https://"
    elif not host or "/" in host or "@" in host:
        problem = "after the scheme: a host name and an optional :port, nothing more"
    elif port == 0 or (port or 0) > 65535:
        problem = "the port is not a number from 1 to 65535"
    else:
        return scheme == "https", host, port
    # The text itself is not quoted: a mistyped secrets file may have put
    # a password there.
    raise ValidationError("server must be a URL such as https://m2.exosite.com or "
                          "http://127.0.0.1:8080 (%s)" % problem)


def server_url(host, port=None, https=True):
    """The server URL of a host name, a port (int or string) and a scheme;
    a URL given as the host is refused (give it as server= instead)."""
    if not isinstance(host, str) or "://" in host or "/" in host or not host:
        raise ValidationError("host is a name such as m2.exosite.com; give a URL as "
                              "server=\"https://host:port\"")
    return "%s://%s%s" % ("https" if https else "http", host,
                          "" if port is None else ":%d" % int(port))


class Transport:
    """HTTP to one server, given as a URL ("https://m2.exosite.com"). `http`
    is anything with requests' call `request(method, url, data=...,
    headers=..., timeout=...)`; None: a uonep.http.HTTP checking
    certificates as `verify` says (True: the shipped CA set; a path or
    PEM/DER bytes: that CA; False: no check)."""

    def __init__(self, server, timeout=10, user_agent=None, http=None, verify=True):
        https, host, port = parse_server(server)
        if port is None or port == (443 if https else 80):
            self.base = "%s://%s" % ("https" if https else "http", host)
        else:
            self.base = "%s://%s:%d" % ("https" if https else "http", host, port)
        self.timeout = timeout
        self.user_agent = user_agent or USER_AGENT
        self.http = http
        self.verify = verify
        self._made = None
        self.requests_sent = 0

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
        self.requests_sent += 1
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
            # socket errors, timeouts, a connection closed mid-answer, a garbled
            # status line: all mean "no usable answer", and all can be retried.
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


def reason(failure, limit=REASON_LENGTH):
    """A short cause for a failure: its type and message, cut by whole words
    to about `limit` characters keeping the start and the end (where
    requests puts the cause), with any 40-hex word (a CIK) hidden."""
    words = []
    for word in ("%s %s" % (type(failure).__name__, failure)).split():
        words.append("<hidden>" if _has_key(word) else word)
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    head = []
    tail = []
    size = 5
    while True:
        # The end holds the cause: it keeps twice the words of the start.
        ending = len(tail) <= 2 * len(head)
        word = words.pop() if ending else words.pop(0)
        size += len(word) + 1
        if size > limit:
            break
        (tail if ending else head).append(word)
    if not tail:
        # One word longer than the limit: its end.
        tail.append(word[-limit:])
    return " ".join(head) + " ... " + " ".join(reversed(tail))


def _has_key(word):
    """Whether word holds 40 hex characters in a row."""
    run = 0
    for character in word:
        run = run + 1 if character in "0123456789abcdefABCDEF" else 0
        if run >= 40:
            return True
    return False
