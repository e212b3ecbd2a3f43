"""Helpers for the emulator's own tests: constants, a small JSON-RPC client
and the two front doors. (Not named conftest: the tests import it.)"""

import json

import requests

from uonep_host.emulator.control import Control

CIK = "1" * 40
T0 = 1700000000
RPC = "/onep:v1/rpc/process"


class Rpc:
    """JSON-RPC calls through `http` (requests' call shape: the in-process
    session, or a requests.Session with the server's `url`)."""

    def __init__(self, http, cik=CIK, url=""):
        self.http = http
        self.url = url
        self.auth = {"cik": cik}

    def post(self, body, headers=None, timeout=10):
        """POST a body (dict: JSON-encoded; bytes/str as is); the Response."""
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        return self.http.post(self.url + RPC, data=data, timeout=timeout,
                              headers=headers or {"Content-Type":
                                                  "application/json; charset=utf-8"})

    def send(self, calls, auth=None):
        """The decoded answer to {"auth", "calls"}."""
        answer = self.post({"auth": self.auth if auth is None else auth, "calls": calls})
        assert answer.status_code == 200
        return answer.json() if answer.content else None

    def call(self, procedure, *arguments, auth=None):
        """The answer entry of one call (or the request-level error object)."""
        answer = self.send([{"id": 1, "procedure": procedure, "arguments": list(arguments)}],
                           auth)
        if isinstance(answer, dict):
            return answer
        assert len(answer) == 1 and answer[0]["id"] == 1
        return answer[0]

    def ok(self, procedure, *arguments, auth=None):
        """The result of a call that must succeed."""
        entry = self.call(procedure, *arguments, auth=auth)
        assert entry.get("status") == "ok", entry
        return entry.get("result")

    def status(self, procedure, *arguments, auth=None):
        return self.call(procedure, *arguments, auth=auth).get("status")


def over_http(url, cik=CIK):
    """An Rpc over real HTTP (a keep-alive requests.Session) to `url`."""
    return Rpc(requests.Session(), cik, url)


class Door:
    """One front door of an emulator: `http` (requests' call shape) and the
    `url` its paths go after ("" in process)."""

    def __init__(self, name, http, url=""):
        self.name = name
        self.http = http
        self.url = url

    def get(self, path, **options):
        return self.http.get(self.url + path, **options)

    def post(self, path, **options):
        return self.http.post(self.url + path, **options)

    def rpc(self, cik=CIK):
        return Rpc(self.http, cik, self.url)

    def control(self):
        return Control(self.url, http=self.http)
