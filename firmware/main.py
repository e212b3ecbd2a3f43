# The device's entry point: load the profile and secrets, run the app forever.
# At the REPL (Ctrl-C in mpremote), `app.status()` says what it was doing.
# On the unix port: micropython firmware/main.py --board boards/unix --secrets FILE
import sys

from app import boot

app = boot(getattr(sys, "argv", [])[1:])
if app is not None:
    app.run()
