"""uonep on CPython: a requests.Session transport, pyonep-compatible OnepV1
and Provision, and a local One Platform emulator, all built on the same
core as the board.

    from uonep_host import OnepV1            # drop-in for pyonep's OnepV1
    from uonep_host import Provision         # drop-in for pyonep's Provision
    from uonep_host import Client            # uonep.Client over a requests.Session

Names are imported on first use, so `import uonep_host` stays cheap (it does
not import requests).
"""

_EXPORTS = {
    "OnepV1": "uonep_host.onepv1",
    "Provision": "uonep_host.provision",
    "ProvisionResponse": "uonep_host.provision",
    "Client": "uonep_host.transport",
    "session": "uonep_host.transport",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module 'uonep_host' has no attribute %r" % name)
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
