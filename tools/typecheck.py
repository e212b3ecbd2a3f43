"""Type-check the firmware against micropython-esp32-stubs.

The stubs stand in for CPython's standard library (--custom-typeshed-dir),
so a module, function or argument the ESP32 port lacks is an error. Errors
inside the stubs themselves are not ours and are left out.
usage: python tools/typecheck.py STUBS_DIR
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["firmware", "boards"]
# The check is about existence (modules, functions, arguments on ESP32), not
# about inferring types of unannotated MicroPython code: these codes only
# report mypy's guesses about our own variables.
INFERENCE_CODES = ["var-annotated", "union-attr", "arg-type", "assignment", "index",
                   "operator", "return-value", "list-item", "dict-item"]


def python_files():
    for target in TARGETS:
        for path in sorted((ROOT / target).rglob("*.py")):
            if path.name not in ("manifest.py",):  # manifest.py runs inside the firmware build, not on the board
                yield str(path.relative_to(ROOT))


def main(stubs):
    files = list(python_files())
    environment = dict(os.environ, MYPYPATH=os.pathsep.join([stubs, "firmware", "boards"]))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--custom-typeshed-dir", stubs, "--no-site-packages",
         "--check-untyped-defs", "--no-error-summary", "--no-incremental",
         "--explicit-package-bases", "--cache-dir", os.devnull]
        + [option for code in INFERENCE_CODES for option in ("--disable-error-code", code)]
        + files,
        capture_output=True, text=True, cwd=ROOT, env=environment)
    ours = [line for line in done.stdout.splitlines()
            if line.split(":", 1)[0] in files and ": error:" in line]
    for line in ours:
        print(line)
    if done.returncode not in (0, 1) or (done.returncode and not done.stdout):
        print(done.stdout + done.stderr)
        return 2
    print("type check against ESP32 stubs: %d files, %d errors" % (len(files), len(ours)))
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
