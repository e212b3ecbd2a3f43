"""The app's own update, from a content the vendor publishes (tools/release).

    updater = Updater(profile["update"])    # update.content_id names the content
    updater.after_push(app)                  # App.push calls it after every push

After a healthy push it confirms a set on trial (boot_select keeps no
rollback for it then). Every `every_pushes` pushes it reads the content's
info: when its meta's version (`version=1.2 sha256=<hex>`) is newer than the
running one and is not the one rolled back last, it downloads the package
(uonep.content: resumable, checked against the sha256 the meta must carry),
unpacks it into the slot not running, and writes boot_select's state to run
that slot, on trial, from the next boot. A power cut at any write leaves
the state as it was (the slot in use untouched) or the new one (the slot
complete): the next check starts again from what the flash kept.

The package: a line "uonep-app 1", then for each file a line "NAME SIZE"
and its SIZE bytes; NAME is a path in the slot (letters, digits, _ . - /,
no ..).
"""

import json
import os

import boot_select

MAGIC = b"uonep-app 1"
PACKAGE = "package"
_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/"
# Copy buffer: a LittleFS block's quarter, whatever the package's size.
_PIECE = 1024


class PackageError(ValueError):
    """A package that is not one (bad header, name or size)."""


def version_key(text):
    """"1.10.2" -> (1, 10, 2); None when it is not dotted whole numbers."""
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return None


def newer(candidate, running):
    key, base = version_key(candidate), version_key(running)
    return key is not None and (base is None or key > base)


def confirm(root):
    """The running set pushed: no rollback for it any more. True if it was on trial."""
    state = boot_select.read(root)
    if "trial" not in state:
        return False
    del state["trial"]
    boot_select.write(root, state)
    return True


def stage(client, vendor, model, content_id, root, boots=boot_select.BOOTS):
    """Fetch and unpack a newer version into the idle slot, switch to it
    from the next boot; its version, or None when there is nothing newer
    (or a set is still on trial)."""
    state = boot_select.read(root)
    package = root + "/" + PACKAGE
    if "trial" in state:
        _forget(package)
        return None
    described = client.content_info(vendor, model, content_id)
    fields = _fields(described["meta"])
    version = fields.get("version")
    running = state.get("version", "0")
    if not newer(version, running) or version == state.get("failed"):
        _forget(package)
        return None
    if "sha256" not in fields:
        raise PackageError("the update's meta has no sha256=: refused unchecked")
    _makedirs(root)
    client.content_download(vendor, model, content_id, package)
    slot = "b" if state.get("current") == "a" else "a"
    unpack(package, root + "/" + slot)
    switched = {"current": slot, "version": version, "prior": running, "trial": 0,
                "boots": boots}
    if state.get("current") is not None:
        switched["previous"] = state["current"]
    boot_select.write(root, switched)
    os.remove(package)
    return version


def _forget(package):
    """What a check cut short left (a package, a partial download): the
    version it was for is running, on trial or refused."""
    for path in (package, package + ".part", package + ".state"):
        try:
            os.remove(path)
        except OSError:
            pass


def unpack(package, folder):
    """The package's files into folder, emptied first; their count."""
    _empty(folder)
    buffer = bytearray(_PIECE)
    count = 0
    with open(package, "rb") as source:
        if source.readline().rstrip() != MAGIC:
            raise PackageError("not an app package")
        line = source.readline()
        while line:
            name, size = _entry(line)
            path = folder + "/" + name
            _makedirs(path.rsplit("/", 1)[0])
            with open(path, "wb") as target:
                _copy(source, target, size, buffer)
            count += 1
            line = source.readline()
    return count


def _entry(line):
    try:
        name, size = line.decode().split()
        size = int(size)
    except ValueError:
        raise PackageError("a file entry is not NAME SIZE")
    if size < 0 or ".." in name or name.startswith("/") or \
            [character for character in name if character not in _NAME_CHARACTERS]:
        raise PackageError("a file entry with a bad name or size")
    return name, size


def _copy(source, target, size, buffer):
    view = memoryview(buffer)
    while size:
        count = source.readinto(view[:min(size, len(buffer))])
        if not count:
            raise PackageError("the package ends inside a file")
        target.write(view[:count])
        size -= count


def _fields(meta):
    from uonep.content import meta_fields
    return meta_fields(meta)


def _empty(folder):
    """Remove everything under folder, leave it there empty."""
    try:
        names = os.listdir(folder)
    except OSError:
        _makedirs(folder)
        return
    for name in names:
        path = folder + "/" + name
        if os.stat(path)[0] & 0x4000:
            _empty(path)
            os.rmdir(path)
        else:
            os.remove(path)


def _makedirs(path):
    if not path or path in ("/", ".") or _exists(path):
        return
    _makedirs(path.rsplit("/", 1)[0] if "/" in path else "")
    os.mkdir(path)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class Updater:
    """The app's update job (profile section "update")."""

    def __init__(self, section):
        self.content_id = section["content_id"]
        self.every = section["every_pushes"]
        self.boots = section["boots"]
        self.pushes = 0
        self.on_trial = True

    def after_push(self, app):
        """Confirm, then (every `every` pushes) look for a newer version;
        whatever fails is logged and left for the next time."""
        root = boot_select.root()
        try:
            if self.on_trial:
                self.on_trial = False
                if confirm(root):
                    app.log("update: version %s confirmed by a healthy push" %
                            boot_select.read(root).get("version"))
            self.pushes += 1
            if (self.pushes - 1) % self.every:
                return
            secrets = app.secrets or {}
            version = stage(app.client, secrets.get("vendor") or app.profile["vendor"],
                            secrets.get("model") or app.profile["model"], self.content_id,
                            root, self.boots)
            if version is not None:
                app.log("update: version %s ready in %s; it runs from the next boot" % (
                    version, json.dumps(boot_select.read(root).get("current"))))
        except Exception as failure:
            app.log("update: not now (%s: %s)" % (type(failure).__name__, failure))
