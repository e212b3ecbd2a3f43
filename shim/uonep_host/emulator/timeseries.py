"""Dataport rules that do not need the database: value formats, retention
limits and read's sampling ("selection"). Pure functions."""

import math

FORMATS = ("float", "integer", "string")
INT_LIMIT = 1 << 63
INFINITY = "infinity"


class Invalid(Exception):
    """A value does not fit a dataport's format."""


def coerce(value, fmt):
    """The value as stored in a dataport of format `fmt`, or raise Invalid.

    - float: int or finite float; ints are stored (and read back) as floats.
    - integer: int in the signed 64-bit range; a float only if it is integral
      (3.0 is stored as 3; 3.5 is refused).
    - string: str only (a number is refused: no silent conversion).
    Booleans, null and containers fit no format.
    """
    kind = type(value)
    if fmt == "float":
        if kind is int or kind is float:
            number = float(value)
            if math.isfinite(number):
                return number
        raise Invalid()
    if fmt == "integer":
        if kind is float and math.isfinite(value) and value == int(value):
            value, kind = int(value), int
        if kind is int and -INT_LIMIT <= value < INT_LIMIT:
            return value
        raise Invalid()
    if fmt == "string":
        if kind is str:
            return value
        raise Invalid()
    raise Invalid()


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
        if limit != INFINITY and (type(limit) not in (int, float) or limit < 0):
            return False
    return True


def select(points, starttime, endtime, sort, limit, selection):
    """read's answer from the ascending points inside [starttime, endtime].

    - all: sort, then keep the first `limit`.
    - givenwindow: the window is cut into `limit` equal parts and the most
      recent point of each part is kept (empty parts give nothing).
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
    newest = {}
    for point in points:
        part = min(limit - 1, (point[0] - starttime) * limit // span)
        newest[part] = point  # ascending input: the last one seen is the newest
    return [newest[part] for part in sorted(newest)]


def _auto_window(points, limit):
    count = len(points)
    if count <= limit:
        return points
    if limit == 1:
        return [points[-1]]
    indexes = sorted({round(step * (count - 1) / (limit - 1)) for step in range(limit)})
    return [points[index] for index in indexes]
