"""One commit + push cycle of the unix board app (the app heap probe of
`make bench`): boot, sample, commit, push to the emulator.
usage: micropython -X heapsize=N mp_app_cycle.py URL SCRATCH BOARD_FOLDER
Prints "pushed <n>" when the cycle delivered its points."""
import json
import os
import sys

import app
import appconfig


def main(url, scratch, board_folder):
    try:
        os.mkdir(scratch)
    except OSError:
        pass
    secrets = scratch + "/secrets.json"
    with open(secrets, "w") as stream:
        stream.write(json.dumps({"wifi": {"ssid": "bench", "password": "bench-password"},
                                 "cik": "1" * 40, "server": url}))
    profile = appconfig.load_profile(board_folder, {
        "storage.image": scratch + "/flash.img", "storage.mount": "/bench",
        "journal.path": "/bench/journal", "simulation.control": None})
    device = app.App(profile, secrets, app.load_board(board_folder, profile),
                     log=lambda text: None)
    device.start()
    device.sample()
    device.network()
    report = device.last_push
    device.close()
    if report is None or report["sent"] == 0 or report["remaining"]:
        raise SystemExit("push failed: %s" % device.last_error)
    print("pushed %d" % report["sent"])


main(sys.argv[1], sys.argv[2], sys.argv[3])
