"""Send SAMPLES samples of DATAPORTS dataports, one request per sample, as
they would go out the moment they are taken: through the HTTP Data API
(mode "dataapi": data_write) or JSON-RPC (mode "rpc": write for one
dataport, writegroup for several).
usage: micropython mp_dataapi_wire.py HOST PORT MODE SAMPLES DATAPORTS
Prints one JSON line: {"requests"}."""
import json
import sys

from common import aliases, value_for

from uonep import Client


def main(host, port, mode, samples, dataports):
    client = Client("1" * 40, "http://%s:%d" % (host, port), timeout=10)
    names = aliases(dataports)
    for step in range(samples):
        values = {name: value_for(name, step) for name in names}
        if mode == "dataapi":
            client.data_write(values)
        elif dataports == 1:
            client.write(names[0], values[names[0]])
        else:
            client.writegroup(values)
    print(json.dumps({"requests": samples}))


main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
