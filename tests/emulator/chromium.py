"""Headless Debian Chromium driven over the Chrome DevTools protocol, for
tests that look at a page as a browser renders it.

    with Chromium() as browser:
        browser.open(url)
        browser.evaluate("document.title")      # a JSON-able value
        browser.screenshot(path)

`make browser` installs Chromium; without it Chromium() fails the test
with a message saying so (never a skip: a missing browser is a set-up
problem to fix). The browser gets a fresh profile folder and the flags
that keep it off the network; it talks to the test over a loopback port.
"""

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest
import websocket

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0")
START_TIMEOUT = 30
COMMAND_TIMEOUT = 30


def binary():
    """The path of Debian's chromium, or fail the test saying how to get it."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: run `make browser` (it installs Debian's "
                    "chromium package), then run the tests again", pytrace=False)
    return found


class BrowserError(Exception):
    """Chromium did not start, or a DevTools command failed."""


class Chromium:
    """One headless Chromium with one tab (see the module docstring)."""

    def __init__(self, width=1300, height=1000):
        self.profile = tempfile.mkdtemp(prefix="uonep-chromium-")
        self.process = subprocess.Popen(
            [binary(), *FLAGS, "--user-data-dir=" + self.profile,
             "--window-size=%d,%d" % (width, height), "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._ids = itertools.count(1)
        # DevTools events received while waiting for a command's answer
        self.events = []
        try:
            self.socket = websocket.create_connection(self._page_socket(),
                                                      timeout=COMMAND_TIMEOUT,
                                                      suppress_origin=True)
            self.command("Page.enable")
        except BaseException:
            self.close()
            raise

    def _page_socket(self):
        """The DevTools websocket URL of the first tab, once Chromium listens."""
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if self.process.poll() is not None:
                raise BrowserError("chromium exited at start (status %d)"
                                   % self.process.returncode)
            if time.monotonic() > deadline:
                raise BrowserError("chromium did not open its DevTools port in %d s"
                                   % START_TIMEOUT)
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as answer:
            targets = json.loads(answer.read())
        return next(target["webSocketDebuggerUrl"] for target in targets
                    if target["type"] == "page")

    def command(self, method, **params):
        """Send one DevTools command; its result (BrowserError on an error).
        Events that arrive meanwhile are kept in `events`."""
        number = next(self._ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise BrowserError("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            self.events.append(message)

    def open(self, url):
        """Load `url` and wait for its load event."""
        self.events = []
        result = self.command("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError("cannot load %s: %s" % (url, result["errorText"]))
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            if time.monotonic() > deadline:
                raise BrowserError("%s did not finish loading" % url)
            self.events.append(json.loads(self.socket.recv()))

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (JSON-able)."""
        result = self.command("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError("script failed: %s" % result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path):
        """Save the whole page as a PNG at `path`."""
        size = self.command("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.command("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": size["width"],
                                  "height": size["height"], "scale": 1})
        with open(path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))

    def close(self):
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
