"""Groups of a model: /provision/manage/group/<model>/, .../<model>/<id>
and .../<model>/<id>/ (see manage.py for authentication and the answers'
conventions). A group holds typed members (`sn`, `content`, `group`, or
any other type a vendor uses), each with an expiry time (a Unix time; 0
never expires) and meta. A protected content entry may be downloaded by
the serial numbers in a group with it.

Listings come in pages: `offset` (default 0) and `limit` (5 to 1000,
default 5); an empty listing answers 204.
- /group/M/: GET `id,meta` lines; POST id=ID&meta=META: create (409 if it
  exists); POST id=ID&delete=true: delete;
- /group/M/ID: GET `meta,count`; ?show=groups: the groups it is a member
  of; DELETE: delete;
- /group/M/ID/: GET `type,id,expire,meta` lines (?type= and ?id= filter);
  POST type=T&id=ID (or id[]=...)&expire=E&meta=META: add or update
  members; POST a text/csv body of `type,id,expire,meta` lines: the same
  for members of different types; POST type=T&id=ID&delete=true: remove;
  DELETE a text/csv body of `type,id` lines: remove.
"""

from .answers import csv, empty, page, text


def route(call, method, rest):
    name, group_id = rest
    if call.store.model(call.name, name) is None:
        return text(404, "no model %r" % name)
    if group_id == "":
        return _collection(call, method, name)
    found = call.store.group(call.name, name, group_id)
    if found is None:
        return text(404, "no group %r" % group_id)
    if method == "GET":
        if call.query.first("show") == "groups":
            within = call.store.groups_with(call.name, name, "group", group_id)
            return _paged(call, within)
        count = len(call.store.members(call.name, name, group_id))
        return csv([(found["meta"], count)])
    if method == "DELETE":
        call.store.remove_group(call.name, name, group_id)
        return empty(205)
    return text(405, "%s is not a method of this endpoint" % method)


def _collection(call, method, model):
    store = call.store
    if method == "GET":
        return _paged(call, store.groups_of(call.name, model))
    if method != "POST":
        return text(405, "%s is not a method of this endpoint" % method)
    group_id = call.form.first("id", "")
    if not group_id or "/" in group_id:
        return text(400, "id is required (without /)")
    if call.form.flag("delete"):
        if not store.remove_group(call.name, model, group_id):
            return text(404, "no group %r" % group_id)
        return empty(205)
    if not store.add_group(call.name, model, group_id, call.form.first("meta", "")):
        return text(409, "group %r already exists" % group_id)
    return empty(205)


def members_route(call, method, rest):
    name, group_id, tail = rest
    if tail != "":
        return text(404, "no such provisioning endpoint")
    if call.store.model(call.name, name) is None:
        return text(404, "no model %r" % name)
    if call.store.group(call.name, name, group_id) is None:
        return text(404, "no group %r" % group_id)
    if method == "GET":
        kind, member = call.query.first("type"), call.query.first("id")
        rows = [row for row in call.store.members(call.name, name, group_id)
                if kind in (None, row[0]) and member in (None, row[1])]
        return _paged(call, rows)
    if method == "DELETE" or (method == "POST" and call.form.flag("delete")):
        return _remove(call, name, group_id)
    if method == "POST":
        return _put(call, name, group_id)
    return text(405, "%s is not a method of this endpoint" % method)


def _put(call, model, group_id):
    if call.body_type() == "text/csv":
        rows = [(fields + ["", "", "", ""])[:4] for fields in _csv(call)]
    else:
        kind, expire, meta = (call.form.first("type", ""), call.form.first("expire", "0"),
                              call.form.first("meta", ""))
        rows = [(kind, member, expire, meta) for member in call.form.every("id")]
    checked = []
    for kind, member, expire, meta in rows:
        try:
            expire = int(expire or 0)
        except ValueError:
            return text(400, "expire is a Unix time (0: never)")
        if not kind or not member:
            return text(400, "a member has a type and an id")
        checked.append((kind, member, expire, meta))
    if not checked:
        return text(400, "give type and id (or id[]) of the members")
    for kind, member, expire, meta in checked:
        call.store.put_member(call.name, model, group_id, kind, member, expire, meta)
    return empty(205)


def _remove(call, model, group_id):
    if call.body_type() == "text/csv":
        pairs = [(fields + [""])[:2] for fields in _csv(call)]
    else:
        pairs = [(call.form.first("type", ""), member) for member in call.form.every("id")]
    for kind, member in pairs:
        call.store.remove_member(call.name, model, group_id, kind, member)
    return empty(205)


def _csv(call):
    lines = call.request.body().decode("utf-8", "replace").splitlines()
    return [[field.strip() for field in line.split(",", 3)] for line in lines if line.strip()]


def _paged(call, rows):
    offset, limit = page(call.query, 5)
    return csv(rows[offset:offset + limit], when_empty=204)
