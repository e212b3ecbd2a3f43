"""The plain-HTTP device endpoints: activation (CIK for a vendor/model/serial)
and the server's clock, for boards that have no NTP."""

from . import rpc
from .errors import HTTPError, ProtocolError, ProvisionError

ACTIVATE_PATH = "/provision/activate"
TIMESTAMP_PATH = "/timestamp"
_FORM = "application/x-www-form-urlencoded; charset=utf-8"
_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_REASONS = {404: "unknown device (vendor, model or serial number)",
            409: "device not enabled for activation (already activated?)"}


def form_quote(text):
    """application/x-www-form-urlencoded encoding of one value."""
    out = []
    for byte in str(text).encode("utf-8"):
        character = chr(byte)
        out.append(character if character in _SAFE else "%%%02X" % byte)
    return "".join(out)


def activate(link, vendor, model, serial):
    """Activate this device through link (a Client, or a Transport); returns
    its CIK. Raises ProvisionError (404/409), HTTPError or TransportError."""
    body = "vendor=%s&model=%s&sn=%s" % (form_quote(vendor), form_quote(model),
                                         form_quote(serial))
    status, answer = link.request("POST", ACTIVATE_PATH, body.encode("utf-8"), _FORM)
    if status in _REASONS:
        raise ProvisionError(status, _REASONS[status], "provision")
    if status != 200:
        raise HTTPError(status)
    cik = bytes(answer or b"").decode("utf-8", "replace").strip()
    if not rpc.is_hex40(cik):
        raise ProtocolError("activation answered something that is not a CIK")
    return cik


def server_time(link):
    """The server's Unix time (int), from GET /timestamp through link (a
    Client, or a Transport)."""
    return read_time(*link.request("GET", TIMESTAMP_PATH))


def read_time(status, answer):
    """The Unix time (int) in a /timestamp answer (HTTP status, body bytes).
    Raises HTTPError or ProtocolError when it holds none."""
    if status != 200:
        raise HTTPError(status)
    try:
        return int(bytes(answer or b"").decode("utf-8").strip())
    except ValueError:
        raise ProtocolError("/timestamp answered something that is not a number")
