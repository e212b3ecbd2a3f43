"""POST /provision/activate: a seeded device gets its CIK, once."""

from urllib.parse import parse_qs

from . import seed as seeding


def activate(store, now, form_body):
    """(HTTP status, plain-text body) for an activation request.

    200 and the CIK on the first activation of an enabled device (creating its
    client, with the device's dataports, unless a client with that CIK already
    exists); 404 for an unknown device; 409 when the device is not enabled or
    was already activated; 400 when vendor, model or sn is missing.
    """
    form = parse_qs(form_body.decode("utf-8", "replace"))
    fields = [form.get(name, [""])[0] for name in ("vendor", "model", "sn")]
    if not all(fields):
        return 400, "vendor, model and sn are required"
    with store.transaction():
        device = store.device(*fields)
        if device is None:
            return 404, "unknown device"
        if not device["enabled"] or device["activated"]:
            return 409, "device not enabled for activation"
        owner = _owner(store, device["owner_cik"])
        spec = dict(device["client"], cik=device["cik"])
        seeding.add_client(store, spec, owner, now)
        store.mark_activated(*fields)
        return 200, device["cik"]


def _owner(store, owner_cik):
    if not owner_cik:
        return None
    client = store.client_by_cik(owner_cik)
    return client["rid"] if client else None
