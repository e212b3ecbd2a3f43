"""Security: TLS verification on by default on the host, credentials never in
logs, reprs, error messages or the emulator page, the emulator refuses
oversized bodies and bad auth, and the secrets file stays out of git."""
import http.server
import importlib.util
import io
import json
import socket
import ssl
import subprocess
import sys
import threading
import traceback
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from uonep import rpc
from uonep.errors import (AuthError, HTTPError, OnepError, ProtocolError, TransportError,
                          ValidationError)
from uonep_host import Client, OnepV1, session
from uonep_host.emulator import DEFAULT_CIK, Emulator

ROOT = Path(__file__).resolve().parent.parent
SECRET_CIK = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"
# Well formed, but no client has it: the server answers 401.
UNKNOWN_CIK = "a1b2c3d4e5" * 4
PASSWORD = "wifi-pa55word-do-not-log"


def _certificate(folder):
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server with a self-signed certificate that answers every
    JSON-RPC call "ok"."""
    key, cert = _certificate(tmp_path)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps([{"id": call["id"], "status": "ok"}
                               for call in request["calls"]]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert
    server.shutdown()
    server.server_close()


def test_tls_verification_is_on_by_default(tls_server):
    port, cert = tls_server
    assert session().verify is True
    with pytest.raises(TransportError) as caught:
        Client(SECRET_CIK, host="127.0.0.1", port=port, timeout=5).write("temp", 1.0)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value) or "certificate" in str(caught.value)
    assert SECRET_CIK not in str(caught.value)


def test_tls_with_the_servers_ca_works(tls_server, monkeypatch):
    port, cert = tls_server
    # Regression: requests let this variable replace the Session's own CA bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ssl.get_default_verify_paths().openssl_cafile)
    trusted = Client(SECRET_CIK, host="127.0.0.1", port=port, timeout=5, verify=str(cert))
    assert trusted.write("temp", 1.0) is None


def test_credentials_stay_out_of_reprs_and_errors():
    client = Client(SECRET_CIK, "http://127.0.0.1:9", timeout=1)
    texts = [repr(client), str(client), repr(client.transport)]
    with pytest.raises(TransportError) as refused:
        client.write("temp", 1.0)
    texts.append(str(refused.value))
    for bad in (SECRET_CIK.upper(), SECRET_CIK[:-1], SECRET_CIK + "0"):
        with pytest.raises(ValidationError) as caught:
            rpc.auth(bad)
        texts.append(str(caught.value))
        assert bad not in str(caught.value)
    body = b'{"error":{"code":401,"message":"Invalid","context":"auth"}}'
    with pytest.raises(AuthError) as denied:
        rpc.decode_response(200, body, [rpc.read("t")], [1])
    texts.append(str(denied.value))
    token = "tok-" + SECRET_CIK
    texts.append(repr(Client(token=token, host="h")))
    for text in texts:
        assert SECRET_CIK not in text and token not in text


def test_secrets_never_reach_the_emulator_page_or_log(tmp_path):
    seed = {"clients": [{"cik": SECRET_CIK, "name": "dev",
                         "dataports": [{"alias": "temp", "format": "float"}]}]}
    seed_path = tmp_path / "seed.json"
    seed_path.write_text(json.dumps(seed))
    process = subprocess.Popen(
        [sys.executable, "-m", "uonep_host.emulator", "--port", "0", "--db",
         str(tmp_path / "db.sqlite"), "--seed", str(seed_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = process.stdout.readline()
        url = first[first.index("http://"):].split()[0]
        client = Client(SECRET_CIK, url, timeout=5)
        client.write("temp", 20.5)
        with pytest.raises(AuthError):
            Client("0" * 40, url).write("temp", 1.0)
        page = urllib.request.urlopen(url + "/").read().decode()
        assert "20.5" in page and SECRET_CIK not in page
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert process.returncode == 0
    assert "temp" in output or "rpc" in output.lower()
    assert SECRET_CIK not in output and SECRET_CIK not in first


def test_onepv1_errors_do_not_carry_the_cik():
    o = OnepV1(host="127.0.0.1", port=9, https=False, httptimeout=1)
    with pytest.raises(Exception) as caught:
        o.read(SECRET_CIK, "temp", {})
    assert SECRET_CIK not in str(caught.value)


def test_emulator_refuses_oversized_bodies_and_bad_auth():
    with Emulator(seed={"clients": [{"cik": DEFAULT_CIK}]}, max_body=4096) as emulator:
        url = emulator.url
        host, port = url.rsplit("//", 1)[1].split(":")   # sockets and OnepV1 take them apart
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(b"POST /onep:v1/rpc/process HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            assert b" 413 " in raw.recv(4096).split(b"\r\n")[0] + b" "
        for auth in ({"cik": "0" * 40}, {"cik": "nothex"}, {}, {"token": "forged"}):
            body = json.dumps({"auth": auth, "calls": [
                {"id": 1, "procedure": "write", "arguments": [{"alias": "temp"}, 1]}]}).encode()
            request = urllib.request.Request(emulator.url + rpc.PATH, data=body,
                                             headers={"Content-Type": rpc.CONTENT_TYPE})
            answer = json.loads(urllib.request.urlopen(request).read())
            assert answer["error"]["code"] in (400, 401), (auth, answer)


def test_secrets_files_are_ignored_by_git():
    for path in ("secrets.json", "boards/esp32/secrets.json", "boards/unix/secrets.json",
                 "firmware/secrets.json"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert done.returncode == 0, path


def test_every_error_is_a_onep_error():
    for name in ("ValidationError", "TransportError", "HTTPError", "ProtocolError",
                 "RequestError", "AuthError", "ServerError", "ProvisionError", "CallError",
                 "RecordBatchError", "JournalError", "JournalFullError"):
        import uonep
        assert issubclass(getattr(uonep, name), OnepError)


def _texts_of(error):
    """Everything an error shows when logged: str, repr, args, its cause and
    the formatted traceback."""
    texts = [str(error), repr(error), repr(error.args)]
    cause = error.__cause__ or error.__context__
    if cause is not None:
        texts += [str(cause), repr(cause)]
    texts.append("".join(traceback.format_exception(type(error), error, error.__traceback__)))
    return texts


def _assert_no_secret(texts, *secrets):
    for text in texts:
        for secret in secrets:
            assert secret not in text, "a credential shows in: %s" % text[:300]


def test_reprs_of_core_and_shim_objects_hold_no_credentials(tmp_path):
    import uonep
    from uonep.journal import Journal
    from uonep.transport import Transport
    token = "tok-" + SECRET_CIK
    journal = Journal(str(tmp_path / "journal"), capacity_bytes=4096)
    core = uonep.Client(SECRET_CIK, "https://m2.exosite.com")
    uplink = uonep.Uplink(core, journal)
    uplink.add_value("temp", 1.5)
    objects = [core, core.transport, core.batch(), journal, uplink,
               uonep.Client(SECRET_CIK, host="h", port=8080, https=False, client_id="b" * 40),
               uonep.Client(token=token, host="h"),
               Transport("https://m2.exosite.com"), Transport("http://h:8080"),
               Client(SECRET_CIK, host="h")]
    onep = OnepV1(host="127.0.0.1", port=9, https=False, httptimeout=1, logrequests=True)
    onep.write(SECRET_CIK, {"alias": "temp"}, 1.0, defer=True)
    onep.connect_as("c" * 40)
    objects += [onep, onep.deferred]
    texts = []
    for item in objects:
        texts += [repr(item), str(item)]
    journal.close()
    _assert_no_secret(texts, SECRET_CIK, token)


def test_live_errors_page_and_log_hold_no_cik():
    """Against a verbose emulator: a good exchange, a 401 (JSON and HTTP),
    transport failures, a garbled answer, a 500, pyonep-style calls with an
    unknown key and malformed auth; no error, the page, the request log or
    the emulator's record of requests shows a full CIK."""
    seed = {"clients": [{"cik": SECRET_CIK, "name": "dev",
                         "dataports": [{"alias": "temp", "format": "float"}]}]}
    log = io.StringIO()
    texts = []
    with Emulator(seed=seed, verbose=True, stream=log) as emulator:
        url = emulator.url
        host, port = url.rsplit("//", 1)[1].split(":")   # sockets and OnepV1 take them apart
        good = Client(SECRET_CIK, url, timeout=0.5)
        good.write("temp", 20.5)
        with pytest.raises(AuthError) as denied:
            Client(UNKNOWN_CIK, url).write("temp", 1.0)
        texts += _texts_of(denied.value)
        for kind, options, expected in (("http_status", {"status": 401}, AuthError),
                                        ("auth", {}, AuthError),
                                        ("drop_before_body", {}, TransportError),
                                        ("drop_after_body", {}, TransportError),
                                        ("stall", {"seconds": 1.5}, TransportError),
                                        ("truncate", {}, ProtocolError),
                                        ("http_status", {"status": 500}, HTTPError)):
            emulator.faults.arm(kind, **options)
            with pytest.raises(expected) as caught:
                good.write("temp", 1.0)
            emulator.faults.clear()
            texts += _texts_of(caught.value)
        onep = OnepV1(host=host, port=port, https=False, httptimeout=5)
        with pytest.raises(Exception) as refused:      # pyonep raises on a 401
            onep.read(UNKNOWN_CIK, {"alias": "temp"}, {})
        texts += _texts_of(refused.value)
        texts.append(repr(onep.read(SECRET_CIK, {"alias": "nothing"}, {})))
        # Hand-made requests with the key in the wrong place: still masked.
        for auth in (SECRET_CIK, {"CIK": SECRET_CIK}, {"cik": SECRET_CIK.upper()},
                     [SECRET_CIK], {"token": SECRET_CIK}):
            body = json.dumps({"auth": auth, "calls": [
                {"id": 1, "procedure": "read", "arguments": [{"alias": "temp"}, {}]}]}).encode()
            request = urllib.request.Request(emulator.url + rpc.PATH, data=body,
                                             headers={"Content-Type": rpc.CONTENT_TYPE})
            texts.append(urllib.request.urlopen(request).read().decode())
        page = urllib.request.urlopen(emulator.url + "/").read().decode()
        assert "Client dev" in page and SECRET_CIK[:4] + "\u2026" in page
        texts += [page, json.dumps(emulator.requests)]
    output = log.getvalue()
    assert "rpc auth=cik=5ec7\u2026" in output      # the log is there, masked
    texts.append(output)
    _assert_no_secret(texts, SECRET_CIK, SECRET_CIK.upper(), UNKNOWN_CIK)


def test_oversized_bodies_are_refused_on_every_path():
    with Emulator(seed={"clients": [{"cik": SECRET_CIK, "dataports": [
            {"alias": "temp", "format": "float"}]}]}, max_body=4096) as emulator:
        url = emulator.url
        host, port = url.rsplit("//", 1)[1].split(":")   # sockets and OnepV1 take them apart
        for path in (rpc.PATH, "/provision/activate", "/_emulator/faults"):
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                raw.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n"
                            % path.encode())
                assert raw.recv(4096).split(b"\r\n")[0].split()[1] == b"413", path
            # A body without a length (chunked) is refused too: 411.
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                raw.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n" % path.encode())
                assert raw.recv(4096).split(b"\r\n")[0].split()[1] == b"411", path
        # Through the client: a documented error, no CIK in it, nothing stored.
        client = Client(SECRET_CIK, url, timeout=5)
        points = [[1700000000 + n, n / 4] for n in range(1000)]
        with pytest.raises(TransportError) as refused:
            client.recordbatch("temp", points)
        if isinstance(refused.value, HTTPError):
            assert refused.value.status == 413
        _assert_no_secret(_texts_of(refused.value), SECRET_CIK)
        assert emulator.points(SECRET_CIK, "temp") == []
        client.recordbatch("temp", points[:10])       # a small one still goes through
        assert len(emulator.points(SECRET_CIK, "temp")) == 10


def _appconfig():
    spec = importlib.util.spec_from_file_location("appconfig_under_test",
                                                  ROOT / "firmware" / "appconfig.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_errors_never_quote_the_password_or_cik(tmp_path):
    appconfig = _appconfig()
    wifi = {"ssid": "home", "password": PASSWORD}
    broken = [
        '{"wifi": {"ssid": "home", "password": "%s"}, "cik": "%s"' % (PASSWORD, SECRET_CIK),
        json.dumps({"wifi": {"password": PASSWORD}, "cik": SECRET_CIK}),
        json.dumps({"wifi": {"ssid": "home", "password": [PASSWORD]}}),
        json.dumps({"wifi": wifi, "cik": SECRET_CIK.upper()}),
        json.dumps({"wifi": wifi, "cik": SECRET_CIK + "0"}),
        json.dumps({"wifi": wifi, "cik": SECRET_CIK, "server": "ftp://" + PASSWORD}),
        json.dumps([PASSWORD, SECRET_CIK]),
    ]
    texts = []
    for number, text in enumerate(broken):
        path = tmp_path / ("secrets%d.json" % number)
        path.write_text(text)
        with pytest.raises(appconfig.ConfigError) as caught:
            appconfig.load_secrets(str(path))
        texts += _texts_of(caught.value)
    good = tmp_path / "secrets.json"
    good.write_text(json.dumps({"wifi": wifi, "cik": SECRET_CIK}))
    assert appconfig.load_secrets(str(good))["cik"] == SECRET_CIK
    assert appconfig.mask(SECRET_CIK).startswith(SECRET_CIK[:4])
    texts.append(appconfig.mask(SECRET_CIK))
    _assert_no_secret(texts, PASSWORD, SECRET_CIK, SECRET_CIK.upper())
