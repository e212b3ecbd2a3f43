"""uonep on CPython: a requests.Session transport, a pyonep-compatible OnepV1
and a local One Platform emulator, all built on the same core as the board."""
