"""A local One Platform: JSON-RPC, provisioning and /timestamp over HTTP, with SQLite state.

    from uonep_host.emulator import Emulator
    with Emulator(seed="tests/seeds/default.json") as onep:
        ...  # talk to onep.url; arm faults with onep.faults.arm("drop_after_body")

Modules: store (SQLite), access (auth, tokens, shares and resource
resolution), timeseries (formats, retention, read selection), procedures (the
RPC procedures: series, resources, naming, sharing, on calls, descriptions,
preprocess and ingest), dispatch (request-level checks), injection (faults),
handler (HTTP), server (Emulator),
seed (seed format), provision, page (GET /), clock; CLIs in __main__ (the
server) and faults (the control API).
"""

from .seed import DEFAULT_CIK, DEFAULT_SEED
from .server import Emulator

__all__ = ["Emulator", "DEFAULT_SEED", "DEFAULT_CIK"]
