"""Seeds: the clients, dataports and devices an emulator starts with.

A seed is a JSON object (a dict, or the path of a JSON file)::

    {
      "clients": [
        {
          "cik": "<40 lowercase hex>",      # required for top-level clients
          "name": "gateway",                # optional, default ""
          "rid": "<40 hex>",                # optional: fix the RID (else random)
          "alias": "gw",                    # optional: a name in the parent's namespace
          "dataports": [
            {"alias": "temp", "format": "float",          # format: float|integer|string
             "name": "Temperature",                       # optional
             "retention": {"count": "infinity", "duration": "infinity"},  # optional;
                                                          # duration in hours
             "rid": "<40 hex>",                           # optional
             "points": [[-60, 21.5], [1700000000, 22]],   # optional; negative = seconds ago
             "preprocess": [["add", 4.4], ["mul", 2]],     # optional; operands: numbers or
                                                          # sibling aliases
             "subscribe": "temp"}                         # optional: a sibling's alias (or RID)
          ],
          "clients": [ ...child clients, same shape; "cik" optional (random if absent)... ]
        }
      ],
      "vendors": [
        {"name": "acme",
         "token": "<40 hex>",          # optional: the vendor token (X-Exosite-Token)
         "cik": "<cik of a seeded client>",     # optional: the vendor CIK; its client is
                                       # the vendor's domain (clone templates and owners
                                       # must then be inside it)
         "models": [
           {"name": "m1",
            "rid": "<RID of a seeded client>",  # optional: the clone template
            "options": ["noaliases"],  # optional: noaliases, nocomments, nohistorical
            "dataports": [...]}        # without rid: what a client enabled from the model
         ]}                            # gets (same shape as above)
      ],
      "devices": [
        {"vendor": "acme", "model": "m1", "sn": "0001",
         "cik": "<40 hex>",            # the CIK activation returns (random if absent)
         "enabled": true,              # false: activation answers 409
         "extra": "...",               # optional: the serial number's extra field
         "owner": "<cik of a seeded client>",   # optional: the new client's owner
         "name": "...",                # optional: the new client's name (default: sn)
         "dataports": [...]}           # optional: created at activation, same shape as above
      ]
    }

Every client gets its own RID, distinct from its CIK. A device is a serial
number of its vendor's model, ready to activate: its client is made when it
activates (a serial number added through the provisioning API gets its
client when it is enabled). Seeding is idempotent: a client whose CIK
already exists is skipped with its whole subtree, and a vendor, model or
device already registered is left alone, so a file database can be seeded
again on every start.
"""

import json

from . import descriptions
from .access import is_key
from .errors import CallFailure
from .store import new_key
from .timeseries import Invalid, coerce

# The seed of the pytest fixture and of tests/seeds/default.json.
DEFAULT_CIK = "1" * 40
DEFAULT_VENDOR_TOKEN = "3" * 40
DEFAULT_SEED = {
    "clients": [
        {"cik": DEFAULT_CIK, "name": "test device",
         "dataports": [
             {"alias": "temp", "format": "float", "name": "Temperature"},
             {"alias": "count", "format": "integer", "name": "Counter"},
             {"alias": "status", "format": "string", "name": "Status"},
         ]},
    ],
    "vendors": [
        {"name": "acme", "token": DEFAULT_VENDOR_TOKEN,
         "models": [{"name": "m1", "dataports": [{"alias": "temp", "format": "float"}]}]},
    ],
    "devices": [
        {"vendor": "acme", "model": "m1", "sn": "0001", "cik": "2" * 40, "enabled": True,
         "dataports": [{"alias": "temp", "format": "float"}]},
        {"vendor": "acme", "model": "m1", "sn": "0002", "cik": "3" * 40, "enabled": False},
    ],
}


class SeedError(ValueError):
    """The seed does not have the documented shape."""


def load(seed):
    """A seed dict from a dict, a path, or None (an empty seed)."""
    if seed is None:
        return {}
    if isinstance(seed, dict):
        return seed
    with open(str(seed), encoding="utf-8") as handle:
        return json.load(handle)


def apply(store, seed, now):
    """Create what the seed describes and is not there yet (one transaction)."""
    seed = load(seed)
    if not isinstance(seed, dict):
        raise SeedError("a seed is a JSON object")
    with store.transaction():
        for client in seed.get("clients", []):
            if not is_key(client.get("cik")):
                raise SeedError("a top-level client needs a 40-hex cik")
            add_client(store, client, None, now)
        for vendor in seed.get("vendors", []):
            _add_vendor(store, vendor)
        for device in seed.get("devices", []):
            _add_device(store, device)


def add_client(store, spec, owner, now):
    """Create a client (and what it holds) unless its CIK exists; returns its RID."""
    _check_rid(spec)
    cik = spec.get("cik") or new_key()
    if not is_key(cik):
        raise SeedError("a client's cik must be 40 lowercase hex characters")
    existing = store.client_by_cik(cik)
    if existing is not None:
        return existing["rid"]
    description = descriptions.describe("client", {"name": spec.get("name", "")})
    rid = store.add_resource("client", owner, description, now, cik=cik, rid=spec.get("rid"))
    if owner is not None and spec.get("alias"):
        store.add_alias(owner, spec["alias"], rid)
    dataports = spec.get("dataports", [])
    created = [add_dataport(store, dataport, rid, now) for dataport in dataports]
    # after every sibling exists, so a dataport may subscribe to one seeded after it
    for dataport, port in zip(dataports, created):
        if dataport.get("subscribe") is not None:
            _subscribe(store, rid, port, dataport["subscribe"])
    for child in spec.get("clients", []):
        add_client(store, child, rid, now)
    return rid


def add_dataport(store, spec, owner, now):
    """Create a dataport under `owner`, alias it and store its seed points."""
    _check_rid(spec)
    wanted = {key: spec[key] for key in ("format", "name", "meta", "public", "retention",
                                         "preprocess") if key in spec}
    try:
        description = descriptions.describe("dataport", wanted)
    except CallFailure as problem:
        raise SeedError("dataport %r: %s" % (spec.get("alias"), problem))
    rid = store.add_resource("dataport", owner, description, now, rid=spec.get("rid"))
    if spec.get("alias"):
        store.add_alias(owner, spec["alias"], rid)
    for timestamp, value in spec.get("points", []):
        try:
            value = coerce(value, description["format"])
        except Invalid:
            raise SeedError("dataport %r: a point does not fit its format" % spec.get("alias"))
        store.put_point(rid, now + timestamp if timestamp < 0 else timestamp, value)
    return rid


def _subscribe(store, owner, rid, source):
    """A seeded dataport's "subscribe": a sibling's alias or a RID in the client."""
    target = source if is_key(source) else store.alias_target(owner, source)
    if target is None or store.resource(target) is None or not store.is_within(target, owner):
        raise SeedError("dataport subscribes to %r, which is not a dataport of its client"
                        % source)
    dataport = store.resource(rid)
    store.update_resource(rid, dataport["created"],
                          description=dict(dataport["description"], subscribe=target))
    store.subscribe(rid, target)


def _check_rid(spec):
    if "rid" in spec and not is_key(spec["rid"]):
        raise SeedError("a rid must be 40 lowercase hex characters")


def _add_vendor(store, vendor):
    if not isinstance(vendor, dict) or not isinstance(vendor.get("name"), str) \
            or not vendor["name"]:
        raise SeedError("a vendor needs a name")
    token = vendor.get("token")
    if token is not None and not is_key(token):
        raise SeedError("vendor %r: a token is 40 lowercase hex characters" % vendor["name"])
    client = None
    if vendor.get("cik") is not None:
        found = store.client_by_cik(vendor["cik"])
        if found is None:
            raise SeedError("vendor %r: cik names no seeded client" % vendor["name"])
        client = found["rid"]
    store.add_vendor(vendor["name"], token, client)
    for model in vendor.get("models", []):
        _add_model(store, vendor["name"], model)


def _add_model(store, vendor, model):
    if not isinstance(model, dict) or not isinstance(model.get("name"), str) \
            or not model["name"]:
        raise SeedError("vendor %r: a model needs a name" % vendor)
    rid = model.get("rid")
    if rid is not None and not is_key(rid):
        raise SeedError("model %r: rid must be 40 lowercase hex characters" % model["name"])
    options = model.get("options", [])
    if not isinstance(options, list) or \
            set(options) - {"noaliases", "nocomments", "nohistorical"}:
        raise SeedError("model %r: options are noaliases, nocomments, nohistorical"
                        % model["name"])
    store.add_model(vendor, model["name"], rid=rid, options=options,
                    template={"dataports": model.get("dataports", [])})


def _add_device(store, device):
    try:
        vendor, model, sn = device["vendor"], device["model"], device["sn"]
    except KeyError:
        raise SeedError("a device needs vendor, model and sn")
    store.add_serial(vendor, model, sn, extra=device.get("extra", ""),
                     cik=device.get("cik") or new_key(), enabled=device.get("enabled", True),
                     owner_cik=device.get("owner"),
                     client={"name": device.get("name", sn),
                             "dataports": device.get("dataports", [])})
