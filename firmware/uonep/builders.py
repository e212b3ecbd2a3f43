"""The interactive side of the RPC client, loaded on first use: a sampling
device pushes recordbatches it encodes itself (uonep.rpc) and never loads
this module.

- The builders of the data procedures (read, write, writegroup, record,
  recordbatch, wait): each returns (procedure, arguments) for Client.send;
  uonep.rpc.write and friends find them here.
- encode_request: the body of any list of calls.
- The Client methods beyond the push (send, batch, read, write ...,
  content_*, data_*, and the management procedures of uonep.admin) and
  Batch: Client.__getattr__ finds them here.
- The explanations of refused input (refusal, also of a bad server URL)
  and the auth forms other than a CIK alone.
- What uonep.rpc leaves to this module: the JSON of what a device never
  sends (dumps: tuples, objects of other than one key, true, false,
  null), and the reading of every answer but the common ones
  (decode_response: refusals, partial recordbatches, broken answers, and
  shallow, the depth count of a body with many brackets).
- uonep.http's CA certificates given as PEM text or DER bytes
  (certificates), and CPython's JSON string writer (host_text).
"""

import json

from .errors import (AuthError, CallError, HTTPError, OnepError, ProtocolError, RecordBatchError,
                     ValidationError)
from .rpc import (MAX_DEPTH, _request_error as request_error, auth as _auth, check_key,
                  dumps as _dumps, is_hex40, resource, value)

SORTS = ("asc", "desc")
SELECTIONS = ("all", "givenwindow", "autowindow")
# wait is a long poll the server caps at 5 minutes.
WAIT_MAX_MS = 300000


# -- refused input ------------------------------------------------------------

def _describe(item):
    """Say what a bad value is without printing it (it may be a secret)."""
    if isinstance(item, str):
        return "a string of length %d" % len(item)
    return type(item).__name__


def refusal(what, item, name=None):
    """The ValidationError for input uonep.rpc refused: what is "key" (name
    says which), "resource", "value", "timestamp", "json" or "json key";
    "server" for uonep.transport.parse_server."""
    if what == "key":
        if not isinstance(item, str):
            problem = "got %s" % _describe(item)
        elif len(item) != 40:
            problem = "got %d characters" % len(item)
        elif is_hex40(item.lower()):
            problem = "got uppercase letters"
        else:
            problem = "got characters other than 0-9 and a-f"
        text = "%s must be 40 lowercase hex characters (%s)" % (name, problem)
    elif what == "resource":
        if item == "":
            text = "an alias must be a non-empty string"
        elif isinstance(item, str):
            text = "a RID must be lowercase hex"
        else:
            text = "a resource is an alias string, a 40-hex RID or {'alias': name} (got %s)" \
                % _describe(item)
    elif what == "value" and type(item) is int:
        text = "integer value out of the signed 64-bit range"
    elif what in ("value", "json") and type(item) is float:
        text = "value %r is not a finite number" % item
    elif what == "value":
        text = "a value must be int, float or str (got %s)" % type(item).__name__
    elif what == "timestamp":
        text = "a timestamp must be an int of seconds (got %s)" % _describe(item)
    elif what == "server":
        # The text itself is not quoted: a mistyped secrets file may have
        # put a password there.
        text = "server must be a URL such as https://m2.exosite.com or http://127.0.0.1:8080: " \
            "http:// or https://, a host name, an optional :port from 1 to 65535, nothing more"
    elif what == "json key":
        text = "JSON object keys must be strings"
    else:
        text = "cannot send a %s in a request" % type(item).__name__
    return ValidationError(text)


def timestamp(item):
    """A Unix timestamp in whole seconds (negative: seconds before now):
    uonep.rpc.timestamp (a device dates its commits itself)."""
    if type(item) is float and item - item == 0.0:
        item = int(item)
    if type(item) is not int or not -1 << 63 <= item < 1 << 63:
        raise refusal("timestamp", item)
    return item


def check_alias(name):
    if not isinstance(name, str) or not name:
        raise ValidationError("an alias must be a non-empty string (got %s)" % _describe(name))
    return name


def auth(cik=None, client_id=None, resource_id=None, token=None):
    """uonep.rpc.auth's forms beyond a CIK alone."""
    if token is not None:
        if cik is not None or client_id is not None or resource_id is not None:
            raise ValidationError("a token is used alone, without CIK or ids")
        if not isinstance(token, str) or not token:
            raise ValidationError("a token must be a non-empty string")
        return {"token": token}
    if client_id is not None and resource_id is not None:
        raise ValidationError("give client_id or resource_id, not both")
    credentials = _auth(cik)
    if client_id is not None:
        credentials["client_id"] = check_key(client_id, "client_id")
    if resource_id is not None:
        credentials["resource_id"] = check_key(resource_id, "resource_id")
    return credentials


def host_text(text):
    """A JSON string as MicroPython writes it (UTF-8 as is, \\b and \\f as
    \\u0008 and \\u000c): uonep.rpc's writer on CPython, which writes
    those two as \\b and \\f and has ensure_ascii."""
    chunks = []
    start = 0
    for position, character in enumerate(text):
        if character == "\b" or character == "\f":
            chunks.append(json.dumps(text[start:position], ensure_ascii=False)[1:-1])  # type: ignore[call-overload]
            chunks.append("\\u0008" if character == "\b" else "\\u000c")
            start = position + 1
    if not chunks:
        return json.dumps(text, ensure_ascii=False)  # type: ignore[call-overload]
    chunks.append(json.dumps(text[start:], ensure_ascii=False)[1:-1])  # type: ignore[call-overload]
    return '"' + "".join(chunks) + '"'


# -- the server as host and port, another HTTP library's failures --------------

# Failure messages are cut to about this many characters, by whole words.
REASON_LENGTH = 200


def server_url(host, port=None, https=True):
    """The server URL of a host name, a port (int or string) and a scheme;
    a URL given as the host is refused (give it as server= instead)."""
    if not isinstance(host, str) or "://" in host or "/" in host or not host:
        raise ValidationError("host is a name such as m2.exosite.com; give a URL as "
                              "server=\"https://host:port\"")
    return "%s://%s%s" % ("https" if https else "http", host,
                          "" if port is None else ":%d" % int(port))


def reason(failure, limit=REASON_LENGTH):
    """A short cause for a failure: its type and message, cut by whole words
    to about `limit` characters keeping the start and the end (where
    requests puts the cause), with any 40-hex word (a CIK) hidden."""
    words = []
    for word in ("%s %s" % (type(failure).__name__, failure)).split():
        words.append("<hidden>" if _has_key(word) else word)
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    head = []
    tail = []
    size = 5
    while True:
        # The end holds the cause: it keeps twice the words of the start.
        ending = len(tail) <= 2 * len(head)
        word = words.pop() if ending else words.pop(0)
        size += len(word) + 1
        if size > limit:
            break
        (tail if ending else head).append(word)
    if not tail:
        # One word longer than the limit: its end.
        tail.append(word[-limit:])
    return " ".join(head) + " ... " + " ".join(reversed(tail))


def _has_key(word):
    """Whether word holds 40 hex characters in a row."""
    run = 0
    for character in word:
        run = run + 1 if character in "0123456789abcdefABCDEF" else 0
        if run >= 40:
            return True
    return False


def certificates(context, source):
    """uonep.http's CA certificates beyond a DER file: PEM text's blocks,
    else one DER certificate (bytes)."""
    blocks = bytes(source).split(b"-----BEGIN CERTIFICATE-----")
    if len(blocks) < 2:
        context.load_verify_locations(cadata=bytes(source))
    import binascii
    for block in blocks[1:]:
        context.load_verify_locations(cadata=binascii.a2b_base64(block.split(b"-----END")[0]))


# -- requests of any calls ----------------------------------------------------

def encode_request(credentials, calls, ids):
    """The request body (bytes). calls: [(procedure, arguments), ...];
    ids: one per call, an int or a string of at most 40 characters, or None
    for a call whose answer is not wanted. Ids must be unique."""
    if not calls or len(calls) != len(ids):
        raise ValidationError("a request needs one id (or None) per call")
    seen = set()
    out = ['{"auth":%s,"calls":[' % _dumps(credentials)]
    for index, (procedure, arguments) in enumerate(calls):
        call_id = ids[index]
        if call_id is not None:
            if not (type(call_id) is int or type(call_id) is str and 0 < len(call_id) <= 40):
                raise ValidationError("a call id is an int or a string of 1 to 40 characters")
            if call_id in seen:
                raise ValidationError("call id %r is used twice" % (call_id,))
            seen.add(call_id)
        out.append('%s{"arguments":%s%s,"procedure":%s}' % (
            "," if index else "", _dumps(arguments),
            "" if call_id is None else ',"id":' + _dumps(call_id), _dumps(procedure)))
    out.append("]}")
    return "".join(out).encode("utf-8")


def dumps(item):
    """uonep.rpc.dumps for what a device never writes: arrays, objects of
    other than one key, true, false, null; a ValidationError for what JSON
    cannot hold."""
    kind = type(item)
    if kind is tuple or kind is list:
        return "[%s]" % ",".join([_dumps(element) for element in item])
    if kind is dict:
        pieces = []
        for key in sorted(item):
            if type(key) is not str:
                raise refusal("json key", key)
            pieces.append("%s:%s" % (_dumps(key), _dumps(item[key])))
        return "{%s}" % ",".join(pieces)
    if kind is bool or item is None:
        return json.dumps(item)
    raise refusal("json", item)


def shallow(body):
    """Whether the JSON text nests at most MAX_DEPTH arrays and objects:
    deeper nesting would exhaust the parser's stack or heap. Brackets in
    strings do not count; the byte loop runs only for bodies with many."""
    if type(body) is str:
        body = body.encode()
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return True
    depth = 0
    quoted = escaped = False
    for byte in body:
        if escaped:
            escaped = False
        elif quoted:
            escaped = byte == 92        # backslash
            quoted = byte != 34         # closing quote
        elif byte == 34:
            quoted = True
        elif byte == 91 or byte == 123:     # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif byte == 93 or byte == 125:     # ] }
            depth -= 1
    return True


# -- answers beyond the common case ------------------------------------------

def decode_response(status, body, calls, ids):
    """uonep.rpc.decode_response for every answer its quick path does not
    take: an error, a refusal, a partial recordbatch, a broken answer."""
    if status != 200:
        raise _status_error(status, body)
    answer = _load(body)
    if type(answer) is dict:
        raise _request_error(answer)
    wanted = {}
    for index, call_id in enumerate(ids):
        if call_id is not None:
            wanted[call_id] = index
    results = [None] * len(calls)
    if answer is None and wanted or answer is not None and type(answer) is not list:
        raise ProtocolError("the answer is %s, not a list of %d call(s)"
                            % (type(answer).__name__, len(wanted)))
    for entry in answer or ():
        if type(entry) is not dict or "status" not in entry:
            raise ProtocolError("an answer entry is not {id, status, ...}")
        call_id = entry.get("id")
        # True == 1 and 1.0 == 1 in Python; only an id of the very same type
        # matches, and each once.
        index = wanted.pop(call_id, None) if type(call_id) in (int, str) else None
        if index is None:
            raise ProtocolError("an answer entry has no, an unknown or a repeated id")
        results[index] = _outcome(entry, calls[index][0], call_id)
    if wanted:
        raise ProtocolError("the answer lacks call id(s) %s" % ", ".join(
            repr(call_id) for call_id in wanted))
    return results


def _load(body):
    if body is None:
        return None
    if type(body) not in (bytes, bytearray, str):
        raise ProtocolError("the answer body is a %s" % type(body).__name__)
    if not body.strip():
        return None
    if not shallow(body):
        raise ProtocolError("the answer nests deeper than %d levels" % MAX_DEPTH)
    try:
        return json.loads(body)
    except Exception as failure:  # ValueError, UnicodeError, RecursionError, ...
        raise ProtocolError("the answer is not JSON (%d bytes, %s)"
                            % (len(body), type(failure).__name__))


def _status_error(status, body):
    """A non-200 answer: its JSON error object if it has one (some gateways
    send {"error": ...} with a 4xx/5xx), else an error for the status."""
    try:
        answer = _load(body)
    except ProtocolError:
        answer = None
    if type(answer) is dict and type(answer.get("error")) is dict:
        return _request_error(answer)
    if status in (401, 403):
        return AuthError(401, "HTTP %d" % status, "auth")
    return HTTPError(status)


def _request_error(answer):
    error = answer.get("error")
    if type(error) is not dict:
        raise ProtocolError("a JSON object answer without an error object")
    return request_error(error)


def _outcome(entry, procedure, call_id):
    status = entry["status"]
    if status == "ok":
        return entry.get("result")
    if type(status) is list:
        for point in status:
            if type(point) is not list or len(point) != 2:
                raise ProtocolError("a partial status is not [[timestamp, reason], ...]")
        return RecordBatchError(procedure, call_id, status)
    if type(status) is not str:
        raise ProtocolError("a call status is neither a string nor a list")
    error = entry.get("error")
    return CallError(procedure, call_id, status, error if type(error) is dict else None)


# -- the data procedures ------------------------------------------------------

def entries(points):
    """[[timestamp, value], ...] for record and recordbatch."""
    if not isinstance(points, (list, tuple)) or not points:
        raise ValidationError("entries must be a non-empty list of [timestamp, value]")
    checked = []
    for point in points:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise ValidationError("each entry must be [timestamp, value]")
        checked.append([timestamp(point[0]), value(point[1])])
    return checked


def _choice(item, allowed, what):
    if item not in allowed:
        raise ValidationError("%s must be one of %s (got %r)" % (what, ", ".join(allowed), item))
    return item


def _options(options):
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValidationError("options must be a dict (got %s)" % _describe(options))
    return options


def _count(item, what, minimum=1):
    if type(item) is not int or item < minimum:
        raise ValidationError("%s must be an int >= %d (got %r)" % (what, minimum, item))
    return item


def read(spec, starttime=None, endtime=None, sort=None, limit=None, selection=None):
    options = {}
    if starttime is not None:
        options["starttime"] = timestamp(starttime)
    if endtime is not None:
        options["endtime"] = timestamp(endtime)
    if sort is not None:
        options["sort"] = _choice(sort, SORTS, "sort")
    if limit is not None:
        options["limit"] = _count(limit, "limit")
    if selection is not None:
        options["selection"] = _choice(selection, SELECTIONS, "selection")
    return ("read", [resource(spec), options])


def write(spec, item, options=None):
    arguments = [resource(spec), value(item)]
    if options is not None:
        arguments.append(_options(options))
    return ("write", arguments)


def writegroup(pairs):
    """pairs: {resource: value} or [[resource, value], ...]; one shared timestamp."""
    if isinstance(pairs, dict):
        pairs = list(pairs.items())
    if not isinstance(pairs, (list, tuple)) or not pairs:
        raise ValidationError("writegroup needs a non-empty dict or list of [resource, value]")
    group = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValidationError("each writegroup entry must be [resource, value]")
        group.append([resource(pair[0]), value(pair[1])])
    return ("writegroup", [group])


def record(spec, points, options=None):
    return ("record", [resource(spec), entries(points), _options(options)])


def recordbatch(spec, points):
    return ("recordbatch", [resource(spec), entries(points)])


def wait(spec, timeout=None, since=None):
    options = {}
    if timeout is not None:
        if _count(timeout, "timeout") > WAIT_MAX_MS:
            raise ValidationError("wait timeout is at most %d ms" % WAIT_MAX_MS)
        options["timeout"] = timeout
    if since is not None:
        options["since"] = timestamp(since)
    return ("wait", [resource(spec), options])


# -- the Client's methods beyond the push -------------------------------------

class Procedures:
    """The procedure methods, shared by Client (sends at once, through
    Client.__getattr__) and Batch (queues). Each builds its call with the
    builders above, which check the input."""

    def _call(self, call, timeout=None):
        raise NotImplementedError

    def read(self, resource, starttime=None, endtime=None, sort="desc", limit=1, selection="all"):
        """[[timestamp, value], ...], newest first by default."""
        return self._call(read(resource, starttime, endtime, sort, limit, selection))

    def write(self, resource, value):
        """Store value at the server's current time."""
        return self._call(write(resource, value))

    def writegroup(self, values):
        """{resource: value} (or [[resource, value], ...]), one shared timestamp."""
        return self._call(writegroup(values))

    def record(self, resource, entries):
        """Deprecated by the platform; use recordbatch."""
        return self._call(record(resource, entries))

    def recordbatch(self, resource, entries):
        """Store [[timestamp, value], ...]; a negative timestamp is seconds before now."""
        return self._call(recordbatch(resource, entries))

    def wait(self, resource, timeout=30000, since=None):
        """Block until a point newer than `since` arrives: [timestamp, value].
        Raises CallError with status "expire" after `timeout` ms."""
        return self._call(wait(resource, timeout, since), timeout=timeout / 1000)

    def __getattr__(self, name):
        # create, create_dataport, update, info, listing, drop, flush, move,
        # usage, map, unmap, lookup, share, revoke, activate, deactivate,
        # grant, tag: built by uonep.admin, imported on the first of them.
        if name[0] != "_":
            from . import admin
            if name in admin.PROCEDURES:
                build = admin.PROCEDURES[name]
                return lambda *args, **options: self._call(build(*args, **options))
        raise AttributeError(name)


class Calls(Procedures):
    """A Client's methods beyond the push, bound to it: what
    Client.__getattr__ returns them from."""

    def __init__(self, client):
        self.client = client

    def send(self, calls, timeout=None):
        """Send [(procedure, arguments), ...] as one request: one result (or
        CallError instance) per call, in order."""
        client = self.client
        ids = list(range(1, len(calls) + 1))
        return client._exchange(encode_request(client._auth, calls, ids), calls, ids, timeout)

    def batch(self):
        """Queue calls, send them in one HTTP request (on `with` exit or send())."""
        return Batch(self.client)

    def _call(self, call, timeout=None):
        outcome = self.send([call], timeout)[0]
        if isinstance(outcome, CallError):
            raise outcome
        return outcome

    def __getattr__(self, name):
        # content_list/_info/_download and data_write/_read/_wait are in
        # uonep.content and uonep.dataapi, imported on the first call.
        if name.startswith("content_"):
            from . import content
            function = getattr(content, name)
        elif name.startswith("data_"):
            from . import dataapi
            function = getattr(dataapi, name)
        else:
            return Procedures.__getattr__(self, name)
        return lambda *args, **options: function(self.client, *args, **options)


def method(client, name):
    """Client.__getattr__: the method `name` bound to client."""
    return getattr(Calls(client), name)


class Batch(Procedures):
    """Calls queued for one request. Each method returns the call's index in
    `results`. Leaving a `with` block sends them and raises the first
    CallError (all results stay in .results); send() returns the results with
    CallError instances in place of failed calls, and raises nothing for them."""

    def __init__(self, client):
        self.client = client
        self.calls = []
        self.results = None
        self.timeout = None

    def _call(self, call, timeout=None):
        if self.results is not None:
            raise ValidationError("this batch was already sent")
        self.calls.append(call)
        if timeout is not None:
            # One long poll in the batch makes the whole request a long poll.
            self.timeout = max(self.timeout or 0, timeout)
        return len(self.calls) - 1

    def send(self):
        if self.results is None:
            if not self.calls:
                raise ValidationError("an empty batch")
            self.results = self.client.send(self.calls, self.timeout)
        return self.results

    def __enter__(self):
        return self

    def __exit__(self, kind, failure, trace):
        if kind is not None:
            return False
        for outcome in self.send():
            if isinstance(outcome, OnepError):
                raise outcome
        return False


def __getattr__(name):
    # The management procedures (create, info, listing, share ...) are in
    # uonep.admin; uonep.rpc reaches them through here. Never for a private
    # name (CPython asks for __path__ and friends).
    if name[:1] == "_":
        raise AttributeError(name)
    from . import admin
    try:
        return getattr(admin, name)
    except AttributeError:
        raise AttributeError(name)
