"""The device side of provisioning: POST /provision/activate (a serial
number gets its CIK) and GET /provision/download (the content of the
device's model: list, info, blob with Range).

Activation answers 200 and the CIK as text/plain; 404 for a serial number
the vendor's model does not have; 409 when it is not enabled for
activation: added but never enabled, disabled, already activated, its
24-hour window after enable passed, or its client dropped; 400 when
vendor, model or sn is missing. A seeded device (seed.py) gets its client
made at its first activation.

Download needs X-Exosite-CIK of a client that activated a serial number of
that vendor's model (401 for a missing or unknown CIK; 403, or 400 for
info=true, for a pair that is not the device's, as the Exosite documents
say). It sees the model's content that is not protected, and protected
content that shares a group with its serial number.
"""

import re

from . import seed as seeding
from .access import is_key
from .answers import Answer, Form, csv, empty, text
from .serials import in_ranges

RANGE = re.compile(r"\Abytes=(\d*)-(\d*)\Z")


def activate(store, now, request, connection=""):
    """The Answer to an activation request (`connection` goes to the log)."""
    form = Form.parse(request.body())
    fields = [form.first(name, "") for name in ("vendor", "model", "sn")]
    if not all(fields):
        return text(400, "vendor, model and sn are required")
    with store.transaction():
        serial = store.serial(*fields)
        if serial is None:
            model = store.model(*fields[:2])
            if model is not None and in_ranges(fields[2], model["ranges"]):
                return text(409, "device not enabled for activation")
            return text(404, "unknown device")
        status, message = _activate(store, now, serial)
        store.add_log(*fields, now, connection,
                      "activated" if status == 200 else "activation refused: " + message)
    return text(status, message)


def _activate(store, now, serial):
    """(status, CIK or why not) for a serial number that exists."""
    if serial["rid"] is None:
        if serial["client"] is None or not serial["enabled"]:
            return 409, "device not enabled for activation"
        spec = dict(serial["client"], cik=serial["cik"])
        rid = seeding.add_client(store, spec, _owner(store, serial["owner_cik"]), now)
        store.update_serial(serial["vendor"], serial["model"], serial["sn"], rid=rid)
        return 200, serial["cik"]
    client = store.resource(serial["rid"])
    if client is None:
        return 409, "device not enabled for activation (its client was dropped)"
    if client["status"] != "notactivated":
        return 409, "device not enabled for activation (already activated or disabled)"
    if serial["window_ends"] is not None and now > serial["window_ends"]:
        return 409, "device not enabled for activation (the activation window closed)"
    store.set_client_key(client["rid"], status="activated")
    return 200, client["cik"]


def _owner(store, owner_cik):
    if not owner_cik:
        return None
    client = store.client_by_cik(owner_cik)
    return client["rid"] if client else None


# -- download -------------------------------------------------------------------------

def download(store, now, request):
    """The Answer to GET /provision/download?vendor=V&model=M[&id=ID[&info=true]]."""
    query = Form.parse(request.raw_query)
    vendor, model = query.first("vendor", ""), query.first("model", "")
    content_id, info = query.first("id"), query.flag("info")
    cik = request.headers.get("X-Exosite-CIK")
    with store.lock:
        client = store.client_by_cik(cik) if is_key(cik) else None
        if client is None or client["status"] == "expired":
            return text(401, "no or invalid CIK")
        serial = _activated_serial(store, client["rid"], vendor, model)
        if serial is None:
            return text(400 if info else 403, "the vendor and model pair is not this device's")
        allowed = [item for item in store.contents_of(vendor, model)
                   if authorized(store, now, vendor, model, item, serial["sn"])]
        if content_id is None:
            return csv(allowed)
        if content_id not in allowed:
            return text(404, "no content %r for this device" % content_id)
        found = store.content(vendor, model, content_id, with_blob=not info)
    if info:
        return csv([(found["type"], found["size"], found["updated"], found["meta"])])
    return blob(found, request.headers.get("Range"))


def _activated_serial(store, rid, vendor, model):
    """The serial number of (vendor, model) that client `rid` activated, or None."""
    for serial in store.serials_of_client(rid):
        if (serial["vendor"], serial["model"]) == (vendor, model):
            return serial
    return None


def authorized(store, now, vendor, model, content_id, sn):
    """True when serial number `sn` may download the content: it is not
    protected, or some group holds both (memberships not expired)."""
    found = store.content(vendor, model, content_id, with_blob=False)
    if found is None:
        return False
    if not found["protected"]:
        return True
    shared = set(store.groups_with(vendor, model, "content", content_id, now))
    return bool(shared & set(store.groups_with(vendor, model, "sn", sn, now)))


def blob(found, range_header):
    """A content blob with its Content-Type: 200 whole, or 206 with
    Content-Range for `Range: bytes=X-Y` (0-based, inclusive; "X-" to the
    end, "-Y" the last Y bytes); 416 for a range outside the blob. A Range
    of another form (several ranges, another unit) is ignored, as HTTP allows."""
    data = found["blob"]
    content_type = found["type"] or "application/octet-stream"
    chosen = _range(range_header, len(data))
    if chosen is None:
        answer = Answer(200, data, content_type)
    elif chosen is False:
        answer = empty(416)
        answer.headers["Content-Range"] = "bytes */%d" % len(data)
        return answer
    else:
        first, last = chosen
        answer = Answer(206, data[first:last + 1], content_type)
        answer.headers["Content-Range"] = "bytes %d-%d/%d" % (first, last, len(data))
    answer.headers["Accept-Ranges"] = "bytes"
    return answer


def _range(header, total):
    """(first, last) of a single byte range, None for no usable Range
    header, False for a range that cannot be satisfied."""
    match = RANGE.match((header or "").strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    start, end = match.group(1), match.group(2)
    if start == "":
        length = int(end)
        if length == 0 or total == 0:
            return False
        return max(0, total - length), total - 1
    first = int(start)
    last = total - 1 if end == "" else min(int(end), total - 1)
    if first >= total or (end != "" and int(end) < first):
        return False
    return first, last

