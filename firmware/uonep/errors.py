"""The uonep error hierarchy: every failure the core reports is one of these.

    OnepError
    +-- ValidationError      bad input, refused before anything is sent
    +-- TransportError       the network failed; safe to retry later
    |   +-- HTTPError        the server answered with a non-200 HTTP status (3xx: not followed)
    |   +-- CertificateError the server's TLS certificate was refused: not the network
    +-- ProtocolError        the answer breaks the protocol (not JSON, truncated, wrong shape)
    +-- RequestError         the server refused the whole request {"error": ...}
    |   +-- AuthError        401: bad or expired credentials (also HTTP 401/403)
    |   +-- ServerError      500: internal error; the calls may or may not have run
    |   +-- ProvisionError   /provision/activate refused: 404 unknown device, 409 not enabled
    +-- CallError            one call failed: .procedure, .id, .status, .error
    |   +-- RecordBatchError recordbatch stored some points and refused .rejected
    +-- JournalError         the journal cannot be opened or written as asked
    |   +-- JournalFullError the journal is full and its policy is "refuse"
    +-- ContentError         a content download failed its check, or cannot be written

A method here names its class in super(): a zero-argument super() would
make it a closure over __class__, which costs a board's heap.

ProvisionError (activation) and ContentError (content downloads) are never
raised by a sampling device: uonep.errors_rare holds them, loaded on first
use (`from uonep.errors import ContentError` and uonep.ContentError work
as for the others).

Messages never contain credentials: no CIK, token or password is ever put in
an exception, so logging one on a device is safe.
"""


class OnepError(Exception):
    """Base class of every error raised by uonep."""

    # Whether retrying the same request later can succeed without a change.
    retryable = False


class ValidationError(OnepError):
    """An argument is not acceptable (bad RID, alias, value, option)."""


class TransportError(OnepError):
    """The request did not get a usable answer: connection refused or
    dropped, DNS failure, timeout. Nothing is known about whether the calls
    ran; the same request can be retried."""

    retryable = True


class HTTPError(TransportError):
    """The server answered with an HTTP status other than 200."""

    def __init__(self, status, message=""):
        if not message and 299 < status < 400:
            message = "a redirect, not followed"
        super(HTTPError, self).__init__("HTTP %d%s%s" % (status, ": " if message else "", message))
        self.status = status
        # 5xx are the gateway or the server being unwell; a 4xx will fail again.
        self.retryable = status >= 500


class CertificateError(TransportError):
    """The server's TLS certificate was refused: not signed by a CA of
    `verify`, issued for another host name, expired or not yet valid (is
    the clock set?), or the CA certificates of `verify` cannot be read. The
    network works; the same server will be refused again until the CA, the
    clock or the network path (a captive portal, an interceptor) changes."""

    retryable = False


class ProtocolError(OnepError):
    """The answer cannot be understood: not JSON, truncated, or not shaped as
    the protocol says (missing or unknown call ids, bad status)."""

    # A garbled answer is usually a proxy or a cut connection: worth a retry.
    retryable = True


class RequestError(OnepError):
    """The server refused the whole request: {"error": {"code", "message",
    "context"}}. .code is -1 (not JSON), 400 (malformed), 401, 500, 501
    (unsupported arguments); .context names what was wrong."""

    def __init__(self, code, message="", context=None):
        super(RequestError, self).__init__("request failed (%s): %s%s" % (
            code, message, (" [%s]" % context) if context else ""))
        self.code = code
        self.message = message
        self.context = context


class AuthError(RequestError):
    """The credentials were refused (401). Data is kept; fix the CIK."""


class ServerError(RequestError):
    """The server failed internally (500); the calls may or may not have run."""

    retryable = True


class CallError(OnepError):
    """One call of a request failed with a status other than "ok"."""

    def __init__(self, procedure, call_id, status, error=None):
        detail = isinstance(error, dict) and error.get("message")
        super(CallError, self).__init__("%s (call %s) failed with status %r%s%s" % (
            procedure, call_id, status, ": " if detail else "", detail or ""))
        self.procedure = procedure
        self.id = call_id
        self.status = status
        self.error = error
        # "fail", "error", "expire" may pass on a later try; a refusal will not.
        self.retryable = status not in ("invalid", "restricted", "notfound", "partial")


class RecordBatchError(CallError):
    """recordbatch stored every point except .rejected: [[timestamp, reason], ...]."""

    def __init__(self, procedure, call_id, rejected):
        CallError.__init__(self, procedure, call_id, "partial",
                           {"message": "%d point(s) refused" % len(rejected)})
        self.rejected = rejected


class JournalError(OnepError):
    """The journal cannot be opened or written as asked."""


class JournalFullError(JournalError):
    """The journal is full and its policy is "refuse": the commit was not made."""


def __getattr__(name):
    # The rare classes, the one module's on every use (isinstance holds).
    # Only for a name of an error class: uonep asks here for every name.
    if name[-5:] == "Error":
        from . import errors_rare
        return getattr(errors_rare, name)
    raise AttributeError(name)
