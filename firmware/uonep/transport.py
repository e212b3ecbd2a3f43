"""uonep.transport: Transport, the HTTP link to one server (one request
through uonep.http.HTTP or any object with requests' call shape), and
parse_server. Both live in uonep.client (a Client is a Transport: a device
loads the one module); this module names them where they always were, with
server_url and reason (uonep.builders)."""

from .client import USER_AGENT, Transport, parse_server  # noqa: F401


def __getattr__(name):
    from . import client
    return client.__getattr__(name)
