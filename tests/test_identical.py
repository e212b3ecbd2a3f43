"""A request built by the core under MicroPython is byte-identical to the one
built under CPython for the same calls (tests/portable/corpus.py)."""
import binascii
import sys

from mpharness import run_micropython

sys.path.insert(0, "tests/portable")
import corpus  # noqa: E402

SCRIPT = "import corpus, binascii\nfor body in corpus.bodies(): print(binascii.hexlify(body).decode())\n"


def test_bodies_are_byte_identical_across_runtimes():
    done = run_micropython(["-c", SCRIPT])
    assert done.returncode == 0, done.stderr
    micropython_bodies = [binascii.unhexlify(line) for line in done.stdout.split()]
    cpython_bodies = corpus.bodies()
    assert len(micropython_bodies) == len(cpython_bodies) > 30
    for ours, theirs in zip(cpython_bodies, micropython_bodies):
        assert ours == theirs
