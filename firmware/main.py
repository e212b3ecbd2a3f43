# The device's entry point: pick the app set (boot_select: an update on
# trial, or the built-in one), load the profile and secrets, run the app
# forever. At the REPL (Ctrl-C in mpremote), `app.status()` says what it
# was doing. On the unix port:
#   micropython firmware/main.py --board boards/unix --secrets FILE [--update DIR]
import sys

import boot_select

root, argv = boot_select.take_root(getattr(sys, "argv", [])[1:])
try:
    boot_select.select(root)
except Exception as failure:
    # A state that cannot be written (flash full): the built-in set runs.
    print("update: no slot chosen (%s); the built-in app runs" % type(failure).__name__)
try:
    from app import boot
except Exception as failure:
    # An update that cannot even import: back to the set before it, now.
    if not boot_select.rollback():
        raise
    print("update: the new app failed to import (%s); rolled back" % type(failure).__name__)
    from app import boot

app = boot(argv)
if app is not None:
    app.run()
