"""A local One Platform: JSON-RPC, the HTTP Data API, provisioning (the
vendor's management API and the device's activation and download),
/timestamp and /ip, with SQLite state, over HTTP or in process.

    from uonep_host.emulator import Emulator
    with Emulator(seed="tests/seeds/default.json") as onep:       # over HTTP
        ...  # talk to onep.url; arm faults with onep.faults.arm("drop_after_body")

    onep = Emulator(seed=DEFAULT_SEED)                           # in process
    client = Client(DEFAULT_CIK, host="emulator", https=False, http=onep.session())

Modules: core (the one request core: every route, the faults, the request
log), handler (the HTTP door), inprocess (the in-process door), server
(Emulator: the core with both doors), control (the control API's client,
CPython and MicroPython), answers (the Answer and form/CSV bodies), store
and provisioning_store (SQLite), access (auth, tokens, shares and
resource resolution), timeseries (formats, retention, read selection),
procedures (the RPC procedures: series, resources, naming, sharing, on
calls, descriptions, preprocess and ingest), dispatch (request-level
checks), injection (faults), seed (seed format), dataapi (the HTTP Data
API, /ip), provision (activation, download), manage (vendor
authentication, models, /provision/register) with serials, content and
groups, page (GET /), arrivals (which points each write request stored,
and when: the page's log), clock; command lines in __main__ (the server)
and faults (the control API).

Names are imported on first use, so `uonep_host.emulator.control` imports
without the server (and under MicroPython).
"""

_EXPORTS = {
    "Emulator": "server",
    "Core": "core",
    "Control": "control",
    "ControlError": "control",
    "DEFAULT_SEED": "seed",
    "DEFAULT_CIK": "seed",
    "DEFAULT_VENDOR_TOKEN": "seed",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module 'uonep_host.emulator' has no attribute %r" % name)
    import importlib
    value = getattr(importlib.import_module("uonep_host.emulator." + module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
