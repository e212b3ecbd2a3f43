"""The device's configuration files read under CPython (the firmware also
imports there): the failures CPython's own parser raises are ConfigErrors
too, and no message quotes the file."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "firmware"))
import appconfig  # noqa: E402

PASSWORD = "secret-wifi-password"


@pytest.mark.parametrize("content, expected", [
    # Deep enough for the parser of CPython 3.12 and older to give up
    # with RecursionError; 3.13's parses it.
    (b"[" * 1020 + b"]" * 1020, ("cannot be read (RecursionError)", "must be a JSON object")),
    (b'{"wifi": {"ssid": "caf\xe9", "password": "%s"}}' % PASSWORD.encode(), "not UTF-8 text"),
    (b'{"wifi": {"password": "%s"' % PASSWORD.encode(), "is not valid JSON"),
    (b" " * 4096, "larger than 2048 bytes"),
    (b"[]", "must be a JSON object"),
])
def test_a_bad_secrets_file_is_a_config_error(tmp_path, content, expected):
    path = tmp_path / "secrets.json"
    path.write_bytes(content)
    with pytest.raises(appconfig.ConfigError) as raised:
        appconfig.load_secrets(str(path))
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert any(phrase in str(raised.value) for phrase in expected), raised.value
    assert PASSWORD not in str(raised.value)


def test_the_profiles_load_and_a_bad_field_is_named(tmp_path):
    for board in ("unix", "esp32", "esp32s3", "esp32c3"):
        appconfig.load_profile(str(ROOT / "boards" / board))
    (tmp_path / "board.json").write_text(json.dumps({"wifi": {"backoff_cap": "600"}}))
    with pytest.raises(appconfig.ConfigError) as raised:
        appconfig.load_profile(str(tmp_path))
    assert str(raised.value) == ("board profile %s/board.json: wifi.backoff_cap must be a "
                                 "number of seconds from wifi.backoff_base to 518400 "
                                 "(got \"600\")" % tmp_path)
