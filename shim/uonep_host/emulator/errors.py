"""Failures inside the emulator, split by how far they reach: the whole
request (RequestError), or one call (CallFailure; ArgumentError is a
CallFailure found while checking a call's arguments, before any call ran).

Every CallFailure carries the documented per-call `error` object,
{"code", "message", "context"}, whose message says why in words (the real
platform's `status` alone, such as "invalid", is vague). Messages may name
aliases and RIDs, never a CIK, token or share code.
"""


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


class CallFailure(Exception):
    """One call fails. `status` is a string ("invalid", "restricted", ...) or,
    for recordbatch, the list of [timestamp, "invalid"] points not stored;
    `error` is the answer's error object."""

    def __init__(self, status, message, code=400, context="arguments"):
        super().__init__(message)
        self.status = status
        self.error = {"code": code, "message": message, "context": context}


class ArgumentError(CallFailure):
    """The call's arguments have a shape the emulator does not support: that
    call alone fails with status "fail" and error code 501, as documented."""

    def __init__(self, message, context="arguments"):
        super().__init__("fail", message, 501, context)


def invalid(message):
    """A value, resource or code that does not fit: status "invalid"."""
    return CallFailure("invalid", message)


def restricted(message):
    """Outside what the caller may reach: status "restricted"."""
    return CallFailure("restricted", message, 403, "auth")


def noauth(message):
    """The caller does not own what the code belongs to: status "noauth"."""
    return CallFailure("noauth", message, 403, "auth")
