"""The HTTP Data API: the lightest way to send a device's current values
and read its latest ones, plain HTTP with form-encoded bodies and the CIK
in `X-Exosite-CIK`. Values are stored at the server's time: no
timestamps, so no store and forward (a value that cannot be sent now is
not kept; use add_value/commit/push for that). Client.data_write,
data_read and data_wait load this module on first use.

It also holds `request`, the one plain-HTTP request both it and
uonep.content send.
"""

from . import rpc
from .builders import WAIT_MAX_MS, check_alias
from .errors import AuthError, HTTPError, ProtocolError, ValidationError
from .provision import _FORM, form_quote

ALIAS_PATH = "/onep:v1/stack/alias"
WAIT_PATH = "/onep:v1/stack/waitalias"


def request(client, method, path, headers=None, body=None, timeout=None):
    """(status, body) of a request through the client's transport, as the
    client's own CIK (X-Exosite-CIK); 401 and 403 raise AuthError."""
    credentials = client._auth
    if len(credentials) != 1 or "cik" not in credentials:
        # A token has no CIK; client_id/resource_id would act as another client.
        raise ValidationError("needs the client's own CIK alone (no token or ids)")
    sent = {"X-Exosite-CIK": credentials["cik"]}
    if headers:
        sent.update(headers)
    status, answer = client.transport.request(method, path, body,
                                              None if body is None else _FORM, timeout, sent)
    if status == 401 or status == 403:
        raise AuthError(status, "HTTP %d" % status, "auth")
    return status, answer


def data_write(client, values):
    """Store {alias: value, ...} at the server's time, all in one request.
    An alias the client does not have is skipped by the server."""
    if not isinstance(values, dict) or not values:
        raise ValidationError("data_write takes a non-empty {alias: value} dict")
    pairs = []
    for alias in values:
        pairs.append(form_quote(check_alias(alias)) + "=" + form_quote(_text(values[alias])))
    status, _ = request(client, "POST", ALIAS_PATH, None, "&".join(pairs).encode())
    if status != 204 and status != 200:
        raise HTTPError(status, "a value does not fit its dataport" if status == 400 else "")


def data_read(client, aliases):
    """{alias: latest value, as the string the server sent} for the
    aliases that have a value (the others are left out)."""
    if not isinstance(aliases, (list, tuple)) or not aliases:
        raise ValidationError("data_read takes a non-empty list of aliases")
    query = "&".join(form_quote(check_alias(alias)) for alias in aliases)
    status, answer = request(client, "GET", ALIAS_PATH + "?" + query)
    if status == 204:
        return {}
    if status != 200:
        raise HTTPError(status)
    return parse(answer)


def data_wait(client, alias, timeout_ms=30000):
    """The next value written to alias (a string), or None when timeout_ms
    (at most 300,000) pass first. The request's deadline is the client's
    timeout plus timeout_ms."""
    check_alias(alias)
    if type(timeout_ms) is not int or not 0 <= timeout_ms <= WAIT_MAX_MS:
        raise ValidationError("timeout_ms is a whole number from 0 to %d" % WAIT_MAX_MS)
    status, answer = request(client, "POST", WAIT_PATH + "?" + form_quote(alias), None,
                             ("timeout=%d" % timeout_ms).encode(),
                             client.transport.timeout + timeout_ms / 1000)
    if status == 204:
        raise HTTPError(204, "no dataport %r to wait for" % alias)
    if status != 200:
        raise HTTPError(status)
    value = parse(answer).get(alias)
    if value is None:
        raise ProtocolError("waitalias answered without the alias")
    # The protocol's own way to say "nothing came": a value "expire:<time>".
    return None if value.startswith("expire:") else value


def _text(value):
    """A value as the form carries it: a string as it is, a number as an
    RPC request writes it."""
    value = rpc.value(value)
    return value if isinstance(value, str) else repr(value)


def parse(answer):
    """{name: value} of a form-encoded answer (bytes)."""
    found = {}
    for pair in bytes(answer).split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            found[_unquote(name)] = _unquote(value)
    return found


def _unquote(text):
    """Form decoding: "+" is a space, %XX a byte; the bytes are UTF-8."""
    parts = text.replace(b"+", b" ").split(b"%")
    out = bytearray(parts[0])
    try:
        for part in parts[1:]:
            out.append(int(part[:2], 16))
            out += part[2:]
        return bytes(out).decode("utf-8")
    except ValueError:
        # UnicodeError is a ValueError on both runtimes.
        raise ProtocolError("a form-encoded answer that cannot be decoded")
