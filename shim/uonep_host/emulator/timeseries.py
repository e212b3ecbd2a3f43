"""Dataport rules that do not need the database: value formats, retention
limits and read's sampling ("selection"). Pure functions."""

import decimal
import math
import re

FORMATS = ("float", "integer", "string")
INT_LIMIT = 1 << 63
INFINITY = "infinity"
# Numbers as text: optional sign, digits with an optional fraction, an
# optional exponent; ASCII digits only (Python's float() also takes "1_0",
# " 1 ", "nan" and other scripts' digits, which no client sends as a number).
NUMBER = re.compile(r"\A[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
WHOLE = re.compile(r"\A[+-]?[0-9]+\Z")
# longer text is not taken for a number (int() of huge digit strings is slow)
NUMBER_TEXT_LIMIT = 400


class Invalid(Exception):
    """A value does not fit a dataport's format; the message says why."""


def show(value):
    """A value as quoted in a message: text in single quotes (cut at 40
    characters), anything else as JSON would write it."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "a " + ("list" if isinstance(value, list) else "object")


def number(value):
    """An int or finite float from a number or a numeric string, or None.
    Booleans are not numbers."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is not str or len(value) > NUMBER_TEXT_LIMIT or not NUMBER.match(value):
        return None
    if WHOLE.match(value):
        return int(value)
    parsed = float(value)
    return parsed if math.isfinite(parsed) else None


def coerce(value, fmt):
    """The value as stored in a dataport of format `fmt`, or raise Invalid.

    - float: a number, or a string that is one ("0.987654321"); stored and
      read back as a float.
    - integer: a whole number in the signed 64-bit range, or a string that is
      one ("42"); a float only if it is integral (3.0 and "3.0" are stored
      as 3; 3.5 is refused).
    - string: str only (a number is refused: no silent conversion).
    Booleans, null and containers fit no format.
    """
    if fmt == "string":
        if type(value) is str:
            return value
        raise Invalid("%s is not a string" % show(value))
    parsed = number(value)
    if fmt == "float":
        if parsed is None:
            raise Invalid("%s is not a float" % show(value))
        return float(parsed)
    if fmt == "integer":
        if type(value) is str and type(parsed) is float:
            # "10000000000000001." is that integer: read the text exactly, not as a float
            parsed = _whole_text(value)
        elif type(parsed) is float and parsed == int(parsed):
            parsed = int(parsed)
        if type(parsed) is not int:
            raise Invalid("%s is not an integer" % show(value))
        if not -INT_LIMIT <= parsed < INT_LIMIT:
            raise Invalid("%s is outside the signed 64-bit range" % show(value))
        return parsed
    raise Invalid("this resource stores no values")


def _whole_text(text):
    """The int a numeric text stands for exactly, or None if it has a
    fraction or is far outside the 64-bit range (no huge ints are built)."""
    exact = decimal.Decimal(text)
    if exact.adjusted() > 20 or exact != exact.to_integral_value():
        return None if exact.adjusted() <= 20 else INT_LIMIT
    return int(exact)


def retention_limits(description, now):
    """(count or None, oldest timestamp kept or None) from a dataport description.
    `duration` is in hours, as in the One Platform API."""
    retention = description.get("retention") or {}
    count = retention.get("count", INFINITY)
    duration = retention.get("duration", INFINITY)
    keep_count = None if count == INFINITY else int(count)
    oldest = None if duration == INFINITY else now - int(duration * 3600)
    return keep_count, oldest


def valid_retention(retention):
    """True for {"count": n|"infinity", "duration": hours|"infinity"} (either key optional)."""
    if not isinstance(retention, dict) or set(retention) - {"count", "duration"}:
        return False
    for limit in retention.values():
        if limit != INFINITY and (type(limit) not in (int, float) or limit < 0
                                  or not math.isfinite(limit)):
            return False
    return True


def select(points, starttime, endtime, sort, limit, selection):
    """read's answer from the ascending points inside [starttime, endtime].

    - all: sort, then keep the first `limit`.
    - givenwindow: the window is cut into `limit` equal parts and the oldest
      point of each part is kept (empty parts give nothing).
    - autowindow: `limit` points spread evenly over the points in the window
      (by position, first and last included); all of them if there are fewer.
    """
    if limit <= 0 or not points:
        return []
    if selection == "givenwindow":
        chosen = _given_window(points, starttime, endtime, limit)
    elif selection == "autowindow":
        chosen = _auto_window(points, limit)
    else:
        chosen = points
    ordered = list(reversed(chosen)) if sort == "desc" else list(chosen)
    return ordered[:limit]


def _given_window(points, starttime, endtime, limit):
    span = endtime - starttime + 1
    oldest = {}
    for point in points:
        part = min(limit - 1, (point[0] - starttime) * limit // span)
        # ascending input: the first one seen in a part is its oldest
        oldest.setdefault(part, point)
    return [oldest[part] for part in sorted(oldest)]


def _auto_window(points, limit):
    count = len(points)
    if count <= limit:
        return points
    if limit == 1:
        return [points[-1]]
    indexes = sorted({round(step * (count - 1) / (limit - 1)) for step in range(limit)})
    return [points[index] for index in indexes]
