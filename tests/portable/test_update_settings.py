"""The pure parts of the app's update and remote settings: version order,
the boot selector's command line, the profile's new sections and the
settings applied key by key. Runs under CPython (pytest) and inside
MicroPython (tests/conftest.py)."""

import sys

try:
    import boot_select
except ImportError:
    # CPython: the app's modules are not installed, only the core is.
    sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/firmware")
    import boot_select

import profilecheck
import update
from settings import apply


def _profile(**changes):
    profile = profilecheck.merge(profilecheck.DEFAULTS, {})
    for key, value in changes.items():
        profilecheck.set_path(profile, key.replace("__", "."), value)
    return profile


def test_versions_are_compared_as_dotted_numbers():
    assert update.newer("1.10", "1.9") and update.newer("2", "1.99.1")
    assert not update.newer("1.2", "1.2") and not update.newer("1.2", "1.10")
    assert update.newer("1", "0") and not update.newer("1.x", "0")
    assert not update.newer(None, "0") and update.version_key("3.0.1") == (3, 0, 1)


def test_the_update_folder_comes_off_the_command_line():
    assert boot_select.take_root(["--board", "b", "--update", "u", "--set", "x=1"]) == \
        ("u", ["--board", "b", "--set", "x=1"])
    assert boot_select.take_root(["--board", "b"]) == ("/update", ["--board", "b"])
    assert boot_select.take_root(["--update"]) == ("/update", ["--update"])


def test_update_and_settings_sections_are_checked():
    assert profilecheck.problem(_profile()) is None
    assert profilecheck.problem(_profile(update__content_id="app",
                                         settings__alias="settings")) is None
    for key, value, message in (
            ("update__boots", 0, "update.boots must be a whole number from 1 (got 0)"),
            ("update__every_pushes", 1.5, "update.every_pushes must be a whole number from 1"),
            ("update__content_id", "", "update.content_id must be a non-empty string or null"),
            ("settings__alias", 7, "settings.alias must be a non-empty string or null"),
            ("settings__status", None, "settings.status must be a non-empty string"),
            ("settings__every_pushes", True, "settings.every_pushes must be a whole number")):
        problem = profilecheck.problem(_profile(**{key: value}))
        assert problem is not None and problem.startswith(message), (key, problem)
    sensors = [{"alias": "a", "kind": "counter", "enabled": "no"}]
    assert profilecheck.problem(_profile(sensors=sensors)).startswith("sensors must be")
    sensors[0]["enabled"] = False
    assert profilecheck.problem(_profile(sensors=sensors)) is None


def test_settings_apply_what_passes_and_refuse_the_rest():
    profile = _profile(sensors=[{"alias": "temp", "kind": "counter"}])
    report = apply(profile, '{"sample_interval": 600000, "push": {"max_points": 50}, '
                            '"sensors": {"temp": false, "other": true}, "server": "x"}')
    assert report["applied"] == {"push.max_points": 50, "sensors.temp": False}
    assert sorted(report["refused"]) == ["sample_interval", "sensors.other", "server"]
    assert report["refused"]["sample_interval"].startswith("sample_interval must be a number")
    assert profile["sample_interval"] == 60 and profile["push"]["max_points"] == 50
    assert profile["sensors"][0]["enabled"] is False
    assert apply(profile, "not json")["refused"] == {"settings": "must be a JSON object {...}"}
    assert apply(profile, {"sensors": []})["refused"] == {
        "sensors": "must be an object {alias: true or false}"}
