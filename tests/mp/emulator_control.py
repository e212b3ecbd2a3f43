"""For MicroPython tests: reach the emulator the harness started
(UONEP_EMULATOR_URL) and drive its faults and clock over HTTP."""
import json
import os

import requests

CIK = "1" * 40


def url():
    return os.getenv("UONEP_EMULATOR_URL")


def address():
    """(host, port) of the emulator."""
    host, port = url().rsplit("//", 1)[1].split(":")
    return host, int(port)


def _post(path, payload):
    response = requests.post(url() + path, data=json.dumps(payload),
                             headers={"Content-Type": "application/json"})
    try:
        assert response.status_code == 200, response.status_code
        return response.json()
    finally:
        response.close()


def arm(kind, **options):
    """Arm an emulator fault (see uonep_host.emulator.injection)."""
    options["kind"] = kind
    return _post("/_emulator/faults", options)


def clear():
    return arm("clear")


def set_clock(now=None, offset=None):
    payload = {}
    if now is not None:
        payload["now"] = now
    if offset is not None:
        payload["offset"] = offset
    return _post("/_emulator/clock", payload)


def client(**options):
    from uonep import Client
    host, port = address()
    options.setdefault("timeout", 5)
    return Client(options.pop("cik", CIK), host=host, port=port, https=False, **options)
