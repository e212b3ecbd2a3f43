"""Content of a model (firmware images, configuration files):
/provision/manage/content/<model>/ and /provision/manage/content/<model>/<id>
(see manage.py for authentication and the answers' conventions; devices
download through /provision/download, provision.py).

The collection (/content/M/; an unknown model answers 400, as documented):
- GET: the content ids (text/csv); ?sn=SN: those serial number SN may
  download (400 for an unknown SN);
- POST id=ID&meta=META (pyonep 0.13.8 sends meta; description is taken
  too)[&protected=true]: create an entry, without a blob yet (409 if it
  exists); delete=true&id=ID: delete it.

One entry (/content/M/ID; 404 when unknown):
- POST with the blob as the raw body: upload it; the request's
  Content-Type is what downloads answer with;
- GET: `content-type,size,updated,meta,protected`; ?sn=SN: the device's
  view `content-type,size,updated,meta` (400 when SN may not download it);
  ?download=true[&sn=SN]: the blob, `Range: bytes=X-Y` answers 206 with
  Content-Range; ?show=groups: the groups it belongs to (204 when none);
- DELETE: delete it.

Protected content is for the serial numbers that share a group with it;
other content is for every serial number of the model.
"""

from .answers import csv, empty, page, text
from .provision import authorized, blob


def route(call, method, rest):
    name, content_id = rest
    if call.store.model(call.name, name) is None:
        return text(400 if content_id == "" else 404, "no model %r" % name)
    if content_id == "":
        return _collection(call, method, name)
    found = call.store.content(call.name, name, content_id,
                               with_blob=method == "GET" and call.query.flag("download"))
    if found is None:
        return text(404, "no content %r" % content_id)
    if method == "GET":
        return _show(call, name, found)
    if method == "POST":
        kind = call.request.headers.get("Content-Type") or "application/octet-stream"
        call.store.set_blob(call.name, name, content_id, call.request.body(), kind, call.now)
        return empty(205)
    if method == "DELETE":
        call.store.remove_content(call.name, name, content_id)
        return empty(205)
    return text(405, "%s is not a method of this endpoint" % method)


def _collection(call, method, model):
    store = call.store
    if method == "GET":
        listed = store.contents_of(call.name, model)
        sn = call.query.first("sn")
        if sn is not None:
            if store.serial(call.name, model, sn) is None:
                return text(400, "no serial number %r" % sn)
            listed = [item for item in listed
                      if authorized(store, call.now, call.name, model, item, sn)]
        return csv(listed)
    if method != "POST":
        return text(405, "%s is not a method of this endpoint" % method)
    content_id = call.form.first("id", "")
    if not content_id or "/" in content_id:
        return text(400, "id is required (without /)")
    if call.form.flag("delete"):
        if not store.remove_content(call.name, model, content_id):
            return text(404, "no content %r" % content_id)
        return empty(205)
    meta = call.form.first("meta", call.form.first("description", ""))
    if not store.add_content(call.name, model, content_id, meta, call.form.flag("protected"),
                             call.now):
        return text(409, "content %r already exists" % content_id)
    return empty(205)


def _show(call, model, found):
    sn = call.query.first("sn")
    if sn is not None and not authorized(call.store, call.now, call.name, model, found["id"],
                                         sn):
        if call.query.flag("download"):
            return text(403, "serial number %r may not download %r" % (sn, found["id"]))
        return text(400, "serial number %r may not download %r" % (sn, found["id"]))
    if call.query.flag("download"):
        return blob(found, call.request.headers.get("Range"))
    if call.query.first("show") == "groups":
        offset, limit = page(call.query, 5)
        groups = call.store.groups_with(call.name, model, "content", found["id"])
        return csv(groups[offset:offset + limit], when_empty=204)
    fields = [found["type"], found["size"], found["updated"], found["meta"]]
    if sn is None:
        fields.append("true" if found["protected"] else "false")
    return csv([fields])
