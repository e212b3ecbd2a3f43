"""uonep.rpc builders for the argument forms real clients send (issue 12):
lookup "aliased" and the key "" (the caller), listing type "token" and
options as a list of names. Runs under CPython and inside MicroPython."""

from check import raises

from uonep import rpc
from uonep.errors import ValidationError


def test_lookup_aliased_and_the_empty_alias_name_the_caller():
    assert rpc.lookup("", "aliased") == ("lookup", ["aliased", ""])
    assert rpc.lookup("", "alias") == ("lookup", ["alias", ""])
    assert rpc.lookup("temp", "aliased") == ("lookup", ["aliased", "temp"])
    raises(ValidationError, rpc.lookup, 5, "aliased")
    raises(ValidationError, rpc.lookup, "", "owner")


def test_listing_token_type_and_options_as_a_list():
    assert rpc.listing({"alias": ""}, ["client", "token"], []) == \
        ("listing", [{"alias": ""}, ["client", "token"], []])
    assert rpc.listing("t", ["dataport"], ("owned", "activated")) == \
        ("listing", [{"alias": "t"}, ["dataport"], ["owned", "activated"]])
    assert rpc.listing("t", ["dataport"]) == ("listing", [{"alias": "t"}, ["dataport"], {}])
    raises(ValidationError, rpc.listing, "t", ["tokens"])
    raises(ValidationError, rpc.listing, "t", ["token"], "owned")
