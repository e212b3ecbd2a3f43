"""What the network step does rarely, loaded for it and dropped after
(appconfig.once) with uonep.provision: get a CIK (activation), and set the
clock when the common way (connection.Connection.set_clock: NTP, else one
GET /timestamp answering a number) did not: a certificate refused while the
clock is unset, an error status, an answer that is no number."""

import sys

import appconfig
from app import iso
from uonep.clock import is_valid
from uonep.errors import CertificateError, HTTPError, ProtocolError


def forget():
    """Drop uonep.provision: the clock and the CIK are a boot's business,
    its code does not stay in the heap for the pushes after."""
    if sys.modules.pop("uonep.provision", None) is not None:
        try:
            del sys.modules["uonep"].provision
        except AttributeError:
            pass


def set_clock(app, answer):
    """The clock from what /timestamp gave Connection.set_clock: (status,
    body), or the CertificateError its request raised."""
    try:
        if isinstance(answer, CertificateError):
            seconds = server_time(app, answer)
        else:
            from uonep import provision
            seconds = provision.read_time(*answer)
    except (HTTPError, ProtocolError) as failure:
        # The server is there but will not tell the time: push anyway,
        # with times relative to the server's "now" (see uonep.forward).
        app.log("clock: no time from the server (%s); pushing with relative times" % failure)
        return
    finally:
        forget()
    app.clock.set_unix_time(seconds)
    app.log("clock: set from the server, %s" % iso(seconds))


def server_time(app, failure):
    """The server's /timestamp after the verified request raised `failure`,
    a CertificateError. A board whose clock is unset (2000) fails every
    certificate's date check (mbedTLS compares them with its clock), so then
    the time is asked once more without a certificate check: a GET that
    carries no credential, whose answer only sets a rough clock; every
    request after it is verified (see the README's Security section)."""
    from uonep import provision
    from uonep.client import Transport
    if app.clock.valid():
        raise failure
    transport = Transport(app.client.transport.base, app.profile["timeout"], verify=False)
    try:
        seconds = provision.server_time(transport)
    finally:
        transport.close()
    if not is_valid(seconds):
        raise ProtocolError("/timestamp answered a time before 2024")
    app.log("clock: time asked without a certificate check (the clock was unset)")
    return seconds


def activate(app):
    """Get a CIK with /provision/activate and keep it next to the secrets."""
    vendor = app.secrets.get("vendor") or app.profile["vendor"]
    model = app.secrets.get("model") or app.profile["model"]
    if not vendor or not model:
        raise appconfig.ConfigError(
            "no CIK: put \"cik\" in %s, or vendor and model in it or in the profile "
            "to activate" % app.secrets_path)
    from uonep import provision
    try:
        serial = app.board.unique_id()
        app.log("provision: activating vendor %s model %s serial %s" % (vendor, model, serial))
        cik = provision.activate(app.client, vendor, model, serial)
    finally:
        forget()
    path = appconfig.cik_path(app.secrets_path)
    appconfig.store_cik(path, cik)
    app.use_cik(cik)
    app.log("provision: activated, CIK %s stored in %s" % (appconfig.mask(cik), path))
