"""Serial numbers of a model: /provision/manage/model/<model>/ and
/provision/manage/model/<model>/<sn> (see manage.py for authentication and
the answers' conventions).

A serial number is added (one, several, a CSV body with extra fields, or a
range), then enabled with an owner: that makes its client, a copy of the
model's clone template under the owner, with a CIK "notactivated", and
opens a 24-hour window in which the device may activate and get that CIK.
Enabling again without an owner regenerates the CIK (the old one stops
working) and opens a new window; disable expires the CIK; remap moves a
client from one serial number to another. Deleting a serial number leaves
its client where it is.

The collection (/model/M/):
- GET ?offset=&limit= (limit 5..1000, default 1000)&status=true: lines
  `sn,rid,extra` (`sn,status,rid,extra` with status=true; rid and status
  are empty until the client exists); ?show=ranges: the ranges as a JSON list;
- POST sn=SN&extra=E, or sn[]=SN&sn[]=..., or a text/csv body of
  `sn,extra` lines: add (409 if one exists; then none is added);
  delete=true (or pyonep's remove=true) with sn / sn[]: remove; a JSON body
  {"ranges": [...]}: add ranges;
- DELETE a text/csv body of serial numbers, or a JSON body of ranges: remove.

One serial number (/model/M/SN):
- GET: `status,rid,extra` (204 while it has no client); ?show=log: lines
  `timestamp,connection,entry` (204 when empty); ?show=groups: its groups;
- POST enable=true&owner=RID: make its client, answer its RID (text/csv);
  enable=true&oldsn=OLD: remap; enable=true: regenerate the CIK;
  disable=true: disable;
- DELETE: remove it.
"""

import json
import re

from . import seed as seeding
from .answers import Answer, csv, empty, page, text
from .resources import clone_client
from .store import new_key

# how long after enable a device may activate
ACTIVATION_WINDOW = 24 * 3600
RANGE_FORMATS = ("base10", "base16", "mac:48", "mac-48", "mac.48")
MAC_SHAPES = {"mac:48": r"([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}",
              "mac-48": r"([0-9a-fA-F]{2}-){5}[0-9a-fA-F]{2}",
              "mac.48": r"([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}"}
JSON_TYPES = ("application/javascript", "application/json")


def route(call, method, rest):
    name, sn = rest
    found = call.store.model(call.name, name)
    if found is None:
        return text(404, "no model %r" % name)
    if sn == "":
        return _collection(call, method, found)
    return _one(call, method, found, sn)


# -- the collection -----------------------------------------------------------------------

def _collection(call, method, model):
    if method == "GET":
        if call.query.first("show") == "ranges":
            return Answer(200, json.dumps(model["ranges"]).encode("utf-8"),
                          "application/javascript; charset=utf-8")
        return _listing(call, model)
    if method not in ("POST", "DELETE"):
        return text(405, "%s is not a method of this endpoint" % method)
    kind = call.body_type()
    if kind in JSON_TYPES:
        return _ranges(call, model, adding=method == "POST")
    if method == "DELETE" or call.form.flag("delete") or call.form.flag("remove"):
        wanted = _csv_serials(call) if kind == "text/csv" else call.form.every("sn")
        for sn in wanted:
            call.store.remove_serial(call.name, model["name"], sn)
        return empty(205)
    if kind == "text/csv":
        adding = [(line[0], line[1] if len(line) > 1 else "") for line in _csv_lines(call)]
    else:
        extra = call.form.first("extra", "")
        adding = [(sn, extra) for sn in call.form.every("sn")]
    return _add(call, model, adding)


def _listing(call, model):
    offset, limit = page(call.query, 1000)
    with_status = call.query.flag("status")
    rows = []
    for serial in call.store.serials_of(call.name, model["name"], offset, limit):
        rid, status = _client_state(call.store, serial)
        rows.append((serial["sn"], status, rid, serial["extra"]) if with_status
                    else (serial["sn"], rid, serial["extra"]))
    return csv(rows)


def _client_state(store, serial):
    """(rid, status) of a serial number's client; ("", "") while it has none."""
    if serial["rid"] is None:
        return "", ""
    client = store.resource(serial["rid"])
    return serial["rid"], client["status"] if client else ""


def _add(call, model, adding):
    if not adding or not all(sn for sn, _ in adding):
        return text(400, "give sn (or sn[]) to add")
    taken = [sn for sn, _ in adding if call.store.serial(call.name, model["name"], sn)]
    if taken:
        return text(409, "serial number %r already exists" % taken[0])
    for sn, extra in adding:
        call.store.add_serial(call.name, model["name"], sn, extra=extra)
    return empty(205)


def _csv_lines(call):
    lines = call.request.body().decode("utf-8", "replace").splitlines()
    return [[field.strip() for field in line.split(",", 1)] for line in lines if line.strip()]


def _csv_serials(call):
    return [line[0] for line in _csv_lines(call)]


def _ranges(call, model, adding):
    try:
        given = json.loads(call.request.body().decode("utf-8"))
        ranges = [normal_range(item) for item in given["ranges"]]
    except (ValueError, KeyError, TypeError) as problem:
        return text(400, "ranges: %s" % problem)
    kept = [item for item in model["ranges"] if item not in ranges]
    if adding:
        kept += [item for item in ranges if item not in kept]
    call.store.update_model(call.name, model["name"], ranges=kept)
    return empty(205)


def normal_range(item):
    """A range as stored and listed: {"format", "length", "casing", "first",
    "last"}; ValueError when it is not one."""
    if not isinstance(item, dict) or item.get("format") not in RANGE_FORMATS:
        raise ValueError("a range has a format: %s" % ", ".join(RANGE_FORMATS))
    first, last = item.get("first"), item.get("last")
    if type(first) is not int or type(last) is not int or not 0 <= first <= last:
        raise ValueError("first and last are whole numbers, first <= last")
    length = item.get("length")
    if length is not None and (type(length) is not int or length < 1):
        raise ValueError("length is a positive whole number")
    casing = item.get("casing")
    if casing not in (None, "upper", "lower"):
        raise ValueError("casing is upper or lower")
    return {"format": item["format"], "length": length, "casing": casing, "first": first,
            "last": last}


def in_ranges(sn, ranges):
    """True when `sn` is written as one of the ranges writes its numbers."""
    return any(_number(sn, item) is not None and item["first"] <= _number(sn, item) <= item["last"]
               for item in ranges)


def _number(sn, item):
    """The number `sn` stands for in a range's format, or None."""
    kind = item["format"]
    if kind == "base10":
        shape = r"[0-9]+"
    elif kind == "base16":
        shape = r"[0-9a-fA-F]+"
    else:
        shape = MAC_SHAPES[kind]
    if not re.fullmatch(shape, sn):
        return None
    digits = re.sub(r"[^0-9a-fA-F]", "", sn)
    if kind != "base10":
        if item["casing"] == "upper" and digits != digits.upper():
            return None
        if item["casing"] == "lower" and digits != digits.lower():
            return None
    if item["length"] is not None and kind in ("base10", "base16") and \
            len(digits) != item["length"]:
        return None
    return int(digits, 10 if kind == "base10" else 16)


# -- one serial number -------------------------------------------------------------------

def _one(call, method, model, sn):
    serial = call.store.serial(call.name, model["name"], sn)
    if serial is None and in_ranges(sn, model["ranges"]):
        if method != "POST":
            return empty(204) if method == "GET" else text(404, "no serial number %r" % sn)
        # a number of a range becomes a serial number when it is enabled
        call.store.add_serial(call.name, model["name"], sn)
        serial = call.store.serial(call.name, model["name"], sn)
    if serial is None:
        return text(404, "no serial number %r" % sn)
    if method == "GET":
        return _show(call, serial)
    if method == "DELETE":
        call.store.remove_serial(call.name, model["name"], sn)
        return empty(205)
    if method != "POST":
        return text(405, "%s is not a method of this endpoint" % method)
    if call.form.flag("disable"):
        return _disable(call, serial)
    if not call.form.flag("enable"):
        return text(400, "give enable=true (with owner or oldsn) or disable=true")
    if call.form.first("owner") is not None:
        return _enable(call, model, serial, call.form.first("owner"))
    if call.form.first("oldsn") is not None:
        return _remap(call, serial, call.form.first("oldsn"))
    return _regenerate(call, serial)


def _show(call, serial):
    shown = call.query.first("show")
    if shown == "log":
        return csv(call.store.log_of(serial["vendor"], serial["model"], serial["sn"]),
                   when_empty=204)
    if shown == "groups":
        offset, limit = page(call.query, 5)
        found = call.store.groups_with(serial["vendor"], serial["model"], "sn", serial["sn"])
        return csv(found[offset:offset + limit], when_empty=204)
    rid, status = _client_state(call.store, serial)
    if not rid:
        return empty(204)
    return csv([(status, rid, serial["extra"])])


def _log(call, serial, entry):
    call.store.add_log(serial["vendor"], serial["model"], serial["sn"], call.now,
                       call.connection, entry)


def _enable(call, model, serial, owner):
    store = call.store
    if serial["rid"] is not None or serial["client"] is not None:
        return text(409, "serial number %r already has a client" % serial["sn"])
    found = store.resource(owner) if isinstance(owner, str) else None
    if found is None or found["type"] != "client" or not call.in_domain(owner):
        return text(409, "owner is not a client in the vendor's domain")
    if model["rid"] is not None:
        template = store.resource(model["rid"])
        if template is None or template["type"] != "client":
            return text(409, "the model's clone template no longer exists")
        rid = clone_client(store, model["rid"], owner, call.now,
                           "noaliases" in model["options"], "nohistorical" in model["options"])
    else:
        spec = {"name": serial["sn"], "dataports": model["template"].get("dataports", [])}
        rid = seeding.add_client(store, spec, owner, call.now)
        store.set_client_key(rid, status="notactivated")
    store.update_serial(serial["vendor"], serial["model"], serial["sn"], rid=rid,
                        window_ends=call.now + ACTIVATION_WINDOW)
    _log(call, serial, "enabled: client %s made under %s" % (rid, owner))
    return csv([rid])


def _regenerate(call, serial):
    if serial["rid"] is None:
        if serial["client"] is None:
            return text(409, "serial number %r has no client: enable it with an owner"
                        % serial["sn"])
        call.store.update_serial(serial["vendor"], serial["model"], serial["sn"], enabled=1)
    else:
        if call.store.resource(serial["rid"]) is None:
            return text(409, "the client of serial number %r was dropped" % serial["sn"])
        call.store.set_client_key(serial["rid"], cik=new_key(), status="notactivated")
        call.store.update_serial(serial["vendor"], serial["model"], serial["sn"],
                                 window_ends=call.now + ACTIVATION_WINDOW)
    _log(call, serial, "reenabled: CIK regenerated")
    return empty(205)


def _disable(call, serial):
    if serial["rid"] is None:
        if serial["client"] is None:
            return text(409, "serial number %r has no client" % serial["sn"])
        call.store.update_serial(serial["vendor"], serial["model"], serial["sn"], enabled=0)
    elif call.store.resource(serial["rid"]) is not None:
        call.store.set_client_key(serial["rid"], status="expired")
    _log(call, serial, "disabled: CIK expired")
    return empty(205)


def _remap(call, serial, oldsn):
    store = call.store
    old = store.serial(serial["vendor"], serial["model"], oldsn)
    if old is None or old["rid"] is None or store.resource(old["rid"]) is None:
        return text(409, "serial number %r has no client to move" % oldsn)
    if serial["rid"] is not None or serial["client"] is not None:
        return text(409, "serial number %r already has a client" % serial["sn"])
    store.update_serial(old["vendor"], old["model"], oldsn, rid=None, window_ends=None)
    store.update_serial(serial["vendor"], serial["model"], serial["sn"], rid=old["rid"],
                        window_ends=call.now + ACTIVATION_WINDOW)
    store.set_client_key(old["rid"], cik=new_key(), status="notactivated")
    _log(call, serial, "remapped from %s" % oldsn)
    _log(call, old, "remapped to %s" % serial["sn"])
    return empty(205)
