# Runs one test module inside MicroPython and reports each test on a line of
# its own, for tests/conftest.py to turn into pytest results.
#   micropython -X heapsize=N tests/mp/runner.py MODULE_PATH
import io
import json
import sys


def _load(path):
    folder, _, name = path.rpartition("/")
    sys.path.insert(0, folder or ".")
    return __import__(name[:-3] if name.endswith(".py") else name)


def main():
    module = _load(sys.argv[1])
    names = sorted(name for name in dir(module) if name.startswith("test_"))
    for name in names:
        function = getattr(module, name)
        if not callable(function):
            continue
        try:
            function()
        except Exception as failure:
            trace = io.StringIO()
            sys.print_exception(failure, trace)
            print("@@MPTEST " + json.dumps([name, "FAIL", trace.getvalue()]))
        else:
            print("@@MPTEST " + json.dumps([name, "PASS", ""]))


main()
