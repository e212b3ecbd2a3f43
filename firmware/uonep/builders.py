"""The builders of the data procedures (read, write, writegroup, record,
recordbatch, wait): each returns (procedure, arguments) for Client.send.
Loaded on first use (uonep.rpc.write and friends find them here): a
sampling device pushes recordbatches it encodes itself and never loads it."""

from .errors import ValidationError
from .rpc import WAIT_MAX_MS, _describe, resource, timestamp, value

SORTS = ("asc", "desc")
SELECTIONS = ("all", "givenwindow", "autowindow")


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
