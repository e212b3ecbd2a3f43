"""The error classes a sampling device never raises (ProvisionError,
ContentError) live in uonep.errors_rare, handed out by uonep.errors: the
same classes from every import path, the hierarchy and attributes as
documented, on CPython and inside MicroPython."""

import sys

import uonep
import uonep.errors
from uonep.errors import ContentError, OnepError, ProvisionError, RequestError


def test_every_path_gives_the_one_class():
    assert uonep.ContentError is ContentError is uonep.errors.ContentError
    assert uonep.ProvisionError is ProvisionError is sys.modules["uonep.errors_rare"].ProvisionError


def test_hierarchy_and_attributes_are_unchanged():
    refused = ProvisionError(409, "not enabled", "activate")
    assert isinstance(refused, RequestError) and isinstance(refused, OnepError)
    assert (refused.code, refused.message, refused.context) == (409, "not enabled", "activate")
    assert not refused.retryable and str(refused) == "request failed (409): not enabled [activate]"
    changed = ContentError("the content changed", retryable=True)
    assert isinstance(changed, OnepError) and not isinstance(changed, RequestError)
    assert changed.retryable and str(changed) == "the content changed"
    assert not ContentError("size").retryable
    try:
        raise changed
    except ContentError as caught:
        assert caught is changed


def test_other_names_are_still_missing():
    for name in ("NoSuchError", "nothing"):
        try:
            getattr(uonep.errors, name)
        except AttributeError:
            continue
        raise AssertionError(name)
