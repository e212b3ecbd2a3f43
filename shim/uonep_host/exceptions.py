"""The exception classes of pyonep, for code written against pyonep's OnepV1.

    OneException
    +-- OnePlatformException      the server refused the request as a whole, or
    |                             its answer could not be understood
    +-- JsonRPCRequestException   the request could not be made or sent
    |                             (network failure, a value that is not JSON,
    |                             send_deferred with nothing queued)
    +-- JsonRPCResponseException  kept for compatibility; OnepV1 does not raise it
    |                             (pyonep 0.13.8 does not either)
    +-- JsonStringException       kept for compatibility
    +-- ProvisionException        a provisioning answer of 400 or more (Provision
                                  with raise_api_exceptions=True)

The uonep error behind one of these, when there is one, is its __cause__.
"""


class OneException(Exception):
    """Base class of every exception OnepV1 raises."""


class OnePlatformException(OneException):
    """The One Platform refused the whole request ({"error": ...}) or answered
    with something that is not a usable JSON-RPC answer. For a refusal,
    .error is the server's error object ({"code", "message", "context"})."""

    def __init__(self, message, error=None):
        super().__init__(message)
        self.error = error


class JsonRPCRequestException(OneException):
    """The request was not made: the network failed, or it could not be
    written as JSON (for example a nan or inf value), or there was nothing
    deferred to send."""


class JsonRPCResponseException(OneException):
    """No usable response arrived. Defined for compatibility: as in pyonep
    0.13.8, a failed exchange is reported as JsonRPCRequestException."""


class JsonStringException(OneException):
    """Defined for compatibility with pyonep's exceptions module."""


class ProvisionException(OneException):
    """A provisioning answer of 400 or more, raised by Provision with
    raise_api_exceptions=True: .response is the ProvisionResponse; str()
    is "<status> <reason>", as in pyonep."""

    def __init__(self, provision_response):
        super().__init__(provision_response)
        self.response = provision_response

    def __str__(self):
        return "{0} {1}".format(self.response.status(), self.response.reason())

    def __repr__(self):
        return self.__str__()
