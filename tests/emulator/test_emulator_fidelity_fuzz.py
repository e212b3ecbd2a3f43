"""Any call, with any JSON arguments, gets its own answer entry: "ok" or a
refusal with an error object whose message says why; never an internal
error (500) and never a request-level refusal that drops the other calls."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator_helpers import CIK, T0, Rpc
from uonep_host.emulator import Emulator

PROCEDURES = ("read", "write", "writegroup", "record", "recordbatch", "flush", "wait",
              "create", "update", "info", "listing", "drop", "move", "usage", "map",
              "unmap", "lookup", "share", "revoke", "activate", "deactivate", "grant", "tag")
WORDS = ("temp", "count", "status", "", "alias", "share", "client", "clone", "dataport",
         "datarule", "dispatch", "token", "owned", "activated", "read", "write", "rid",
         "code", "format", "float", "preprocess", "subscribe", "rule", "add", "script")
scalars = (st.sampled_from(WORDS) | st.integers(-3, T0 + 5) | st.floats(allow_nan=False,
                                                                        allow_infinity=False)
           | st.booleans() | st.none() | st.sampled_from(["1" * 40, "e" * 40]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(WORDS), inner, max_size=3),
                           max_leaves=8)
calls = st.tuples(st.sampled_from(PROCEDURES), st.lists(json_values, max_size=4))


def test_any_arguments_get_a_per_call_answer():
    # in process: the answers are the point here, not the sockets
    emu = Emulator(seed={"clients": [{"cik": CIK, "dataports": [
        {"alias": "temp", "format": "float"}, {"alias": "count", "format": "integer"},
        {"alias": "status", "format": "string"}]}]}, clock=lambda: T0)
    rpc = Rpc(emu.session())

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(calls, min_size=1, max_size=3))
    def check(batch):
        body = [{"id": number, "procedure": procedure, "arguments": arguments}
                for number, (procedure, arguments) in enumerate(batch)]
        for call in body:
            if call["procedure"] == "wait":
                call["arguments"] = call["arguments"][:1] + [{"timeout": 0}]
        answer = rpc.send(body)
        assert isinstance(answer, list) and len(answer) == len(body), answer
        for entry in answer:
            if entry["status"] != "ok":
                assert entry["error"]["message"] and entry["error"]["code"] != 500, entry

    check()
    emu.stop()
