# A sampling device never loads the content or Data API code: importing
# uonep, committing and pushing leaves uonep.content and uonep.dataapi out
# of sys.modules; the first data_* call loads uonep.dataapi alone, the
# first content_* call uonep.content.
import os
import sys

from emulator_control import url

NEEDS_EMULATOR = True


def loaded():
    return sorted(name for name in sys.modules if name.startswith("uonep"))


def test_a_push_loads_neither_then_each_loads_on_first_use():
    from uonep import Client, Journal, Uplink
    client = Client("1" * 40, url())
    uplink = Uplink(client, Journal(os.getenv("UONEP_TMP") + "/journal"))
    uplink.add_value("temp", 21.5)
    uplink.commit()
    assert uplink.push()["sent"] == 1
    assert "uonep.content" not in sys.modules and "uonep.dataapi" not in sys.modules, loaded()
    # Nor the management procedures (create, share, ...): uonep.admin.
    client.write("temp", 21.5)
    assert "uonep.admin" not in sys.modules, loaded()
    assert client.data_read(["temp"]) == {"temp": "21.5"}
    assert "uonep.dataapi" in sys.modules and "uonep.content" not in sys.modules, loaded()
    from uonep.errors import AuthError
    try:
        client.content_list("acme", "m1")
        raise AssertionError("a client that activated no acme/m1 device listed its content")
    except AuthError as refused:
        assert refused.code == 403
    assert "uonep.content" in sys.modules, loaded()
