"""Client of the emulator's loopback control API, as a CLI and as functions.

    python -m uonep_host.emulator.faults --url URL KIND [--count N] [--every K]
        [--status 503] [--seconds S] [--then answer|close] [--procedure NAME]
        [--call-status STATUS] [--path /timestamp]
    python -m uonep_host.emulator.faults --url URL clear
    python -m uonep_host.emulator.faults --url URL list
    python -m uonep_host.emulator.faults --url URL clock [--now TS | --offset S | --advance S]

KIND is one of drop_before_body, drop_after_body, stall, http_status,
truncate, auth, call_status (see uonep_host.emulator.injection). The JSON
answer is printed; the exit status is 0 when the emulator accepted the order.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request

from .injection import KINDS


def post(url, path, payload):
    """POST JSON to the control API; returns (HTTP status, decoded answer)."""
    request = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    return _exchange(request)


def get(url, path):
    return _exchange(urllib.request.Request(url.rstrip("/") + path))


def _exchange(request):
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def arm(url, kind, **options):
    """Arm a fault on the emulator at `url` (kind "clear" disarms all); the answer."""
    options = {key: value for key, value in options.items() if value is not None}
    return post(url, "/_emulator/faults", dict(options, kind=kind))


def set_clock(url, now=None, offset=None, advance=None):
    """Move the server clock; returns (status, {"now", "offset"})."""
    spec = {key: value for key, value in (("now", now), ("offset", offset), ("advance", advance))
            if value is not None}
    return post(url, "/_emulator/clock", spec)


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


def main(argv=None):
    options = arguments(argv)
    if options.kind == "list":
        status, answer = get(options.url, "/_emulator/faults")
    elif options.kind == "clock":
        status, answer = set_clock(options.url, options.now, options.offset, options.advance)
    else:
        status, answer = arm(options.url, options.kind, count=options.count,
                             every=options.every, status=options.status, seconds=options.seconds,
                             then=options.then, procedure=options.procedure,
                             call_status=options.call_status, path=options.path)
    print(json.dumps(answer))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
