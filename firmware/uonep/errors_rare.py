"""The error classes of uonep.errors that a sampling device never raises:
activation refused (ProvisionError) and content downloads (ContentError).
uonep.errors hands them out, importing this module on first use; see its
docstring for the whole hierarchy."""

from .errors import OnepError, RequestError


class ProvisionError(RequestError):
    """Device activation was refused: .code is the HTTP status (404: the
    vendor/model/serial is unknown; 409: not enabled, e.g. already activated)."""


class ContentError(OnepError):
    """A content download (uonep.content) was refused before reaching its
    path: its size or sha256 does not match the content's (its temporary
    files are deleted), the content changed on the server meanwhile
    (.retryable: the next call starts over), or the file system refused a
    write (the partial download is kept for the next call)."""

    def __init__(self, message, retryable=False):
        super(ContentError, self).__init__(message)
        self.retryable = retryable
