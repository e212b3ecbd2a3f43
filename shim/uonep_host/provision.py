"""Provision: a drop-in for pyonep 0.13.8's class of the same name, the
vendor side of the One Platform's provisioning API (models, serial
numbers, content) and the device calls that go with it (activate,
content download).

    from uonep_host.provision import Provision      # was: from pyonep.provision import ...
    from uonep_host.exceptions import ProvisionException
    p = Provision("m2.exosite.com", port=443, https=True, manage_by_cik=False)
    p.model_list(vendortoken).body                  # "model1\\nmodel2"

Same constructor, defaults, methods, argument order and returns as
pyonep: every method returns a ProvisionResponse (`body`: the answer as
text, `status()`, `reason()`, `isok`: status below 400, `response`: the
HTTP response); with raise_api_exceptions=True an answer of 400 or more
raises ProvisionException (its `response` is the ProvisionResponse).
Network failures raise what the HTTP library raises (requests'
exceptions), as in pyonep.

The requests go through uonep's transport: a requests.Session from
uonep_host.transport (TLS verified, nothing retried behind the caller's
back), one per request unless reuseconnection=True, as pyonep does; or
through `http=`, anything with requests' `request(method, url, data=,
headers=, timeout=)` (a Session of your own, or an emulator's in-process
Emulator.session()), which is used for every request and never closed.

Differences from pyonep 0.13.8 (none changes what is sent): `http=` and
content_download's `byte_range` are additions; close() works (pyonep's
raises AttributeError); ProvisionResponse also has `content` (the body as
bytes, for binary blobs); reprs, str() and curldebug's log lines mask
keys, CIKs and RIDs (first 4 characters); nothing is logged unless the
application configures logging (pyonep adds a stderr handler at import).
"""

import logging
import re
from urllib.parse import urlencode

from .exceptions import ProvisionException
from .transport import session

__all__ = ["Provision", "ProvisionResponse", "ProvisionException"]

PROVISION_BASE = "/provision"
PROVISION_ACTIVATE = PROVISION_BASE + "/activate"
PROVISION_DOWNLOAD = PROVISION_BASE + "/download"
PROVISION_MANAGE = PROVISION_BASE + "/manage"
PROVISION_MANAGE_MODEL = PROVISION_MANAGE + "/model/"
PROVISION_MANAGE_CONTENT = PROVISION_MANAGE + "/content/"
PROVISION_REGISTER = PROVISION_BASE + "/register"

FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
ACCEPT = "text/plain, text/csv, application/x-www-form-urlencoded"
SECRET = re.compile(r"[0-9a-fA-F]{40}")

log = logging.getLogger(__name__)


def masked(text):
    """`text` with every 40-hex run (a CIK, a vendor token, a RID) cut to
    its first 4 characters."""
    return SECRET.sub(lambda found: found.group(0)[:4] + "\u2026", str(text))


class ProvisionResponse:
    """An answer of the provisioning API: `body` (text), `response` (the
    HTTP response), `isok` (status below 400), status(), reason()."""

    def __init__(self, body, response):
        self.body = body
        self.response = response
        self.isok = response.status_code < 400

    def status(self):
        """The HTTP status code."""
        return self.response.status_code

    def reason(self):
        """The HTTP reason phrase ("Reset Content", "Conflict", ...)."""
        return self.response.reason

    @property
    def content(self):
        """The body as bytes (a content blob is binary)."""
        return self.response.content

    def __repr__(self):
        return masked(self.body)

    def __str__(self):
        return "Status: {0}, Reason: {1}, Body: {2}".format(self.status(), self.reason(),
                                                            masked(self.body))


class Provision:
    """The provisioning API with pyonep's interface.

    host, port: the server ("https://" in front of host is dropped, as
    pyonep does; https= decides the scheme). manage_by_cik: send the
    vendor's key as X-Exosite-CIK (a vendor CIK) rather than
    X-Exosite-Token (a vendor token). verbose: unused, as in pyonep.
    httptimeout: seconds per request. reuseconnection: keep one connection
    for every request (close() ends it). raise_api_exceptions: raise
    ProvisionException for an answer of 400 or more. curldebug: log each
    request as a curl command line at DEBUG level (keys masked).
    manage_by_sharecode: model_create's template is a share code rather
    than a RID. http: see the module docstring.
    """

    def __init__(self, host="m2.exosite.com", port="80", manage_by_cik=True, verbose=False,
                 httptimeout=5, https=False, reuseconnection=False, raise_api_exceptions=False,
                 curldebug=False, manage_by_sharecode=False, http=None):
        if host.startswith("https://"):
            host = host[len("https://"):]
        self._base = "%s://%s:%s" % ("https" if https else "http", host, port)
        self._manage_by_cik = manage_by_cik
        self._manage_by_sharecode = manage_by_sharecode
        self._verbose = verbose
        self._httptimeout = int(httptimeout)
        self._reuseconnection = reuseconnection
        self._raise_api_exceptions = raise_api_exceptions
        self._curldebug = curldebug
        self._http = http
        self._kept = None

    def __repr__(self):
        return "<uonep_host.Provision %s>" % self._base

    # -- the request -----------------------------------------------------------------------

    def _filter_options(self, aliases=True, comments=True, historical=True):
        """The model options for what the clone leaves out."""
        options = []
        if not aliases:
            options.append("noaliases")
        if not comments:
            options.append("nocomments")
        if not historical:
            options.append("nohistorical")
        return options

    def _request(self, path, key, data, method, key_is_cik, extra_headers=None):
        """Send one request (pyonep's signature, which Exosite's command-line
        tool calls directly): `data` is form-encoded text, in the query for
        GET and the body otherwise. Returns a ProvisionResponse."""
        if method == "GET":
            url, body = (path + "?" + data if data else path), None
        else:
            url, body = path, data
        headers = {"X-Exosite-CIK" if key_is_cik else "X-Exosite-Token": key}
        if method == "POST":
            headers["Content-Type"] = FORM_TYPE
        headers["Accept"] = ACCEPT
        headers.update(extra_headers or {})
        if self._curldebug:
            self._log_curl(method, url, headers, body)
        response = self._send(method, self._base + url, body, headers)
        answer = ProvisionResponse(response.text, response)
        if self._raise_api_exceptions and not answer.isok:
            raise ProvisionException(answer)
        return answer

    def _send(self, method, url, body, headers):
        if self._http is not None:
            return self._http.request(method, url, data=body, headers=headers,
                                      timeout=self._httptimeout)
        if self._reuseconnection:
            if self._kept is None:
                self._kept = session()
            http = self._kept
        else:
            http = session()
        try:
            return http.request(method, url, data=body, headers=headers,
                                timeout=self._httptimeout)
        except Exception:
            self.close()
            raise
        finally:
            if http is not self._kept:
                http.close()

    def _log_curl(self, method, url, headers, body):
        parts = ["curl", _quoted(self._base + url), "-X", method, "-m", str(self._httptimeout)]
        for name, value in headers.items():
            parts += ["-H", _quoted("%s: %s" % (name, masked(value)))]
        if body is not None:
            shown = body if isinstance(body, str) else "<%d bytes>" % len(body)
            parts += ["-d", _quoted(masked(shown))]
        log.debug(" ".join(parts))

    def close(self):
        """Close the kept connection (reuseconnection=True); the next call
        opens a new one. A session given as http= is left to its owner."""
        if self._kept is not None:
            self._kept.close()
            self._kept = None

    # -- content ---------------------------------------------------------------------------

    def content_create(self, key, model, contentid, meta, protected=False):
        """Create a content entry `contentid` of `model` (protected: only
        for serial numbers in a group with it)."""
        params = {"id": contentid, "meta": meta}
        if protected is not False:
            params["protected"] = "true"
        return self._request(PROVISION_MANAGE_CONTENT + model + "/", key, urlencode(params),
                             "POST", self._manage_by_cik)

    def content_download(self, cik, vendor, model, contentid, byte_range=None):
        """The blob of content `contentid`, as the device with `cik` downloads
        it. byte_range (an addition to pyonep): "X-Y" (0-based, inclusive),
        "X-" or "-Y" (the last Y bytes) asks for part of it (206)."""
        data = urlencode({"vendor": vendor, "model": model, "id": contentid})
        headers = {"Accept": "*"}
        if byte_range is not None:
            headers["Range"] = "bytes=" + byte_range
        return self._request(PROVISION_DOWNLOAD, cik, data, "GET", True, headers)

    def content_info(self, key, model, contentid, vendor=None):
        """`content-type,size,updated,meta,protected` of content `contentid`
        (the vendor's view); with `vendor`, the device's view through
        /provision/download (`key` then is the device's CIK, sent the way
        manage_by_cik says, as pyonep does)."""
        if not vendor:
            return self._request(PROVISION_MANAGE_CONTENT + model + "/" + contentid, key, "",
                                 "GET", self._manage_by_cik)
        data = urlencode({"vendor": vendor, "model": model, "id": contentid, "info": "true"})
        return self._request(PROVISION_DOWNLOAD, key, data, "GET", self._manage_by_cik)

    def content_list(self, key, model):
        """The content ids of `model`, one a line."""
        return self._request(PROVISION_MANAGE_CONTENT + model + "/", key, "", "GET",
                             self._manage_by_cik)

    def content_remove(self, key, model, contentid):
        """Delete content `contentid` and its blob."""
        return self._request(PROVISION_MANAGE_CONTENT + model + "/" + contentid, key, "",
                             "DELETE", self._manage_by_cik)

    def content_upload(self, key, model, contentid, data, mimetype):
        """Store `data` (str or bytes) as the blob of `contentid`; downloads
        answer with Content-Type `mimetype`."""
        return self._request(PROVISION_MANAGE_CONTENT + model + "/" + contentid, key, data,
                             "POST", self._manage_by_cik, {"Content-Type": mimetype})

    # -- models ----------------------------------------------------------------------------

    def model_create(self, key, model, sharecode, aliases=True, comments=True,
                     historical=True):
        """Create `model` from a clone template: a share code when
        manage_by_sharecode, else the template client's RID."""
        template = "code" if self._manage_by_sharecode else "rid"
        data = urlencode({"model": model, template: sharecode,
                          "options[]": self._filter_options(aliases, comments, historical)},
                         doseq=True)
        return self._request(PROVISION_MANAGE_MODEL, key, data, "POST", self._manage_by_cik)

    def model_info(self, key, model):
        """`rid=RID&options[]=...` (or `code=...`) of `model`."""
        return self._request(PROVISION_MANAGE_MODEL + model, key, "", "GET",
                             self._manage_by_cik)

    def model_list(self, key):
        """The vendor's models, one a line."""
        return self._request(PROVISION_MANAGE_MODEL, key, "", "GET", self._manage_by_cik)

    def model_remove(self, key, model):
        """Delete `model` with its serial numbers and content."""
        data = urlencode({"delete": "true", "model": model, "confirm": "true"})
        return self._request(PROVISION_MANAGE_MODEL + model, key, data, "DELETE",
                             self._manage_by_cik)

    def model_update(self, key, model, clonerid, aliases=True, comments=True, historical=True):
        """Give `model` another clone template (a RID) and options."""
        data = urlencode({"rid": clonerid,
                          "options[]": self._filter_options(aliases, comments, historical)},
                         doseq=True)
        return self._request(PROVISION_MANAGE_MODEL + model, key, data, "PUT",
                             self._manage_by_cik)

    # -- serial numbers --------------------------------------------------------------------

    def serialnumber_activate(self, model, serialnumber, vendor):
        """Activate a serial number as its device would: the body is its CIK."""
        data = urlencode({"vendor": vendor, "model": model, "sn": serialnumber})
        return self._request(PROVISION_ACTIVATE, "", data, "POST", self._manage_by_cik)

    def serialnumber_add(self, key, model, sn, extra=None):
        """Add one serial number (with `extra` information)."""
        data = {"add": "true", "sn": sn}
        if extra:
            data["extra"] = extra
        return self._request(PROVISION_MANAGE_MODEL + model + "/", key, urlencode(data), "POST",
                             self._manage_by_cik)

    def serialnumber_add_batch(self, key, model, sns=()):
        """Add several serial numbers."""
        data = urlencode({"add": "true", "sn[]": list(sns)}, doseq=True)
        return self._request(PROVISION_MANAGE_MODEL + model + "/", key, data, "POST",
                             self._manage_by_cik)

    def serialnumber_add_batch_csv(self, key, model, csv_string):
        """Add the serial numbers of `sn,extra` lines."""
        return self._request(PROVISION_MANAGE_MODEL + model + "/", key, csv_string, "POST",
                             self._manage_by_cik,
                             extra_headers={"Content-Type": "text/csv; charset=utf-8"})

    def serialnumber_disable(self, key, model, serialnumber):
        """Disable the serial number's CIK."""
        return self._serial_post(key, model, serialnumber, {"disable": "true"})

    def serialnumber_enable(self, key, model, serialnumber, owner):
        """Make the serial number's client under `owner` (a RID); the body is
        the new client's RID. The device then has a window to activate."""
        return self._serial_post(key, model, serialnumber, {"enable": "true", "owner": owner})

    def serialnumber_info(self, key, model, serialnumber, actvtn_log=False):
        """`status,rid,extra` of a serial number (204 before it has a
        client); actvtn_log=True: its activation log."""
        data = "show=log" if actvtn_log else ""
        return self._request(PROVISION_MANAGE_MODEL + model + "/" + serialnumber, key, data,
                             "GET", self._manage_by_cik)

    def serialnumber_list(self, key, model, offset=0, limit=1000, status=False):
        """`sn,rid,extra` lines (`sn,status,rid,extra` with status=True)."""
        data = {"offset": offset, "limit": limit}
        if status:
            data["status"] = "true"
        return self._request(PROVISION_MANAGE_MODEL + model + "/", key, urlencode(data), "GET",
                             self._manage_by_cik)

    def serialnumber_reenable(self, key, model, serialnumber):
        """Regenerate the serial number's CIK and open a new activation window."""
        return self._serial_post(key, model, serialnumber, {"enable": "true"})

    def serialnumber_remap(self, key, model, serialnumber, oldsn):
        """Move the client of `oldsn` to `serialnumber` (to be activated)."""
        return self._serial_post(key, model, serialnumber, {"enable": "true", "oldsn": oldsn})

    def serialnumber_remove(self, key, model, serialnumber):
        """Delete one serial number."""
        return self._request(PROVISION_MANAGE_MODEL + model + "/" + serialnumber, key, "",
                             "DELETE", self._manage_by_cik)

    def serialnumber_remove_batch(self, key, model, sns):
        """Delete several serial numbers."""
        data = urlencode({"remove": "true", "sn[]": list(sns)}, doseq=True)
        return self._request(PROVISION_MANAGE_MODEL + model + "/", key, data, "POST",
                             self._manage_by_cik)

    def _serial_post(self, key, model, serialnumber, fields):
        return self._request(PROVISION_MANAGE_MODEL + model + "/" + serialnumber, key,
                             urlencode(fields), "POST", self._manage_by_cik)

    # -- vendor names ----------------------------------------------------------------------

    def vendor_register(self, key, vendor):
        """Register the vendor name `vendor` to the client whose CIK is `key`."""
        return self._request(PROVISION_REGISTER, key, urlencode({"vendor": vendor}), "POST",
                             self._manage_by_cik)

    def vendor_show(self, key):
        """The vendor name registered to `key` (sent as X-Exosite-Token, as
        pyonep does)."""
        return self._request(PROVISION_REGISTER, key, "", "GET", False)

    def vendor_unregister(self, key, vendor):
        """Unregister the vendor name (the key goes as X-Exosite-Token, as
        pyonep sends it)."""
        data = urlencode({"delete": "true", "vendor": vendor})
        return self._request(PROVISION_REGISTER, key, data, "POST", False)


def _quoted(text):
    """Single-quoted for a POSIX shell."""
    return "'" + str(text).replace("'", "'\\''") + "'"
