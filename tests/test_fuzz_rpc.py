"""Property-based tests of the core's builders and parser (hypothesis).

- Any answer (random JSON, truncated, wrong types, huge numbers, deep nesting,
  unknown or repeated ids) gives results or a documented OnepError, nothing else.
- Any accepted value, alias and timestamp survives encoding unchanged; any
  other input is refused with ValidationError.
- The same corpus of answers is decoded inside MicroPython, which must reach
  the same verdict as CPython for every one.
Each test adds its number of generated cases to the reliability campaign.
"""
import base64
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import campaign
from mpharness import run_micropython
from uonep import rpc
from uonep.errors import CallError, OnepError, ValidationError

CIK = "0123456789abcdef0123456789abcdef01234567"
CASES = 2500
FUZZ = settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))

scalars = (st.none() | st.booleans() | st.integers(min_value=-(1 << 70), max_value=1 << 70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
ids = st.integers(min_value=-3, max_value=6) | st.sampled_from(["a", "b", "1"]) | st.none() \
    | st.booleans() | st.floats(allow_nan=False)
statuses = st.sampled_from(["ok", "invalid", "fail", "restricted", "expire", ""]) \
    | st.lists(st.lists(scalars, max_size=3), max_size=3) | scalars
entry = st.fixed_dictionaries({}, optional={"id": ids, "status": statuses,
                                            "result": json_values, "error": json_values})
answers = (st.lists(entry | json_values, max_size=5) | json_values
           | st.fixed_dictionaries({"error": json_values}))

CALLS = [rpc.write("a", 1), rpc.read("b"), rpc.recordbatch("c", [[1, 1.5]])]
IDS = [1, 2, 3]


class Counter:
    def __init__(self):
        self.count = 0


def _verdict(status, body, ids=IDS):
    """What the parser made of an answer, as a comparable string."""
    try:
        results = rpc.decode_response(status, body, CALLS, list(ids))
    except OnepError as failure:
        return type(failure).__name__
    assert len(results) == len(CALLS)
    return "ok:" + ",".join(type(item).__name__ if isinstance(item, CallError) else "r"
                            for item in results)


def _body(answer):
    return json.dumps(answer).encode()


def test_arbitrary_answers_only_raise_documented_errors():
    counter = Counter()

    @FUZZ
    @given(answers, st.sampled_from([200, 200, 200, 401, 500, 502]), st.integers(0, 100))
    def check(answer, status, cut):
        counter.count += 1
        body = _body(answer)
        _verdict(status, body)
        _verdict(status, body[:len(body) * cut // 100])

    check()
    campaign.record("reliability", fuzzed=counter.count)
    assert counter.count >= CASES


def test_deep_nesting_and_huge_numbers_are_protocol_errors():
    for body in (b"[" * 100000, b"[" * 100000 + b"]" * 100000, b'{"a":' * 50000):
        assert _verdict(200, body) == "ProtocolError"
    assert _verdict(200, b'[{"id":1,"status":"ok","result":1e999999},'
                         b'{"id":2,"status":"ok"},{"id":3,"status":"ok"}]') == "ok:r,r,r"


def test_well_formed_answers_round_trip():
    counter = Counter()

    @FUZZ
    @given(st.permutations(IDS), st.lists(json_values, min_size=3, max_size=3))
    def check(order, results):
        counter.count += 1
        answer = [{"id": call_id, "status": "ok", "result": results[call_id - 1]}
                  for call_id in order]
        decoded = rpc.decode_response(200, _body(answer), CALLS, IDS)
        assert decoded == json.loads(json.dumps(results))

    check()
    campaign.record("reliability", fuzzed=counter.count)


values = (st.integers(min_value=-(1 << 64), max_value=1 << 64) | st.floats() | st.text()
          | st.binary(max_size=4) | st.none() | st.booleans() | st.lists(st.integers(), max_size=2))
aliases = st.text(max_size=50) | st.integers() | st.none() | st.binary(max_size=4) \
    | st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)


def _acceptable_value(item):
    if type(item) is int:
        return -(1 << 63) <= item < (1 << 63)
    if type(item) is float:
        return math.isfinite(item)
    return type(item) is str


def _acceptable_resource(alias):
    """The documented rule: a non-empty alias string, a lowercase 40-hex RID
    (an upper-case one is refused), or {"alias": string}."""
    if isinstance(alias, str):
        return alias != "" and not (len(alias) == 40 and rpc.is_hex40(alias.lower())
                                    and not rpc.is_hex40(alias))
    return isinstance(alias, dict) and list(alias) == ["alias"] and isinstance(alias["alias"], str)


def test_values_and_aliases_are_accepted_intact_or_refused():
    counter = Counter()

    @FUZZ
    @given(aliases, values, st.integers(min_value=-(1 << 40), max_value=1 << 40))
    def check(alias, item, timestamp):
        counter.count += 1
        acceptable = _acceptable_value(item) and _acceptable_resource(alias)
        try:
            call = rpc.recordbatch(alias, [[timestamp, item]])
        except ValidationError as failure:
            assert not acceptable and str(failure)
            return
        assert acceptable
        body = json.loads(rpc.encode_request(rpc.auth(CIK), [call], [1]))
        sent_resource, sent_points = body["calls"][0]["arguments"]
        assert sent_points == [[timestamp, item]]
        if isinstance(alias, dict):
            assert sent_resource == alias
        else:
            assert sent_resource == (alias if rpc.is_hex40(alias) else {"alias": alias})

    check()
    campaign.record("reliability", fuzzed=counter.count)


def test_micropython_reaches_the_same_verdicts(tmp_path):
    corpus = []

    @settings(max_examples=1500, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(answers, st.integers(0, 100))
    def collect(answer, cut):
        body = _body(answer)
        corpus.append(body)
        corpus.append(body[:len(body) * cut // 100])

    collect()
    path = tmp_path / "answers.txt"
    # Every line ends in a newline: an empty last body is a line too.
    path.write_text("".join(base64.b64encode(body).decode() + "\n" for body in corpus))
    script = (
        "import binascii\nfrom uonep import rpc\nfrom uonep.errors import OnepError, CallError\n"
        "CALLS=[rpc.write('a',1),rpc.read('b'),rpc.recordbatch('c',[[1,1.5]])]\n"
        "for line in open(%r):\n"
        "  body=binascii.a2b_base64(line.strip())\n"
        "  try:\n"
        "    results=rpc.decode_response(200,body,CALLS,[1,2,3])\n"
        "    print('ok:'+','.join(type(r).__name__ if isinstance(r,CallError) else 'r' for r in results))\n"
        "  except OnepError as e:\n"
        "    print(type(e).__name__)\n" % str(path))
    done = run_micropython(["-c", script], heapsize="4m")
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = done.stdout.splitlines()
    ours = [_verdict(200, body) for body in corpus]
    assert len(theirs) == len(ours)
    differences = [(corpus[index], ours[index], theirs[index])
                   for index in range(len(ours)) if ours[index] != theirs[index]]
    assert not differences, differences[:5]
    campaign.record("reliability", fuzzed=len(corpus))
