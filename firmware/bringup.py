"""What the network step does once a boot, before the first push: set the
clock (NTP, else the server's /timestamp) and get a CIK (activation).
Loaded for the job and dropped after (appconfig.once), with uonep.provision."""

import sys

import appconfig
from app import iso
from uonep.clock import is_valid
from uonep.errors import CertificateError, HTTPError, ProtocolError


def bring_up(app):
    """The clock, then the CIK, whichever is missing."""
    try:
        if not app.clock.valid():
            set_clock(app)
        if app.cik is None:
            activate(app)
    finally:
        # The clock and the CIK are a boot's business: provision's code
        # does not stay in the heap for the pushes after.
        if sys.modules.pop("uonep.provision", None) is not None:
            try:
                del sys.modules["uonep"].provision
            except AttributeError:
                pass


def set_clock(app):
    """NTP first; else the server's /timestamp."""
    try:
        if app.board.sync_time(app.profile["ntp"]["host"]):
            app.log("clock: set from NTP, %s" % iso(app.clock.now()))
            return
    except Exception as failure:
        app.log("clock: NTP failed (%s); asking the server" % failure)
    try:
        seconds = server_time(app)
    except (HTTPError, ProtocolError) as failure:
        # The server is there but will not tell the time: push anyway,
        # with times relative to the server's "now" (see uonep.forward).
        app.log("clock: no time from the server (%s); pushing with relative times" % failure)
        return
    app.clock.set_unix_time(seconds)
    app.log("clock: set from the server, %s" % iso(seconds))


def server_time(app):
    """The server's /timestamp. A board whose clock is unset (2000) fails
    every certificate's date check (mbedTLS compares them with its clock),
    so then the time is asked once more without a certificate check: a GET
    that carries no credential, whose answer only sets a rough clock; every
    request after it is verified (see the README's Security section)."""
    from uonep import provision
    from uonep.client import Transport
    try:
        return provision.server_time(app.client)
    except CertificateError:
        if app.clock.valid():
            raise
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
    serial = app.board.unique_id()
    app.log("provision: activating vendor %s model %s serial %s" % (vendor, model, serial))
    cik = provision.activate(app.client, vendor, model, serial)
    path = appconfig.cik_path(app.secrets_path)
    appconfig.store_cik(path, cik)
    app.use_cik(cik)
    app.log("provision: activated, CIK %s stored in %s" % (appconfig.mask(cik), path))
