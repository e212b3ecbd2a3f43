"""The vendor side of provisioning: /provision/manage/... (models here;
serial numbers in serials.py, content in content.py, groups in groups.py)
and /provision/register.

Every request names its vendor by `X-Exosite-Token: <vendor token>` or
`X-Exosite-CIK: <vendor CIK>` (the CIK of the client registered to the
vendor); neither, or one the emulator does not know, answers 401. Bodies
are form-encoded unless said otherwise; success without anything to say
is 205 Reset Content with an empty body; lists are text/csv, one item a
line; 409 when something already exists, 404 for an unknown model, serial
number, content or group (400 for an unknown model where the Exosite
documents say so). Answers to refusals carry a short plain-text reason.

Models (/provision/manage/model/):
- GET: the vendor's model names (`?show=shared`: models other vendors
  shared with it, always none here);
- POST model=M&rid=RID (or code=SHARECODE)&options[]=noaliases|nocomments|
  nohistorical: create (the clone template is a client; with a vendor CIK
  registered, it must be inside that client's tree); delete=true&model=M;
- /model/M: GET `rid=RID&options[]=...` (form-encoded), PUT the same form
  to change it, DELETE (with the model's serial numbers, content, groups).
"""

from urllib.parse import unquote

from . import content, groups, serials
from .access import is_key
from .answers import Answer, Form, csv, empty, form, text

MANAGE_PREFIX = "/provision/manage/"
REGISTER_PATH = "/provision/register"
MODEL_OPTIONS = ("noaliases", "nocomments", "nohistorical")


class Call:
    """One management request as the handlers see it: the store, the time,
    the vendor (a vendors row), the request, its body read as a form
    (`form`), its query (`query`), and where it came from (`connection`)."""

    def __init__(self, store, now, vendor, request, connection):
        self.store = store
        self.now = now
        self.vendor = vendor
        self.request = request
        self.connection = connection
        self.query = Form.parse(request.raw_query)
        self._form = None

    @property
    def name(self):
        """The vendor's name."""
        return self.vendor["name"]

    @property
    def form(self):
        if self._form is None:
            self._form = Form.parse(self.request.body())
        return self._form

    def body_type(self):
        """The request's Content-Type without parameters, lower case."""
        value = self.request.headers.get("Content-Type") or ""
        return value.split(";")[0].strip().lower()

    def in_domain(self, rid):
        """True when `rid` may serve this vendor: inside its domain client's
        tree, or anywhere for a vendor without one."""
        domain = self.vendor["client"]
        return domain is None or self.store.is_within(rid, domain)


def handle(store, now, request, connection=""):
    """The Answer to any /provision/manage/... request."""
    parts = [unquote(part) for part in request.path[len(MANAGE_PREFIX):].split("/")]
    # read whatever body came (pyonep's model_remove sends one with DELETE), so
    # the HTTP door can keep the connection open
    request.body()
    with store.transaction():
        vendor = vendor_of(store, request.headers)
        if vendor is None:
            return text(401, "no or invalid vendor token or vendor CIK")
        call = Call(store, now, vendor, request, connection)
        route = ROUTES.get((parts[0], len(parts)))
        if route is None or not all(parts[1:-1]):
            return text(404, "no such provisioning endpoint")
        return route(call, request.method, parts[1:])


def vendor_of(store, headers):
    """The vendor a request names by token or CIK, or None."""
    token = headers.get("X-Exosite-Token")
    if token:
        return store.vendor_by_token(token) if is_key(token) else None
    cik = headers.get("X-Exosite-CIK")
    client = store.client_by_cik(cik) if is_key(cik) else None
    if client is None or client["status"] == "expired":
        return None
    return store.vendor_by_client(client["rid"])


def not_allowed(method):
    return text(405, "%s is not a method of this endpoint" % method)


# -- /provision/manage/model/ and /provision/manage/model/<model> -------------------------

def models(call, method):
    if method == "GET":
        if call.query.first("show") == "shared":
            return csv([])
        return csv(call.store.models_of(call.name))
    if method != "POST":
        return not_allowed(method)
    name = call.form.first("model", "")
    if not name:
        return text(400, "model is required")
    if call.form.flag("delete"):
        return _remove(call, name)
    template = _template(call)
    if isinstance(template, Answer):
        return template
    rid, code, options = template
    if not call.store.add_model(call.name, name, rid=rid, code=code, options=options):
        return text(409, "model %r already exists" % name)
    return empty(205)


def model(call, method, name):
    found = call.store.model(call.name, name)
    if found is None:
        return text(404, "no model %r" % name)
    if method == "GET":
        pairs = [("code", found["code"])] if found["code"] else \
            [("rid", found["rid"])] if found["rid"] else []
        # options[] as the Exosite documents write it, brackets unescaped
        return form(pairs + [("options[]", option) for option in found["options"]], safe="[]")
    if method == "PUT":
        template = _template(call)
        if isinstance(template, Answer):
            return template
        rid, code, options = template
        call.store.update_model(call.name, name, template=(rid, code), options=options)
        return empty(205)
    if method == "DELETE":
        return _remove(call, name)
    return not_allowed(method)


def _remove(call, name):
    if call.store.model(call.name, name) is None:
        return text(404, "no model %r" % name)
    call.store.remove_model(call.name, name)
    return empty(205)


def _template(call):
    """(rid, code or None, options) from a create or update form, or the
    Answer refusing it. A code is a share code of a client: rid is that
    client, and the code is what the model's info shows."""
    options = call.form.every("options")
    unknown = [option for option in options if option not in MODEL_OPTIONS]
    if unknown:
        return text(400, "unknown option %r (%s)" % (unknown[0], ", ".join(MODEL_OPTIONS)))
    rid, code = call.form.first("rid"), call.form.first("code")
    if (rid is None) == (code is None):
        return text(400, "give the clone template as rid or as code")
    if code is not None:
        share = call.store.share(code) if is_key(code) else None
        if share is None:
            return text(400, "no share with that code")
        rid = share["rid"]
    found = call.store.resource(rid) if is_key(rid) else None
    if found is None or found["type"] != "client":
        return text(400, "the clone template is not a client")
    if not call.in_domain(rid):
        return text(403, "the clone template is outside the vendor's domain")
    return rid, code, options


# -- /provision/register -------------------------------------------------------------------

def register(store, request):
    """GET: the vendor name registered to X-Exosite-CIK (pyonep also sends
    the key as X-Exosite-Token; a vendor token works too); POST vendor=V:
    register V to the CIK's client (409 when the name is taken or the
    client has a vendor); POST delete=true&vendor=V: unregister."""
    with store.transaction():
        if request.method == "GET":
            vendor = _registered(store, request.headers)
            return text(200, vendor["name"]) if vendor else text(404, "no vendor registered")
        if request.method != "POST":
            return not_allowed(request.method)
        body = Form.parse(request.body())
        name = body.first("vendor", "")
        if not name:
            return text(400, "vendor is required")
        if body.flag("delete"):
            return _unregister(store, request.headers, name)
        cik = request.headers.get("X-Exosite-CIK")
        client = store.client_by_cik(cik) if is_key(cik) else None
        if client is None or client["status"] == "expired":
            return text(401, "no or invalid CIK")
        if store.vendor_by_client(client["rid"]) is not None:
            return text(409, "this client already has a vendor name")
        if not store.add_vendor(name, None, client["rid"]):
            return text(409, "vendor %r is taken" % name)
        return empty(205)


def _registered(store, headers):
    """The vendor of a register request: by vendor token or vendor CIK, or
    by a vendor CIK sent as X-Exosite-Token (as pyonep's vendor_show and
    vendor_unregister send it)."""
    vendor = vendor_of(store, headers)
    if vendor is None and headers.get("X-Exosite-Token"):
        vendor = vendor_of(store, {"X-Exosite-CIK": headers.get("X-Exosite-Token")})
    return vendor


def _unregister(store, headers, name):
    vendor = _registered(store, headers)
    if vendor is None:
        return text(401, "no or invalid CIK")
    if vendor["name"] != name:
        return text(403, "vendor %r is not registered to this key" % name)
    store.set_vendor_client(name, None)
    return empty(205)


# (first path part, number of parts) -> handler(call, method, the other parts)
ROUTES = {
    ("model", 2): lambda call, method, rest: models(call, method) if rest == [""]
    else model(call, method, rest[0]),
    ("model", 3): serials.route,
    ("content", 3): content.route,
    ("group", 3): groups.route,
    ("group", 4): groups.members_route,
}
