"""A week of one-minute samples on the unix board, a day of it offline.

firmware/main.py runs in the MicroPython unix port on boards/unix (LittleFS
in a 64-block file image, the journal at its profile's "auto" capacity, a
simulated clock), against the emulator: 10,080 samples, WiFi down from the
third day to the fourth (profile "simulation.outages"). Every sample must
arrive exactly once, at its own time, none dropped: the journal holds the
day's 1,440 commits and drains them when WiFi is back.
"""
import json
import re
import subprocess
import sys
import time

from mpharness import MICROPYTHON, ROOT, micropython_path

sys.path.insert(0, str(ROOT / "tools"))
import demo  # noqa: E402  (the demo's activatable device and its seed)

WEEK = 7 * 86400
OUTAGE = [3 * 86400, 86400]
SAMPLES = WEEK // 60


def _device(tmp_path, url):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"wifi": {"ssid": "week", "password": "-"}, "server": url}))
    settings = {"storage.image": str(tmp_path / "flash.img"), "simulation.outages": [OUTAGE],
                "run_for": WEEK}
    command = [str(MICROPYTHON), "-X", "heapsize=256k", str(ROOT / "firmware" / "main.py"),
               "--board", str(ROOT / "boards" / "unix"), "--secrets", str(secrets)]
    for key, value in settings.items():
        command += ["--set", "%s=%s" % (key, json.dumps(value))]
    return command


def test_a_week_with_a_day_offline_arrives_exactly_once(tmp_path):
    from uonep_host import Client
    from uonep_host.emulator import Emulator
    emulator = Emulator(db=str(tmp_path / "emulator.sqlite"), seed=demo.seed()).start()
    try:
        started = time.time()
        done = subprocess.run(_device(tmp_path, emulator.url), cwd=str(ROOT), timeout=240,
                              capture_output=True, text=True,
                              env={"MICROPYPATH": micropython_path() + ":.frozen"})
        wall = time.time() - started
        assert done.returncode == 0, done.stderr[-2000:]
        log = done.stdout
        held = max(int(n) for n in re.findall(r"backlog (\d+) commits kept", log))
        status = log.strip().splitlines()[-1]
        assert "committed=%d" % SAMPLES in status and "'dropped': 0" in status, status
        host, port = emulator.url.split("://", 1)[1].split(":")
        client = Client(demo.DEVICE_CIK, host=host, port=int(port), https=False)
        # The device's clock came from the emulator's /timestamp: the week
        # lies ahead of the emulator's own clock.
        end = int(time.time()) + WEEK + 86400
        points = []
        while True:
            page = client.read("count", starttime=points[-1][0] + 1 if points else 0,
                               endtime=end, limit=5000, sort="asc")
            if not page:
                break
            points += page
        counts = [value for _, value in points]
        assert counts == list(range(1, SAMPLES + 1)), (len(counts), counts[:5], counts[-5:])
        # Each at its own time, about a minute apart (the clock set from the
        # server moves a sample by a few seconds), the week end to end.
        stamps = [stamp for stamp, _ in points]
        gaps = sorted(set(later - earlier for earlier, later in zip(stamps, stamps[1:])))
        assert gaps[0] >= 50 and gaps[-1] <= 90, gaps
        assert WEEK - 3600 <= stamps[-1] - stamps[0] <= WEEK, stamps[-1] - stamps[0]
        temps = client.read("temp", starttime=0, endtime=end, limit=SAMPLES + 10)
        assert len(temps) == SAMPLES
        print("a week of samples: %d committed, %d arrived once each; the backlog held "
              "up to %d commits; %.1f s of wall time" % (SAMPLES, len(counts), held, wall))
        assert held >= 1440 - 60, held      # the day offline was held, not dropped
    finally:
        emulator.stop()
