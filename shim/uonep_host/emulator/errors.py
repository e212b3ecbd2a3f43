"""Failures inside the emulator, split by how far they reach: the whole
request (RequestError), the arguments of one call found before anything ran
(ArgumentError, which becomes a request-level 501) or one call (CallFailure)."""


class RequestError(Exception):
    """The whole request fails: answered as {"error": {code, message, context}}."""

    def __init__(self, code, message, context):
        super().__init__(message)
        self.code = code
        self.message = message
        self.context = context

    def answer(self):
        """The JSON object sent back to the client."""
        return {"error": {"code": self.code, "message": self.message, "context": self.context}}


class ArgumentError(Exception):
    """A call's arguments do not have the documented shape (request-level 501)."""


class CallFailure(Exception):
    """One call fails; `status` is a string ("invalid", "restricted", ...) or,
    for recordbatch, the list of [timestamp, "invalid"] points not stored."""

    def __init__(self, status, error=None):
        super().__init__(str(status))
        self.status = status
        self.error = error


def not_implemented(procedure):
    """The per-call answer for procedures the emulator only pretends to know."""
    return CallFailure("fail", {"code": 501, "message": "%s is not implemented by the emulator"
                                % procedure, "context": "procedure"})
