"""The control API from the command line (through control.Control).

    python -m uonep_host.emulator.faults --url URL KIND [--count N] [--every K]
        [--status 503] [--seconds S] [--then answer|close] [--procedure NAME]
        [--call-status STATUS] [--path /timestamp]
    python -m uonep_host.emulator.faults --url URL clear
    python -m uonep_host.emulator.faults --url URL list
    python -m uonep_host.emulator.faults --url URL clock [--now TS | --offset S | --advance S]

KIND is one of drop_before_body, drop_after_body, stall, http_status,
truncate, auth, call_status (see uonep_host.emulator.injection). The JSON
answer is printed; the exit status is 0 when the emulator accepted the
order, 1 when it refused (its answer is printed) or could not be reached
(one line on stderr), 2 for bad arguments.
"""

import argparse
import json
import re
import sys

from .control import Control, ControlError
from .injection import KINDS


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m uonep_host.emulator.faults",
                                     description="Arm faults or move the clock of a running "
                                                 "uonep emulator.")
    parser.add_argument("--url", required=True, help="the emulator, http://127.0.0.1:PORT")
    parser.add_argument("kind", choices=KINDS + ("clear", "list", "clock"))
    parser.add_argument("--count", type=int)
    parser.add_argument("--every", type=int)
    parser.add_argument("--status", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--then", choices=("answer", "close"))
    parser.add_argument("--procedure")
    parser.add_argument("--call-status", dest="call_status")
    parser.add_argument("--path")
    parser.add_argument("--now", type=int)
    parser.add_argument("--offset", type=int)
    parser.add_argument("--advance", type=int)
    return parser.parse_args(argv)


def order(control, options):
    """Send what the command line asks for; the emulator's answer."""
    if options.kind == "list":
        return control.faults()
    if options.kind == "clock":
        return control.set_clock(options.now, options.offset, options.advance)
    return control.arm(options.kind, count=options.count, every=options.every,
                       status=options.status, seconds=options.seconds, then=options.then,
                       procedure=options.procedure, call_status=options.call_status,
                       path=options.path)


def main(argv=None):
    options = arguments(argv)
    try:
        answer = order(Control(options.url), options)
    except ControlError as refused:
        print(json.dumps(refused.answer))
        return 1
    except OSError as failure:
        print("uonep emulator faults: cannot reach the emulator at %s: %s"
              % (options.url, cause(failure)), file=sys.stderr)
        return 1
    print(json.dumps(answer))
    return 0


def cause(failure):
    """The short reason inside requests' long error text ("Connection refused")."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(failure))
    return found.group(1).strip() if found else type(failure).__name__


if __name__ == "__main__":
    sys.exit(main())
