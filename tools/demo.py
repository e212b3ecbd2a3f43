"""`make demo`: the device firmware under real MicroPython, end to end.

1. starts the One Platform emulator (SQLite in .state/demo/) serving HTTPS
   with a certificate made at start, seeded with a device that may
   activate, and sets its clock an hour back;
2. runs firmware/main.py in the MicroPython unix port on the unix board
   profile: LittleFS in a file, a simulated clock fast-forwarded through an
   hour (a sample a minute, a push every 10), a 15-minute WiFi outage and two
   server faults in the middle; the device activates itself on first boot
   and checks the server's certificate against the emulator's CA, pinned
   in its secrets as a board would pin its own server's;
3. reads every point back from the emulator with uonep_host, prints them as
   a table (one row per point) and checks that every committed sample
   arrived, once.

Exits 0 when everything arrived; leaves no process behind.
usage: python tools/demo.py [--serve]   (--serve: keep the emulator up for browsing)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".state" / "demo"
MICROPYTHON = Path(sys.executable).parent / "micropython"
sys.path[:0] = [str(ROOT / "shim"), str(ROOT / "firmware")]

SERIAL = "a4cf12b3c4d5"                 # the unix board's simulated chip id
DEVICE_CIK = "d" * 8 + "0e5e" * 8       # what activation hands out (40 hex)
HOUR = 3600
OUTAGE = [1500, 900]                    # WiFi down 25:00-40:00 after power-on
FAULTS = [[2710, {"kind": "drop_after_body", "count": 1}],   # an acknowledgement lost
          [3010, {"kind": "http_status", "status": 503, "count": 1}]]
DEVICE_TIMEOUT = 120
ALIASES = ("temp", "count", "status")


def seed():
    """One activatable device with the default dataports."""
    return {"devices": [{
        "vendor": "uonep", "model": "unix-sim", "sn": SERIAL, "cik": DEVICE_CIK,
        "enabled": True, "name": "demo device",
        "dataports": [{"alias": "temp", "format": "float", "name": "Temperature"},
                      {"alias": "count", "format": "integer", "name": "Sample counter"},
                      {"alias": "status", "format": "string", "name": "Status"}]}]}


def fresh_state():
    """Start from nothing: no flash image, no stored CIK, no database."""
    if STATE.exists():
        shutil.rmtree(STATE)
    STATE.mkdir(parents=True)


def write_secrets(url, ca_path):
    """Demo secrets, in the ignored state folder (never a tracked file)."""
    path = STATE / "secrets.json"
    path.write_text(json.dumps({"wifi": {"ssid": "demo-wifi", "password": "demo-password"},
                                "server": url, "verify": ca_path}))
    return path


def device_command(url, secrets, world_start):
    settings = {"storage.image": str(STATE / "flash.img"),
                "simulation.control": url,
                "simulation.world_start": world_start,
                "simulation.outages": [OUTAGE],
                "simulation.faults": FAULTS,
                "run_for": HOUR}
    command = [str(MICROPYTHON), "-X", "heapsize=256k", str(ROOT / "firmware" / "main.py"),
               "--board", str(ROOT / "boards" / "unix"), "--secrets", str(secrets)]
    for key, value in settings.items():
        command += ["--set", "%s=%s" % (key, json.dumps(value))]
    return command


def run_device(command):
    """Run the firmware, echo its log, return its output; kill it on a hang."""
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, bufsize=1)
    timer = threading.Timer(DEVICE_TIMEOUT, child.kill)
    timer.start()
    lines = []
    try:
        for line in child.stdout:
            lines.append(line.rstrip("\n"))
            print("  device | " + _shorten(lines[-1]), flush=True)
        child.wait()
    finally:
        timer.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode != 0:
        raise SystemExit("the device exited with status %d" % child.returncode)
    return lines


def _shorten(line):
    # The end-of-run status line is long; the table below says the same.
    return line if len(line) <= 160 else line[:157] + "..."


def read_back(emulator, cik):
    """{alias: [[ts, value], ...]} from the emulator, through the host client
    over HTTP, as any program would read them."""
    from uonep_host import Client
    client = Client(cik, emulator.url, verify=emulator.ca_path)
    return {alias: client.read(alias, starttime=0, limit=10000, sort="asc")
            for alias in ALIASES}


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def print_table(points):
    """One row per point read back: its time, dataport and value, in time
    order (the points of one sample share its timestamp). Returns the count."""
    rows = sorted((stamp, ALIASES.index(alias), alias, value)
                  for alias in ALIASES for stamp, value in points[alias])
    print("\n%-22s %-8s %s" % ("time (UTC)", "dataport", "value"))
    for stamp, _, alias, value in rows:
        print("%-22s %-8s %s" % (iso(stamp), alias, value))
    return len(rows)


def committed(lines):
    """How many samples the device says it committed (its last status line)."""
    for line in reversed(lines):
        found = re.search(r"\bcommitted=(\d+)", line)
        if found:
            return int(found.group(1))
    raise SystemExit("the device did not report its committed samples")


def check(points, count):
    """Every committed sample arrived, once, with all three values."""
    counts = sorted(value for _, value in points["count"])
    expected = list(range(1, count + 1))
    if counts != expected:
        missing = sorted(set(expected) - set(counts))
        raise SystemExit("check FAILED: %d committed, %d arrived, missing %s" % (
            count, len(counts), missing[:20]))
    if len(points["temp"]) != count:
        raise SystemExit("check FAILED: %d temperatures for %d samples" % (
            len(points["temp"]), count))
    print("\ncheck: %d samples committed, %d arrived, none missing, none twice" % (
        count, len(counts)))


def main(argv):
    from uonep_host.emulator import Control, Emulator
    started = time.time()
    fresh_state()
    from uonep_host.transport import session
    emulator = Emulator(db=str(STATE / "emulator.sqlite"), seed=seed(), tls=True).start()
    # The CA at a stable path in the state folder: the device's secrets pin it,
    # and a browser can import it to look at the page (--serve).
    ca_path = STATE / "emulator-ca.pem"
    ca_path.write_bytes(emulator.ca_pem)
    try:
        world_start = int(time.time()) // 60 * 60 - HOUR
        # through the control API, as the device below does
        Control(emulator.url, http=session(verify=str(ca_path))).set_clock(now=world_start)
        print("uonep demo: firmware/main.py on the MicroPython unix port, an hour in seconds")
        print("emulator: %s (SQLite %s), its clock set to %s" % (
            emulator.url, (STATE / "emulator.sqlite").relative_to(ROOT), iso(world_start)))
        print("scenario: a sample a minute, a push every 10; WiFi outage at +%d min for %d min;"
              " a lost acknowledgement and an HTTP 503 later\n" % (OUTAGE[0] // 60, OUTAGE[1] // 60))
        secrets = write_secrets(emulator.url, str(ca_path))
        lines = run_device(device_command(emulator.url, secrets, world_start))
        cik = (STATE / "cik").read_text().strip()
        points = read_back(emulator, cik)
        rows = print_table(points)
        check(points, committed(lines))
        held = max([int(n) for n in re.findall(r"backlog (\d+) commits kept", "\n".join(lines))]
                   or [0])
        print("outage: WiFi was down %d simulated minutes; the journal held up to %d commits "
              "and delivered them after" % (OUTAGE[1] // 60, held))
        print("%d points read back; wall time %.1f s for %d simulated minutes" % (
            rows, time.time() - started, HOUR // 60))
        print("emulator page: %s/  (%s)" % (
            emulator.url, "serving until Ctrl-C" if "--serve" in argv else
            "stopped now; `python tools/demo.py --serve` keeps it up"))
        if "--serve" in argv:
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
