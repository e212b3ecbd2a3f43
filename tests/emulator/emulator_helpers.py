"""Helpers for the emulator's own tests: constants and a small JSON-RPC
client over real HTTP (requests). (Not named conftest: the tests import it.)"""

import json

import requests

CIK = "1" * 40
T0 = 1700000000
RPC = "/onep:v1/rpc/process"


class Rpc:
    """Real HTTP calls to an emulator."""

    def __init__(self, url, cik=CIK):
        self.url = url
        self.auth = {"cik": cik}
        self.session = requests.Session()

    def post(self, body, headers=None, timeout=10):
        """POST a body (dict: JSON-encoded; bytes/str as is); the Response."""
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        return self.session.post(self.url + RPC, data=data, timeout=timeout,
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
