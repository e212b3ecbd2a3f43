"""HELPER = "mpycore" for tests/mp modules that run with a board's small
heap: the core compiled to .mpy, as a board loads it (compiling it from
source at import takes more heap than running it). env: UONEP_MPY, the
folder to put first on sys.path."""
from pathlib import Path

from hostile import compile_core


class Helper:
    def __init__(self, scratch):
        self.env = {"UONEP_MPY": compile_core(Path(scratch) / "mpy")}

    def start(self):
        return self

    def stop(self):
        pass
