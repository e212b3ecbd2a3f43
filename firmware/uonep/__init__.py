"""uonep: a small One Platform (Exosite) JSON-RPC client for MicroPython and CPython.

    from uonep import Client
    c = Client(cik, server="https://m2.exosite.com")
    c.write("temp", 23.5)
    uplink = Uplink(c, Journal("/data/journal"))     # store and forward
"""

from .client import Batch, Client
from .errors import (AuthError, CallError, CertificateError, ContentError, HTTPError,
                     JournalError, JournalFullError, OnepError, ProtocolError, ProvisionError,
                     RecordBatchError, RequestError, ServerError, TransportError,
                     ValidationError)

__version__ = "0.1.0"


def __getattr__(name):
    # uonep.Journal is imported on first use: a board that only writes
    # values does not pay the journal's heap.
    if name == "Journal":
        from .journal import Journal
        return Journal
    if name == "Uplink":
        from .forward import Uplink
        return Uplink
    # MicroPython asks here first for `from uonep import journal` when the
    # submodule is not loaded yet: import it, as CPython would.
    try:
        return __import__("uonep." + name, None, None, [name])
    except ImportError:
        raise AttributeError(name)
