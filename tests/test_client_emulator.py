"""uonep.Client end to end against the local One Platform: every procedure,
its error paths, batches, the keep-alive reconnect, and provisioning."""
import time

import pytest

from uonep import Client, rpc
from uonep.errors import (AuthError, CallError, HTTPError, ProtocolError, ProvisionError,
                          RecordBatchError, RequestError, TransportError, ValidationError)
from uonep.provision import activate, server_time
from uonep_host import Client as HostClient
from uonep_host.emulator import DEFAULT_CIK

OTHER_CIK = "9" * 40


def _client(emulator, cik=DEFAULT_CIK, **options):
    url = emulator.url
    options.setdefault("timeout", 5)
    return HostClient(cik, url, **options)


@pytest.fixture
def client(onep_emulator):
    return _client(onep_emulator)


def test_write_then_read(client, onep_emulator):
    client.write("temp", 23.5)
    [[timestamp, value]] = client.read("temp")
    assert value == 23.5 and abs(timestamp - time.time()) < 5
    assert onep_emulator.points(DEFAULT_CIK, "temp")[-1][1] == 23.5


def test_plain_requests_transport_works_too(onep_emulator):
    url = onep_emulator.url
    plain = Client(DEFAULT_CIK, url, timeout=5)
    plain.write("count", 3)
    assert plain.read("count") == [[plain.read("count")[0][0], 3]]


def test_read_options(client):
    client.recordbatch("temp", [[1000 + step, float(step)] for step in range(10)])
    assert [value for _, value in client.read("temp", limit=3)] == [9.0, 8.0, 7.0]
    assert [value for _, value in client.read("temp", limit=3, sort="asc")] == [0.0, 1.0, 2.0]
    window = client.read("temp", starttime=1002, endtime=1004, limit=10, sort="asc")
    assert [value for _, value in window] == [2.0, 3.0, 4.0]
    given = client.read("temp", starttime=1000, endtime=1009, limit=2, selection="givenwindow")
    assert 1 <= len(given) <= 2
    assert len(client.read("temp", limit=5, selection="autowindow")) <= 5


def test_writegroup_shares_one_timestamp(client):
    client.writegroup({"temp": 1.5, "count": 7, "status": "up"})
    stamps = set(client.read(alias)[0][0] for alias in ("temp", "count", "status"))
    assert len(stamps) == 1


def test_record_and_recordbatch_with_negative_timestamps(client):
    now = int(time.time())
    client.record("count", [[now - 100, 1], [now - 50, 2]])
    client.recordbatch("count", [[-10, 3]])
    values = client.read("count", limit=10, sort="asc")
    assert [value for _, value in values] == [1, 2, 3]
    assert abs(values[-1][0] - (now - 10)) <= 2


def test_recordbatch_partial_failure_keeps_the_valid_points(client):
    with pytest.raises(RecordBatchError) as caught:
        client.recordbatch("temp", [[2000, 1.0], [2001, "not a number"], [2002, 3.0]])
    assert caught.value.rejected == [[2001, "invalid"]]
    assert [value for _, value in client.read("temp", limit=10, sort="asc")] == [1.0, 3.0]


def test_wrong_format_write_is_a_call_error(client):
    with pytest.raises(CallError) as caught:
        client.write("temp", "hot")
    assert caught.value.procedure == "write" and caught.value.status != "ok"


def test_unknown_alias_is_a_call_error(client):
    with pytest.raises(CallError):
        client.write("nope", 1.0)


def test_flush_with_bounds(client):
    client.recordbatch("temp", [[3000 + step, float(step)] for step in range(5)])
    client.flush("temp", newerthan=3000, olderthan=3004)
    assert [ts for ts, _ in client.read("temp", limit=10, sort="asc")] == [3000, 3004]
    client.flush("temp")
    assert client.read("temp") == []


def test_wait_wakes_or_expires(client, onep_emulator):
    with pytest.raises(CallError) as caught:
        client.wait("temp", timeout=200)
    assert caught.value.status == "expire"
    since = int(time.time()) - 1
    writer = _client(onep_emulator)
    import threading
    timer = threading.Timer(0.3, writer.write, ("temp", 42.0))
    timer.start()
    try:
        assert client.wait("temp", timeout=5000, since=since)[1] == 42.0
    finally:
        timer.join()


def test_create_update_info_listing_map_lookup_drop(client):
    rid = client.create_dataport("integer", name="made")
    assert rpc.is_hex40(rid)
    client.map(rid, "made")
    assert client.lookup("made") == rid
    client.write("made", 5)
    client.update(rid, {"name": "renamed"})
    info = client.info(rid)
    assert info["description"]["name"] == "renamed"
    assert info["description"]["format"] == "integer"
    assert rid in client.listing(["dataport"])["dataport"]
    own = client.info(options={"basic": True})
    assert "basic" in own
    client.unmap("made")
    with pytest.raises(CallError):
        client.lookup("made")
    client.drop(rid)
    assert rid not in client.listing(["dataport"])["dataport"]


def test_create_client_and_act_as_it(client, onep_emulator):
    child = client.create("client", {"name": "child"})
    info = client.info(child, {"key": True})
    child_cik = info["key"]
    assert rpc.is_hex40(child_cik)
    as_child = _client(onep_emulator, cik=DEFAULT_CIK, client_id=child)
    port = as_child.create_dataport("float")
    as_child.map(port, "inner")
    as_child.write("inner", 1.25)
    direct = _client(onep_emulator, cik=child_cik)
    assert direct.read("inner")[0][1] == 1.25
    owner = _client(onep_emulator, cik=DEFAULT_CIK, resource_id=child)
    assert owner.info({"alias": ""}, {"basic": True})


def test_grant_token_is_usable_as_auth(client, onep_emulator):
    temp = client.lookup("temp")
    token = client.grant({"alias": ""}, {temp: ["read", "write"]}, ttl=60)
    holder = _client(onep_emulator, cik=None, token=token)
    holder.write(temp, 9.5)
    assert holder.read(temp)[0][1] == 9.5


def test_shares_tags_usage_and_move(client):
    temp = client.lookup("temp")
    assert rpc.is_hex40(client.lookup(temp, "owner"))
    code = client.share(temp)
    assert rpc.is_hex40(code)
    assert client.activate("share", code) is None
    assert client.deactivate("share", code) is None
    assert client.revoke("share", code) is None
    assert client.tag(temp, "add", "kitchen") is None
    assert isinstance(client.usage("dataport", 0, int(time.time())), int)
    destination = client.create("client", {"name": "dest"})
    port = client.create_dataport("float")
    client.move(port, destination)
    assert port not in client.listing(["dataport"])["dataport"]


def test_batch_sends_one_request(client, onep_emulator):
    before = onep_emulator.request_count
    with client.batch() as batch:
        batch.write("temp", 1.0)
        batch.write("count", 2)
        batch.read("temp")
    assert onep_emulator.request_count == before + 1
    assert batch.results[0] is None and batch.results[2][0][1] == 1.0


def test_batch_with_a_failure_raises_on_exit_and_keeps_results(client):
    batch = client.batch()
    with pytest.raises(CallError):
        with batch:
            batch.write("temp", "bad")
            batch.write("count", 3)
    assert isinstance(batch.results[0], CallError) and batch.results[1] is None
    again = client.batch()
    again.write("temp", "bad")
    assert isinstance(again.send()[0], CallError)
    with pytest.raises(ValidationError):
        client.batch().send()


def test_bad_cik_is_an_auth_error(onep_emulator):
    with pytest.raises(AuthError) as caught:
        _client(onep_emulator, cik=OTHER_CIK).read("temp")
    assert OTHER_CIK not in str(caught.value)


def test_set_credentials_switches_the_cik(onep_emulator):
    client = _client(onep_emulator, cik=OTHER_CIK)
    with pytest.raises(AuthError):
        client.read("temp")
    client.set_credentials(DEFAULT_CIK)
    client.write("temp", 1.5)
    assert client.read("temp")[0][1] == 1.5
    with pytest.raises(ValidationError):
        client.set_credentials("not a cik")


def test_reconnects_after_the_servers_hundredth_request(client):
    for step in range(150):
        client.write("count", step)
    assert client.read("count")[0][1] == 149


def test_request_level_faults_map_to_errors(client, onep_emulator):
    cases = [({"kind": "drop_before_body"}, TransportError),
             ({"kind": "drop_after_body"}, TransportError),
             ({"kind": "http_status", "status": 502}, HTTPError),
             ({"kind": "http_status", "status": 503}, HTTPError),
             ({"kind": "truncate"}, ProtocolError),
             ({"kind": "auth"}, AuthError),
             ({"kind": "call_status", "call_status": "restricted"}, CallError)]
    for spec, kind in cases:
        onep_emulator.faults.arm(**spec)
        with pytest.raises(kind):
            client.read("temp")
        client.read("temp")  # the next request is clean again


def test_stall_past_the_timeout_is_a_transport_error(onep_emulator):
    quick = _client(onep_emulator, timeout=0.5)
    onep_emulator.faults.arm("stall", seconds=1.5)
    with pytest.raises(TransportError):
        quick.read("temp")


def test_provisioning_and_server_time(client, onep_emulator):
    transport = client.transport
    cik = activate(transport, "acme", "m1", "0001")
    assert cik == "2" * 40
    with pytest.raises(ProvisionError) as again:
        activate(transport, "acme", "m1", "0001")
    assert again.value.code == 409
    with pytest.raises(ProvisionError) as unknown:
        activate(transport, "acme", "m1", "9999")
    assert unknown.value.code == 404
    assert abs(server_time(transport) - time.time()) < 5
    _client(onep_emulator, cik=cik).write("temp", 1.0)


def test_nothing_is_sent_for_bad_input(client, onep_emulator):
    before = onep_emulator.request_count
    for bad in (float("nan"), b"x", None, [1.0]):
        with pytest.raises(ValidationError):
            client.write("temp", bad)
    assert onep_emulator.request_count == before


def test_repr_hides_the_cik(client):
    assert DEFAULT_CIK not in repr(client) and DEFAULT_CIK not in repr(client.transport)
