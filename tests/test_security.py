"""Security: TLS verification on by default on the host, credentials never in
logs, reprs, error messages or the emulator page, the emulator refuses
oversized bodies and bad auth, and the secrets file stays out of git."""
import http.server
import json
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from uonep import rpc
from uonep.errors import AuthError, OnepError, TransportError, ValidationError
from uonep_host import Client, OnepV1, session
from uonep_host.emulator import DEFAULT_CIK, Emulator

ROOT = Path(__file__).resolve().parent.parent
SECRET_CIK = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"


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
    client = Client(SECRET_CIK, host="127.0.0.1", port=9, https=False, timeout=1)
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
        host, port = url.rsplit("//", 1)[1].split(":")
        client = Client(SECRET_CIK, host=host, port=int(port), https=False, timeout=5)
        client.write("temp", 20.5)
        with pytest.raises(AuthError):
            Client("0" * 40, host=host, port=int(port), https=False).write("temp", 1.0)
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
        host, port = emulator.url.rsplit("//", 1)[1].split(":")
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
    for path in ("secrets.json", "boards/esp32/secrets.json", "firmware/secrets.json"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert done.returncode == 0, path


def test_every_error_is_a_onep_error():
    for name in ("ValidationError", "TransportError", "HTTPError", "ProtocolError",
                 "RequestError", "AuthError", "ServerError", "ProvisionError", "CallError",
                 "RecordBatchError", "JournalError", "JournalFullError"):
        import uonep
        assert issubclass(getattr(uonep, name), OnepError)
