"""The README's first screen, followed literally: the emulator command it
gives, then its CPython session (as a doctest) and its MicroPython session
(under the real unix port), each checked against the output the README
shows. Timestamps (ten-digit numbers) are the only thing allowed to differ.
The README's port 8080 becomes a free one, and its database a scratch file,
so that the test runs beside anything else."""

import doctest
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mpharness import MICROPYTHON

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Start here"
URL = "http://127.0.0.1:8080"
TIMESTAMP = re.compile(r"\b1\d{9}\b")


def first_screen():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return text[start:end]


def blocks(section, language):
    return re.findall(r"```%s\n(.*?)```" % language, section, re.S)


def sessions():
    """(the CPython session, the MicroPython session): the python blocks
    that talk to the emulator, in the README's order."""
    local = [block for block in blocks(first_screen(), "python") if URL in block]
    assert len(local) == 2, "the first screen should hold a CPython and a MicroPython session"
    return local


@pytest.fixture
def emulator(tmp_path):
    """The emulator, started by the README's own command line."""
    commands = [line for block in blocks(first_screen(), "sh") for line in block.splitlines()
                if "uonep_host.emulator" in line]
    assert len(commands) == 1, commands
    words = commands[0].split()
    assert words[:3] == [".venv/bin/python", "-m", "uonep_host.emulator"], words
    words = [sys.executable] + words[1:]
    words[words.index("--port") + 1] = "0"
    words[words.index("--db") + 1] = str(tmp_path / "state" / "onep.sqlite")
    process = subprocess.Popen(words, cwd=str(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not found:
        process.kill()
        raise AssertionError("the emulator did not start: %r %s" % (line, process.stderr.read()))
    yield found.group(0)
    process.terminate()
    process.wait(timeout=10)


class SameButTimestamps(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        return super().check_output(TIMESTAMP.sub("T", want), TIMESTAMP.sub("T", got),
                                    optionflags)


def test_the_cpython_session_runs_as_written(emulator):
    text = sessions()[0].replace(URL, emulator)
    test = doctest.DocTestParser().get_doctest(text, {}, "README first screen", None, 0)
    runner = doctest.DocTestRunner(checker=SameButTimestamps(), optionflags=doctest.ELLIPSIS)
    runner.run(test, out=sys.stdout.write)
    assert runner.failures == 0 and runner.tries >= 5


def test_the_micropython_session_runs_as_written(emulator):
    # The CPython session first: the MicroPython one reads what it wrote.
    text = sessions()[0].replace(URL, emulator)
    doctest.DocTestRunner(checker=SameButTimestamps()).run(
        doctest.DocTestParser().get_doctest(text, {}, "cpython", None, 0), out=lambda _: None)
    # A point per dataport and second: a person takes longer than a second
    # between the two sessions, and so must the test.
    time.sleep(1.1)
    examples = doctest.DocTestParser().get_examples(sessions()[1].replace(URL, emulator))
    # The unix port reads a script from a pipe, not a session: each line is
    # evaluated and its value printed the way the REPL would print it.
    script = ["def _show(value):\n    if value is not None:\n        print(repr(value))\n"]
    for example in examples:
        source = example.source.strip()
        try:
            compile(source, "<readme>", "eval")
            script.append("_show(%s)\nprint('@@END')\n" % source)
        except SyntaxError:
            script.append("%s\nprint('@@END')\n" % source)
    done = subprocess.run([str(MICROPYTHON), "-c", "".join(script)], capture_output=True,
                          text=True, timeout=60, cwd=str(ROOT),
                          env={"MICROPYPATH": "firmware", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr + done.stdout
    outputs = done.stdout.split("@@END\n")[:-1]
    assert len(outputs) == len(examples), done.stdout
    for example, got in zip(examples, outputs):
        assert TIMESTAMP.sub("T", got) == TIMESTAMP.sub("T", example.want), (example.source, got)
