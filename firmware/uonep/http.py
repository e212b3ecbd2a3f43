"""The board's HTTP/1.1 client: verified TLS, one kept-alive connection,
one deadline per request, bounded answers. It has the call shape of
`requests`, so the core sends through it as through `requests`:

    http = HTTP(verify=True)    # or a CA path, PEM/DER bytes, or False
    response = http.request("POST", "https://m2.exosite.com/onep:v1/rpc/process",
                            data=body, headers={...}, timeout=10)
    response.status_code, response.content
    http.close()

- verify=True checks the server's chain and host name against the CA set
  in ca.der next to this module (a few roots from certifi, kept in flash,
  read one certificate at a time at connect). A path names a DER or PEM
  file, bytes are one DER certificate or PEM text. A refused certificate
  raises CertificateError.
- One connection serves every request to the same server until the server
  says `Connection: close`, closes it, or a request fails. A request goes
  again on a new connection only when the kept one was found dead before
  it took a byte of it: the server cannot have run it.
- `timeout` bounds the whole request (connect, TLS handshake, send, status,
  headers, body) in seconds; the DNS lookup is the one step it cannot cut.
- `data` is bytes or text, or a list of byte strings sent in order as one
  body (uonep's own: a large body is never put together in RAM).
- Answers are bounded: each line (MAX_LINE), the header lines (MAX_HEADERS),
  the body (max_response); the body needs Content-Length or chunked. Past
  a cap: ProtocolError. Redirects are never followed: the status is returned.
"""

import errno
import gc
import select
import socket
import sys

from .clock import ticks_diff, ticks_ms
from .errors import OnepError, ProtocolError, TransportError

MAX_LINE = 1024
MAX_HEADERS = 32
# The largest answer read: a push's answer is about 25 bytes per call, a
# read of 800 points about 15 KB. An answer within it that the heap cannot
# hold is a ProtocolError too.
MAX_RESPONSE = 16384
# (2 and 3 below: CPython's "try again" errors of a nonblocking TLS socket,
# SSLWantReadError and SSLWantWriteError; MicroPython returns None instead.)


class Response:
    """What request() returns; the body is already read whole."""

    def __init__(self, status_code, content):
        self.status_code = status_code
        self.content = content

    def close(self):
        """Nothing to release: the answer was read whole."""


class HTTP:
    """requests-like HTTP/1.1 over one kept-alive connection; see the module
    docstring. `connections` counts the connections (TLS handshakes) made."""

    def __init__(self, verify=True, max_response=MAX_RESPONSE):
        self.verify = verify
        self.max_response = max_response
        self.connections = 0
        # The connection: its socket, the plain one under it (the same
        # without TLS), its server and the poller of its socket.
        self._socket = self._raw = self._server = self._poller = None
        # What was read and not used yet: self._rest from self._start on.
        self._rest = b""
        self._start = 0
        # One read buffer for every request.
        self._buffer = memoryview(bytearray(256))

    def request(self, method, url, data=None, headers=None, timeout=10):
        # The deadline: when the request started, and its ms.
        self._deadline = ticks_ms(), int(timeout * 1000)
        server, message = self._message(method, url, data, headers)
        try:
            if self._socket and self._server != server:
                self.close()
            if self._socket:
                # The kept connection is still open while there is nothing
                # to read (the server's close would be).
                try:
                    alive = self._input(self._buffer) is None
                except OSError as failure:
                    alive = failure.errno in (errno.EAGAIN, 2)
                if not alive:
                    self.close()
            reused = self._socket is not None
            if not reused:
                self._connect(server)
            self._send(message, reused)
            return self._receive()
        except BaseException as failure:
            self.close()
            if isinstance(failure, (OnepError, MemoryError)) or not isinstance(failure,
                                                                                Exception):
                # A MemoryError: the caller may retry with smaller requests.
                raise
            raise _tls().failure(server[1], failure)

    def close(self):
        """Close the kept connection (the next request opens a new one)."""
        # Both: MicroPython's TLS socket lets go of the plain one, unclosed,
        # when its handshake fails.
        for connection in (self._socket, self._raw):
            if connection:
                try:
                    connection.close()
                except OSError:
                    pass
        self._socket = self._raw = None
        self._rest = b""
        self._start = 0

    def _connect(self, server):
        connection = self._open(server)
        if server[0]:
            context = _tls().context(self.verify)
            # mbedTLS takes its buffers (about 35 KB on a board) from the heap
            # a few at a time: a collection first leaves them whole free runs.
            gc.collect()
            # The handshake runs inside the first write, under the deadline.
            self._poller.unregister(connection)
            self._socket = connection = context.wrap_socket(
                connection, server_hostname=server[1], do_handshake_on_connect=False)
            self._poller.register(connection)
        # Nonblocking, MicroPython's readinto and write return None where
        # CPython's recv_into and send raise; _transfer takes both. CPython's
        # sockets lack readinto; MicroPython's plain ones lack recv_into (its
        # TLS ones built with DTLS have it, as readinto and a write, alike).
        if hasattr(connection, "recv_into"):
            self._input = connection.recv_into  # type: ignore[attr-defined]
            self._output = connection.send
        else:
            self._input, self._output = connection.readinto, connection.write
        self.connections += 1

    def _open(self, server):
        """The plain socket to server, connected within the deadline and
        registered with the poller."""
        _, host, port = server
        address = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        self._server = server
        self._socket = self._raw = connection = socket.socket(address[0], address[1])
        # IPPROTO_TCP, TCP_NODELAY: a large body follows its head in a write
        # of its own without waiting for an ACK.
        connection.setsockopt(6, 1, 1)
        connection.setblocking(False)
        try:
            connection.connect(address[-1])
        except OSError as failure:
            if failure.errno != errno.EINPROGRESS:
                raise
        self._poller = select.poll()
        self._poller.register(connection)
        # A refused connection shows as an error on the first write.
        while not self._wait(select.POLLOUT):
            pass
        return connection

    def _transfer(self, buffer, reading):
        """Read into or write from buffer once the socket is ready, within
        the deadline; the count (never 0)."""
        event = select.POLLIN if reading else select.POLLOUT
        while True:
            try:
                count = (self._input if reading else self._output)(buffer)
            except OSError as failure:
                code = failure.errno
                if code not in (errno.EAGAIN, 2, 3):
                    raise
                if code != errno.EAGAIN:
                    event = select.POLLIN if code == 2 else select.POLLOUT
                count = None
            if count == 0:
                raise TransportError("the server closed the connection mid-answer")
            if count is not None:
                return count
            self._wait(event)

    def _wait(self, event):
        started, budget = self._deadline
        remaining = budget - ticks_diff(ticks_ms(), started)
        if remaining <= 0:
            raise TransportError("no complete answer within %s s" % (budget / 1000))
        self._poller.modify(self._socket, event)
        for _, events in self._poller.poll(remaining):
            return events
        return 0

    def _send(self, data, reused):
        """Send the byte strings of data, in order."""
        sent = 0
        for part in data:
            view = memoryview(part)
            done = 0
            while done < len(part):
                try:
                    count = self._transfer(view[done:], False)
                except OSError:
                    if sent or not reused:
                        raise
                    # The kept connection was dead before it took a byte.
                    self.close()
                    self._connect(self._server)
                    reused = False
                    continue
                done += count
                sent += count

    def _line(self):
        rest, start = self._rest, self._start
        end = rest.find(b"\n", start)
        while end < 0 and len(rest) - start <= MAX_LINE:
            # What is left of the lines read, then the next read.
            rest = self._rest = rest[start:] + self._buffer[:self._transfer(self._buffer, True)]
            start = 0
            end = rest.find(b"\n")
        if not start <= end <= start + MAX_LINE:
            raise _bad("a line over %d bytes" % MAX_LINE)
        self._start = end + 1
        return rest[start:end].strip()

    def _exact(self, size, offset=0):
        """The next size bytes of the body, which has `offset` bytes already."""
        if offset + size > self.max_response:
            raise _bad("over max_response, %d bytes" % self.max_response)
        body = bytearray(size)
        start = self._start
        got = min(size, len(self._rest) - start)
        body[:got] = memoryview(self._rest)[start:start + got]
        self._start = start + got
        view = memoryview(body)
        while got < size:
            got += self._transfer(view[got:], True)
        return body

    def _headers(self):
        """Read header lines up to the empty one: (Content-Length or None,
        chunked, connection close)."""
        length = None
        chunked = close = False
        for _ in range(MAX_HEADERS):
            line = self._line()
            if not line:
                return length, chunked, close
            name, colon, value = line.partition(b":")
            if not colon:
                raise _bad("header line")
            name = name.strip().lower()
            value = value.strip().lower()
            if name == b"content-length":
                if not value.isdigit() or length not in (None, int(value)):
                    raise _bad("Content-Length")
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = True
                if value != b"chunked":
                    raise _bad("Transfer-Encoding")
            elif name == b"connection":
                close = value == b"close"
        raise _bad("over %d header lines" % MAX_HEADERS)

    def _receive(self):
        parts = self._line().split(None, 2)
        if len(parts) < 2 or parts[0][:7] != b"HTTP/1." or not parts[1].isdigit():
            raise _bad("status line")
        status = int(parts[1])
        length, chunked, close = self._headers()
        try:
            if chunked:
                body = bytearray()
                while True:
                    try:
                        size = int(self._line().split(b";")[0], 16)
                    except ValueError:
                        raise _bad("chunk size")
                    if size <= 0:
                        break
                    body += self._exact(size, len(body))
                    if self._line():
                        raise _bad("chunk end")
                self._headers()
            elif length is not None:
                body = self._exact(length)
            elif status in (204, 304):
                body = b""
            else:
                # A body ended by a close cannot be told from a cut one.
                raise _bad("no Content-Length")
        except MemoryError:
            # Within max_response, yet more than this heap holds now: the
            # answer's fault, not a reason to shrink the requests.
            raise _bad("no room in RAM for the body")
        if close or len(self._rest) > self._start or parts[0] != b"HTTP/1.1":
            self.close()
        return Response(status, body)

    def _message(self, method, url, data, headers):
        """((https, host, port), [the head, with the body when small, then
        the body's parts when they go in writes of their own]) for an
        http(s):// URL."""
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        https = scheme == "https"
        name, colon, port = host.partition(":")
        port = int(port) if colon else 443 if https else 80
        text = "Host: %s\r\n" % host
        for field in headers or ():
            text += "%s: %s\r\n" % (field, headers[field])
        server = https, name, port
        method, path, lines = method.encode(), path.encode(), text.encode()
        if data is None and method != b"POST":
            return server, [b"%s /%s HTTP/1.1\r\n%s\r\n" % (method, path, lines)]
        # data: bytes or text, or (uonep's own) a list of byte strings sent
        # in order, a body never put together in RAM.
        parts = data if type(data) is list else [
            data.encode() if isinstance(data, str) else data or b""]
        size = 0
        for part in parts:
            size += len(part)
        # A small body goes in the head's packet (one TLS record, one TCP
        # segment), the whole made in one allocation (join makes bytes, and
        # MicroPython's % takes only bytes whole); a large one in writes of
        # its own, not copied in RAM.
        small = size < 1200
        return server, [b"%s /%s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
            method, path, lines, size, b"".join(parts) if small else b"")] + (
            [] if small else parts)


def _tls():
    # uonep.tls makes the TLS context and explains a failure; loaded for
    # it and dropped at once, its code is not kept between connections
    # (nor loaded at all by plain HTTP that goes well).
    from . import tls
    del sys.modules["uonep.tls"]
    try:
        # (Not set when the import went through uonep's __getattr__.)
        del sys.modules["uonep"].tls
    except AttributeError:
        pass
    return tls


def _bad(what):
    return ProtocolError("bad HTTP answer: " + what)

