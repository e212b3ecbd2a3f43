"""The client of the emulator's control API (/_emulator/..., loopback only):
one class for every caller, written in the Python that CPython and
MicroPython share (json and a requests-shaped `http`, nothing else), so
CPython tests and tools, the faults command line and MicroPython tests all
use it.

    from uonep_host.emulator.control import Control
    control = Control("http://127.0.0.1:8080")     # over HTTP (requests)
    control = Control(http=emulator.session())     # in process, no socket
    control.arm("http_status", status=503, count=2)
    control.set_clock(advance=3600)
    control.points("1" * 40, "temp")               # [[ts, value], ...]

Fault kinds and options: see uonep_host.emulator.injection. A refusal
(HTTP 400, 403, 404) raises ControlError; an unreachable emulator raises
whatever `http` raises (requests.ConnectionError, an OSError).
"""

import json

FAULTS = "/_emulator/faults"
CLOCK = "/_emulator/clock"
STATS = "/_emulator/stats"
POINTS = "/_emulator/points"


class ControlError(Exception):
    """The emulator refused an order: `status` (HTTP) and `answer` (its
    decoded answer, usually {"error": "..."})."""

    def __init__(self, status, answer):
        reason = answer.get("error") if isinstance(answer, dict) else answer
        super().__init__("the emulator refused: HTTP %d %s" % (status, reason))
        self.status = status
        self.answer = answer


class Control:
    """The control API of the emulator at `url`, through `http` (anything
    with requests' call shape; the requests module when not given)."""

    def __init__(self, url="", http=None, timeout=10):
        self.url = url.rstrip("/")
        self.http = http
        self.timeout = timeout

    def arm(self, kind, **options):
        """Arm a fault (kind "clear" disarms every one); options given as
        None are left out. Returns {"armed": [...], "fired": [...]}."""
        order = {"kind": kind}
        for key, value in options.items():
            if value is not None:
                order[key] = value
        return self._send("POST", FAULTS, order)

    def clear(self):
        """Disarm every fault."""
        return self.arm("clear")

    def faults(self):
        """{"armed": [fault, ...], "fired": [kind, ...]}."""
        return self._send("GET", FAULTS)

    def clock(self):
        """{"now": server time, "offset": seconds from the base clock}."""
        return self._send("GET", CLOCK)

    def set_clock(self, now=None, offset=None, advance=None):
        """Move the server clock to `now`, to base + `offset`, or forward by
        `advance` seconds; returns {"now", "offset"}."""
        order = {}
        for key, value in (("now", now), ("offset", offset), ("advance", advance)):
            if value is not None:
                order[key] = value
        return self._send("POST", CLOCK, order)

    def points(self, cik, alias):
        """[[ts, value], ...] ascending, as stored (independent of the clock)."""
        return self._send("POST", POINTS, {"cik": cik, "alias": alias})["points"]

    def stats(self):
        """{"rpc_requests": how many JSON-RPC requests arrived}."""
        return self._send("GET", STATS)

    def _send(self, method, path, order=None):
        http = self.http
        if http is None:
            import requests
            http = self.http = requests
        if order is None:
            body, headers = None, {}
        else:
            body, headers = json.dumps(order), {"Content-Type": "application/json"}
        response = http.request(method, self.url + path, data=body, headers=headers,
                                timeout=self.timeout)
        try:
            status, content = response.status_code, response.content
        finally:
            response.close()
        try:
            answer = json.loads(content) if content else None
        except ValueError:
            answer = content  # not JSON (a 403 is plain text): the bytes as they came
        if status != 200:
            raise ControlError(status, answer)
        return answer
