"""The modules of the core one app cycle loads (mp_app_cycle.py's job, then
sys.modules): what a sampling device keeps loaded.
usage: micropython mp_modules.py URL SCRATCH BOARD_FOLDER"""
import sys

import mp_app_cycle  # noqa: F401  (importing it runs the cycle)

print(" ".join(sorted(name for name in sys.modules if name.startswith("uonep"))))
