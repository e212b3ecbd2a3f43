"""Requests built by the core for every procedure and auth form. Both
runtimes build this same list; tests/test_identical.py compares the bytes."""

from uonep import rpc

CIK = "0123456789abcdef0123456789abcdef01234567"
RID = "89abcdef0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def calls():
    """One call per procedure (and variants), each as (procedure, arguments)."""
    return [
        rpc.read("temp"),
        rpc.read(RID, 1700000000, 1700003600, "asc", 50, "givenwindow"),
        rpc.read({"alias": "hum"}, sort="desc", limit=1, selection="autowindow"),
        rpc.write("temp", 23.5),
        rpc.write("count", -7),
        rpc.write("status", "h\u00e9llo \u2603 \"quoted\" back\\slash \b\f\n\t\x01"),
        rpc.write("temp", 1e22, {}),
        rpc.writegroup([["temp", 0.1], ["count", 3], ["status", "ok"]]),
        rpc.record("temp", [[1700000000, 1.5], [1700000060, 2.5]]),
        rpc.recordbatch("temp", [[1700000000, 1.25], [-60, 2.0], [1700000120.0, 3]]),
        rpc.flush("temp"),
        rpc.flush("temp", newerthan=1700000000, olderthan=1700003600),
        rpc.wait("temp", 5000, 1700000000),
        rpc.wait("temp"),
        rpc.create("dataport", rpc.dataport_description("integer", "Count", count=100)),
        rpc.create("client", {"name": "child", "limits": {"dataport": "inherit"}}),
        rpc.update("temp", {"name": "Temperature", "meta": "{\"unit\": \"C\"}"}),
        rpc.info({"alias": ""}, {"basic": True, "key": True}),
        rpc.info(RID),
        rpc.listing({"alias": ""}, ["client", "dataport"], {"owned": True}),
        rpc.drop(RID),
        rpc.move(RID, OTHER, False),
        rpc.usage({"alias": ""}, "dataport", 1700000000, 1700086400),
        rpc.map(RID, "temp2"),
        rpc.unmap("temp2"),
        rpc.lookup("temp"),
        rpc.lookup(RID, "owner"),
        rpc.lookup(OTHER, "shared"),
        rpc.share(RID, {"count": 1, "meta": ""}),
        rpc.revoke("share", OTHER),
        rpc.activate("client", OTHER),
        rpc.deactivate("share", OTHER),
        rpc.grant({"alias": ""}, {RID: ["read", "write"]}, 3600),
        rpc.tag(RID, "add", "kitchen"),
    ]


def bodies():
    """The request bodies: each call alone, then all calls in one request,
    under each of the four auth forms."""
    forms = [rpc.auth(CIK), rpc.auth(CIK, client_id=RID), rpc.auth(CIK, resource_id=RID),
             rpc.auth(token="tok-123")]
    every = calls()
    out = []
    for call in every:
        out.append(rpc.encode_request(forms[0], [call], [1]))
    for credentials in forms:
        out.append(rpc.encode_request(credentials, every, list(range(1, len(every) + 1))))
    out.append(rpc.encode_request(forms[0], every[:3], ["a", "b-2", None]))
    return out
