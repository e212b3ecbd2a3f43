"""Which app set a boot runs: the built-in one, or slot a or b of an update.

    root, argv = boot_select.take_root(argv)   # "--update DIR" (unix), else /update
    boot_select.select(root)    # before `import app`: puts the slot first on sys.path
    boot_select.rollback()      # its app failed to import: the previous set (False: none)

It never imports the app and the app never changes it: an update can break
only what it brings. Under `root` live the slots a/ and b/ (the .mpy files
of an app set, unpacked by update.py) and `state`, a small JSON object:
  current   the slot to run ("a", "b"; absent: the built-in set);
  previous  the slot to roll back to (absent: the built-in set);
  version, prior   their versions ("0": the built-in set);
  trial     boots started by `current` without a healthy push yet (absent
            once update.confirm() has seen one);
  boots     how many such boots before the rollback;
  failed    the version rolled back (update.py does not fetch it again).
The state is replaced whole (a temporary file renamed over it), so a power
cut leaves the old state or the new one.
"""

import json
import os
import sys

ROOT = "/update"
BOOTS = 3
_chosen = [ROOT, None]


def take_root(argv):
    """(root, the other arguments): "--update DIR" taken out of argv."""
    argv = list(argv)
    if "--update" in argv[:-1]:
        index = argv.index("--update")
        root = argv[index + 1]
        del argv[index:index + 2]
        return root, argv
    return ROOT, argv


def root():
    """The root the last select() used."""
    return _chosen[0]


def read(root):
    """The state under root ({} when there is none or it cannot be read)."""
    try:
        with open(root + "/state") as file:
            state = json.load(file)
    except Exception:
        return {}
    return state if isinstance(state, dict) else {}


def write(root, state):
    path = root + "/state"
    with open(path + ".tmp", "w") as file:
        file.write(json.dumps(state))
    try:
        os.rename(path + ".tmp", path)
    except OSError:
        # A file system whose rename does not replace (FAT): the state is
        # briefly absent, which boots the built-in set, never a broken one.
        os.remove(path)
        os.rename(path + ".tmp", path)


def select(root=ROOT):
    """Count a boot of a slot on trial, roll back one out of boots, and put
    the slot to run first on sys.path. Returns the slot (None: built-in)."""
    _chosen[0] = root
    state = read(root)
    slot = state.get("current")
    trial = state.get("trial")
    if slot is not None and trial is not None:
        if trial >= state.get("boots", BOOTS):
            print("update: version %s had no healthy push in %d boots; rolling back"
                  % (state.get("version"), trial))
            return _back(root, state)
        state["trial"] = trial + 1
        write(root, state)
        print("update: version %s on trial, boot %d of %d" % (
            state.get("version"), trial + 1, state.get("boots", BOOTS)))
    return _use(root, slot)


def rollback(root=None):
    """Leave the running slot for the previous set (its app failed to
    import, say). False when the built-in set is running: nothing to leave."""
    root = root or _chosen[0]
    slot = _chosen[1]
    if slot is None:
        return False
    sys.path.remove(root + "/" + slot)
    for name in os.listdir(root + "/" + slot):
        sys.modules.pop(name.split(".")[0], None)
    _back(root, read(root))
    return True


def _back(root, state):
    back = {"version": state.get("prior", "0"), "failed": state.get("version")}
    if state.get("previous") is not None:
        back["current"] = state["previous"]
    write(root, back)
    return _use(root, back.get("current"))


def _use(root, slot):
    _chosen[1] = slot
    if slot is not None:
        sys.path.insert(0, root + "/" + slot)
    return slot
