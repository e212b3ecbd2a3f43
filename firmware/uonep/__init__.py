"""uonep: a small One Platform (Exosite) JSON-RPC client for MicroPython and CPython.

    from uonep import Client
    c = Client(cik, server="https://m2.exosite.com")
    c.write("temp", 23.5)
    uplink = Uplink(c, Journal("/data/journal"))     # store and forward

The error classes (uonep.errors, loaded with this module) are here too;
Client, Batch, Journal, Uplink and the submodules are imported on first
use, so importing uonep (or uonep.errors) loads nothing else.
"""

from . import errors

__version__ = "0.1.0"

_HOMES = {"Client": "client", "Batch": "builders", "Journal": "journal",
          "Uplink": "forward"}


def __getattr__(name):
    # The error classes are found in uonep.errors rather than copied here:
    # a second table of fifteen names costs a board's heap.
    if name[:1] != "_" and hasattr(errors, name):
        return getattr(errors, name)
    # MicroPython asks here first for `from uonep import journal` when the
    # submodule is not loaded yet: import it, as CPython would.
    try:
        module = __import__("uonep." + _HOMES.get(name, name), None, None, [name])
    except ImportError:
        raise AttributeError(name)
    return getattr(module, name) if name in _HOMES else module
