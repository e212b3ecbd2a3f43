"""A dataport's "preprocess": steps applied in order to each point as it is
written, before the value is stored in the dataport's format. Pure functions;
where an operand names another resource, the caller supplies its latest value.

A step is [operator, operand]. The operand is a number, or a resource:
its RID, {"alias": name} or a bare alias string, meaning that resource's
latest value (it must be a number then).

    add sub mul div mod      arithmetic; mod's remainder has the sign of the
                             value (as in C and Erlang), div of two integers
                             that do not divide evenly gives a float
    gt lt eq geq leq neq     comparison of the value with the operand: 1 or 0
    value                    the operand replaces the value
"""

import math

from .timeseries import Invalid, number, show

OPERATORS = ("add", "sub", "mul", "div", "mod", "gt", "lt", "eq", "geq", "leq", "neq",
             "value")


def problem(steps):
    """Why `steps` is not a preprocess list (a message), or None when it is."""
    if not isinstance(steps, list):
        return "preprocess is a list of [operator, operand] steps"
    for step in steps:
        if not isinstance(step, list) or len(step) != 2:
            return "a preprocess step is [operator, operand], not %s" % show(step)
        operator, operand = step
        if operator not in OPERATORS:
            return "%s is not a preprocess operator (%s)" % (show(operator), ", ".join(OPERATORS))
        if not is_constant(operand) and reference(operand) is None:
            return "a preprocess operand is a number, a RID or an alias, not %s" % show(operand)
    return None


def is_constant(operand):
    return type(operand) in (int, float) and math.isfinite(operand)


def reference(operand):
    """The <ResourceID> an operand names ({"alias": name} or a RID string),
    or None for a constant or a malformed operand."""
    if isinstance(operand, str) and operand:
        return operand if _is_rid(operand) else {"alias": operand}
    if isinstance(operand, dict) and set(operand) == {"alias"} \
            and isinstance(operand["alias"], str):
        return operand
    return None


def _is_rid(text):
    return len(text) == 40 and all(character in "0123456789abcdef" for character in text)


def apply(steps, value, latest):
    """The value after every step; `latest(reference)` gives the latest value
    of an operand resource (or raises Invalid). Numeric strings count as
    numbers. Raises Invalid with the reason."""
    for operator, operand in steps:
        other = operand if is_constant(operand) else latest(reference(operand))
        if operator == "value":
            value = other
            continue
        left, right = number(value), number(other)
        if left is None:
            raise Invalid("preprocess %r needs a number, not %s" % (operator, show(value)))
        if right is None:
            raise Invalid("preprocess %r operand is not a number: %s" % (operator, show(other)))
        try:
            value = _OPERATIONS[operator](left, right)
        except OverflowError:
            raise Invalid("preprocess result is too large")
    return value


def _divide(left, right):
    if right == 0:
        raise Invalid("preprocess divides by zero")
    if type(left) is int and type(right) is int and left % right == 0:
        return left // right
    return left / right


def _remainder(left, right):
    if right == 0:
        raise Invalid("preprocess divides by zero (mod)")
    if type(left) is int and type(right) is int:
        magnitude = abs(left) % abs(right)
        return -magnitude if left < 0 else magnitude
    return math.fmod(left, right)


def _finite(result):
    if type(result) is float and not math.isfinite(result):
        raise Invalid("preprocess result is not a finite number")
    return result


_OPERATIONS = {
    "add": lambda left, right: _finite(left + right),
    "sub": lambda left, right: _finite(left - right),
    "mul": lambda left, right: _finite(left * right),
    "div": lambda left, right: _finite(_divide(left, right)),
    "mod": _remainder,
    "gt": lambda left, right: int(left > right),
    "lt": lambda left, right: int(left < right),
    "eq": lambda left, right: int(left == right),
    "geq": lambda left, right: int(left >= right),
    "leq": lambda left, right: int(left <= right),
    "neq": lambda left, right: int(left != right),
}
