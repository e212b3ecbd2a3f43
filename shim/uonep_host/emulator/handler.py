"""The HTTP front door: thin glue from http.server to Core.handle().

Only what is about HTTP and the connection is done here: the body-length
checks (411, 400, 413, answered before reading and closing), keep-alive
accounting (`Connection: close` on the last request a connection may
carry), and what an Answer asks of the connection (close without
answering, stall, close after answering). Routes, faults and the control
API are the core's. One handler instance serves one connection.
"""

from http.server import BaseHTTPRequestHandler

from .core import Answer, Request

LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
# content blobs (firmware images) are uploaded whole: they may be larger
# than the body limit every other request has
CONTENT_PREFIX = "/provision/manage/content/"
CONTENT_LIMIT = 16 << 20


class Handler(BaseHTTPRequestHandler):
    """Serves one connection; `self.server.emulator` is the Emulator."""

    protocol_version = "HTTP/1.1"
    server_version = "uonep-emulator/0.1"
    # an idle keep-alive connection is closed after this many seconds
    timeout = 60
    # headers and body are written separately; without TCP_NODELAY a client's
    # delayed ACK would hold every answer back ~40 ms
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.served = 0

    @property
    def emulator(self):
        return self.server.emulator

    def log_message(self, format, *args):
        self.emulator.log("%s %s" % (self.address_string(), format % args))

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_PUT(self):
        self._serve()

    def do_DELETE(self):
        self._serve()

    def _serve(self):
        self.served += 1
        length = self._body_length()
        if length is None:
            return
        request = Request(self.command, self.path, self.headers, lambda: self._read(length),
                          local=self.client_address[0] in LOOPBACK,
                          peer="%s:%s" % self.client_address[:2],
                          server=self.connection.getsockname()[:2])
        answer = self.emulator.handle(request)
        if answer.stall:
            self.emulator.stopping.wait(answer.stall)
        if answer.drop:
            self.close_connection = True
            return
        # a body left unread would be taken for the next request: close instead
        self._send(answer, answer.close or (length > 0 and not request.body_read))

    def _body_length(self):
        """The body's length from Content-Length (0 without one), or None
        after refusing it (411, 400 or 413, and the connection closes)."""
        header = self.headers.get("Content-Length")
        if header is None:
            if self.headers.get("Transfer-Encoding"):
                self._send(Answer(411, b"Content-Length required"), close=True)
                return None
            return 0
        try:
            length = int(header)
        except ValueError:
            length = -1
        if length < 0:
            self._send(Answer(400, b"bad Content-Length"), close=True)
            return None
        limit = self.emulator.max_body
        if self.path.startswith(CONTENT_PREFIX):
            limit = max(limit, CONTENT_LIMIT)
        if length > limit:
            # refuse without reading: closing is the only way to skip the body
            self._send(Answer(413, b"request body too large"), close=True)
            return None
        return length

    def _read(self, length):
        return self.rfile.read(length) if length else b""

    def _send(self, answer, close=False):
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if close or self.served >= self.emulator.max_requests_per_connection:
            # send_header("Connection", "close") also sets close_connection
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)
