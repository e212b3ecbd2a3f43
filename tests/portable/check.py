"""Assertion helpers that work the same under CPython and MicroPython."""


def raises(kind, function, *args, **kwargs):
    """Call function and return the exception of class `kind` it raised;
    fail if it raised nothing or something else."""
    try:
        function(*args, **kwargs)
    except kind as failure:
        return failure
    raise AssertionError("%s did not raise %s" % (getattr(function, "__name__", function), kind.__name__))
