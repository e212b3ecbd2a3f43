"""What the request core answers (Answer) and the small pieces every route
shares to make one: content types, compact JSON, form and CSV bodies, and
the reading of form-encoded request bodies and queries.

The plain-HTTP APIs of the One Platform (provisioning, the HTTP Data API)
speak form encoding and CSV; a route builds its Answer with text(),
form(), csv() or empty() and the status the Exosite documentation gives.
"""

import json
from urllib.parse import unquote_plus, urlencode

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


class Answer:
    """An HTTP answer, and what the door does with the connection: `drop`
    closes it without answering (the answer is lost), `stall` is how many
    seconds to wait first, `close` closes it after answering. A
    content_type of None sends no Content-Type (204, 205, 304)."""

    def __init__(self, status, body=b"", content_type=TEXT_TYPE):
        self.status = status
        self.headers = {} if content_type is None else {"Content-Type": content_type}
        self.body = body
        self.drop = False
        self.stall = 0
        self.close = False

    @classmethod
    def json(cls, status, item):
        return cls(status, dumps(item), JSON_TYPE)

    @classmethod
    def dropped(cls):
        answer = cls(0)
        answer.drop = True
        return answer


def dumps(item):
    """Compact JSON bytes, as the real service answers."""
    try:
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # a stored lone surrogate cannot be UTF-8: escape everything instead
        return json.dumps(item, separators=(",", ":")).encode("ascii")


def text(status, message):
    """A plain-text answer (a CIK, a RID, or why a request was refused)."""
    return Answer(status, message.encode("utf-8"), TEXT_TYPE)


def empty(status):
    """An answer without a body: 204 No Content, 205 Reset Content, 304."""
    return Answer(status, b"", None)


def csv(rows, status=200, when_empty=None):
    """A text/csv answer, one line per row (a row is a str or a sequence of
    fields joined by commas); `when_empty` is the status to answer instead
    when there are no rows (204 where the documentation says so)."""
    lines = [row if isinstance(row, str) else ",".join(str(field) for field in row)
             for row in rows]
    if not lines and when_empty is not None:
        return empty(when_empty)
    return Answer(status, "\n".join(lines).encode("utf-8"), CSV_TYPE)


def form(pairs, status=200, safe=""):
    """A form-encoded answer from [(name, value), ...] in order; characters
    in `safe` are written as they are."""
    return Answer(status, urlencode(pairs, safe=safe).encode("ascii"), FORM_TYPE)


def form_pairs(raw):
    """[(name, value), ...] in order from a form-encoded body or query
    (bytes or str); an entry without "=" has the value None, so that
    "?temp&count" names two aliases. Undecodable bytes are replaced."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    pairs = []
    for part in raw.split("&"):
        if part:
            name, equals, value = part.partition("=")
            pairs.append((unquote_plus(name), unquote_plus(value) if equals else None))
    return pairs


class Form:
    """A form (a body or a query) read as the provisioning API reads it:
    first(name) is the first value, every(name) all values of name and of
    name[] (so "sn=1" and "sn[]=1&sn[]=2" read alike)."""

    def __init__(self, pairs):
        self.pairs = pairs

    @classmethod
    def parse(cls, raw):
        return cls(form_pairs(raw))

    def first(self, name, default=None):
        for key, value in self.pairs:
            if key == name:
                return "" if value is None else value
        return default

    def every(self, name):
        return ["" if value is None else value
                for key, value in self.pairs if key in (name, name + "[]")]

    def flag(self, name):
        """True when name=true is given."""
        return self.first(name, "").lower() == "true"

    def __contains__(self, name):
        return any(key == name for key, _ in self.pairs)


def page(query, default_limit):
    """(offset, limit) of a listing: the documented paging, `limit` held
    between 5 and 1000; a value that is not a whole number is the default."""
    offset = _whole(query.first("offset"), 0)
    limit = _whole(query.first("limit"), default_limit)
    return max(0, offset), min(1000, max(5, limit))


def _whole(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
