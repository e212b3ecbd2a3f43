"""What the network step does once a boot, loaded for it and dropped after
(appconfig.once) with uonep.provision: join the WiFi, set the clock (NTP, else the
server's /timestamp, also when a certificate is refused while the clock is
unset) and get a CIK (activation)."""

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


def connect_wifi(app):
    """Join the secrets' network (Connection.run, while the board is not
    on it): True once connected, else False after backing off."""
    ssid = app.secrets["wifi"]["ssid"]
    app.log("wifi: connecting to %s" % ssid)
    if app.board.wifi_connect(ssid, app.secrets["wifi"].get("password", ""),
                              app.profile["wifi"]["timeout"]):
        app.log("wifi: connected")
        return True
    app.state = "offline"
    delay = app.connection.backoff.fail()
    app.scheduler.after("network", delay)
    app.log("wifi: cannot connect to %s; retry in %ds, backlog %d commits kept" % (
        ssid, delay, app.journal.stats()["pending"]))
    return False


def set_clock(app):
    """NTP first; else the server's /timestamp through the app's Client."""
    try:
        if app.board.sync_time(app.profile["ntp"]["host"]):
            app.log("clock: set from NTP, %s" % iso(app.clock.now()))
            return
    except Exception as failure:
        app.log("clock: NTP failed (%s); asking the server" % failure)
    try:
        answer = app.client.request("GET", "/timestamp")
        # int() reads what a server answers; whatever it cannot read,
        # uonep.provision reads (and reports) below.
        seconds = int(answer[1]) if answer[0] == 200 else None
    except (TypeError, ValueError):
        seconds = None
    except CertificateError as failure:
        answer = failure
        seconds = None
    if seconds is None:
        seconds = _server_answer(app, answer)
        if seconds is None:
            return
    app.clock.set_unix_time(seconds)
    app.log("clock: set from the server, %s" % iso(seconds))


def _server_answer(app, answer):
    """The time in what /timestamp gave: (status, body), or the
    CertificateError its request raised; None, after a log line, when the
    server will not tell it."""
    try:
        if isinstance(answer, CertificateError):
            return server_time(app, answer)
        from uonep import provision
        return provision.read_time(*answer)
    except (HTTPError, ProtocolError) as failure:
        # The server is there but will not tell the time: push anyway,
        # with times relative to the server's "now" (see uonep.forward).
        app.log("clock: no time from the server (%s); pushing with relative times" % failure)
        return None
    finally:
        forget()


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
