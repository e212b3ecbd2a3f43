"""For MicroPython tests: reach the emulator the harness started
(UONEP_EMULATOR_URL) and drive it through the control client that CPython
uses too (uonep_host.emulator.control.Control, imported on first use so
modules that only need the address load nothing more)."""
import os

CIK = "1" * 40


def url():
    return os.getenv("UONEP_EMULATOR_URL")


def address():
    """(host, port) of the emulator."""
    host, port = url().rsplit("//", 1)[1].split(":")
    return host, int(port)


def control():
    """The emulator's control client."""
    from uonep_host.emulator.control import Control
    return Control(url())


def arm(kind, **options):
    """Arm an emulator fault (see uonep_host.emulator.injection)."""
    return control().arm(kind, **options)


def clear():
    return control().clear()


def set_clock(now=None, offset=None):
    return control().set_clock(now, offset)


def points(cik, alias):
    """[[ts, value], ...] of the client's dataport, ascending, as stored by
    the emulator (its control API: independent of its clock)."""
    return control().points(cik, alias)


def client(**options):
    from uonep import Client
    options.setdefault("timeout", 5)
    return Client(options.pop("cik", CIK), url(), **options)
