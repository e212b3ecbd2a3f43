"""The JSON-RPC procedures: name -> (parse, run).

`parse(arguments)` checks the shape of a call's arguments before any call
of the request runs; a shape the emulator does not support raises
ArgumentError, and that call alone fails (status "fail", error code 501).
`run(context, parsed)` does the work inside one database transaction and
returns the result, or NOTHING for procedures without one, or raises
CallFailure. The procedures live by topic: series (time series),
resources, naming (aliases), sharing (shares, keys, tokens, tags).
"""

from . import naming, resources, series, sharing
from .calls import NOTHING, Context
from .errors import ArgumentError

PROCEDURES = {**series.PROCEDURES, **resources.PROCEDURES, **naming.PROCEDURES,
              **sharing.PROCEDURES}

__all__ = ["PROCEDURES", "NOTHING", "Context", "unknown"]


def unknown(name):
    """The per-call failure for a procedure the platform does not have."""
    return ArgumentError("unknown procedure %s" % _quoted(name), "procedure")


def _quoted(name):
    return repr(name if len(name) <= 40 else name[:40] + "...")
