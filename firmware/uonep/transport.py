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
# Failure messages are cut to about this many characters, by whole words.
REASON_LENGTH = 200


class Transport:
    """HTTP to one server. `http` is anything with requests' call
    `request(method, url, data=..., headers=..., timeout=...)`; None: a
    uonep.http.HTTP checking certificates as `verify` says (True: the
    shipped CA set; a path or PEM/DER bytes: that CA; False: no check)."""

    def __init__(self, host, port=None, https=True, timeout=10, user_agent=None, http=None,
                 verify=True):
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
