"""Content for devices: what the vendor published for this device's model
(configuration, certificates, firmware), listed, described and downloaded
from GET /provision/download as the client's CIK. Client.content_list,
content_info and content_download load this module on first use.

A download reaches `path` whole and checked, or not at all:
- the blob comes in Range requests of `chunk` bytes (CHUNK by default;
  it must fit the HTTP client's max_response), each written to
  path + ".part" and flushed as it arrives: one chunk in RAM, whatever
  the size;
- path + ".state", written before the first byte, names the content
  (vendor, model, id) and its size, updated time and meta. A later call for the same content
  resumes after the bytes on flash (after a reset, a dropped connection,
  any error); a content that changed meanwhile starts over, never spliced;
- once complete, the content's info is read again (changed: start over),
  the size is checked, and the sha256 when the content's meta names one
  (meta words `name=value`, separated by spaces, commas or semicolons:
  `sha256=<64 hex>`; without hashlib, the size alone). Then the part file
  is renamed to `path` and the state file removed.
A failed check deletes both files and raises ContentError.
"""

import os

from .dataapi import request
from .errors import ContentError, HTTPError, ProtocolError, ValidationError
from .provision import form_quote

PATH = "/provision/download"
# Bytes per Range request: a fraction of uonep.http's 16 KB answer cap,
# one LittleFS block of an ESP32.
CHUNK = 4096


def content_list(client, vendor, model):
    """The ids of the content this device may download: [id, ...]."""
    text = _decode(_get(client, _query(vendor, model)))
    return [line.strip() for line in text.split("\n") if line.strip()]


def content_info(client, vendor, model, content_id):
    """{"type", "size", "updated", "meta"} of one content: its MIME type,
    byte size, Unix time of its last upload and the vendor's meta text."""
    text = _decode(_get(client, _query(vendor, model, content_id) + "&info=true"))
    found = text.rstrip("\r\n").split(",", 3)
    try:
        size, updated = int(found[1]), int(found[2])
    except (IndexError, ValueError):
        raise ProtocolError("the content's info is not type,size,updated,meta")
    if size < 0:
        raise ProtocolError("the content's info gives a negative size")
    return {"type": found[0], "size": size, "updated": updated,
            "meta": found[3] if len(found) > 3 else ""}


def meta_fields(meta):
    """{name: value} of the `name=value` words of a content's meta (words
    separated by spaces, commas or semicolons; other words are skipped)."""
    found = {}
    for word in meta.replace(",", " ").replace(";", " ").split():
        name, equals, value = word.partition("=")
        if equals:
            found[name] = value
    return found


def content_download(client, vendor, model, content_id, path, chunk=CHUNK):
    """Download a content to `path` (see the module's docstring); returns
    its size in bytes."""
    if not isinstance(path, str) or not path:
        raise ValidationError("path must be a non-empty string")
    if type(chunk) is not int or chunk < 1:
        raise ValidationError("chunk must be an int from 1")
    described = content_info(client, vendor, model, content_id)
    size = described["size"]
    digest = meta_fields(described["meta"]).get("sha256")
    part, state = path + ".part", path + ".state"
    blob = _query(vendor, model, content_id)
    try:
        # The stamp names the content too: another one to the same path never resumes.
        done = _resume(part, state, blob + " " + _stamp(described), size)
        with open(part, "ab") as file:
            while done < size:
                done += _fetch(client, blob, file, done, min(done + chunk, size) - 1, size)
        if _stamp(content_info(client, vendor, model, content_id)) != _stamp(described):
            _discard(part, state, "the content changed during the download", True)
        _check(part, state, size, digest, chunk)
        _replace(part, path)
        os.remove(state)
    except OSError as failure:
        # The partial download stays for the next call (free some flash first).
        raise ContentError("cannot write %s: %s" % (path, failure))
    return size


def _fetch(client, blob, file, first, last, size):
    """Write bytes first..last of the blob to file; their count."""
    status, body = request(client, "GET", blob, {"Range": "bytes=%d-%d" % (first, last)})
    if status == 200 and not first:
        # A server that ignores Range answers the whole blob.
        last = size - 1
    elif status == 416:
        raise ContentError("the content shrank during the download", True)
    elif status != 206:
        raise _refused(status)
    if len(body) != last - first + 1:
        raise ProtocolError("a Range answer of %d bytes for %d" % (len(body), last - first + 1))
    file.write(body)
    # On LittleFS only a flushed write survives a reset.
    file.flush()
    return len(body)


def _resume(part, state, stamp, size):
    """Bytes of this content already in the part file: its length when the
    state file names the same content, else 0 (both files started anew)."""
    try:
        with open(state) as file:
            if file.read() == stamp:
                length = os.stat(part)[6]
                if length <= size:
                    return length
    except OSError:
        pass
    _remove(part)
    with open(state, "w") as file:
        file.write(stamp)
    return 0


def _check(part, state, size, digest, chunk):
    length = os.stat(part)[6]
    if length != size:
        _discard(part, state, "the download has %d bytes, the content %d" % (length, size))
    if digest is not None:
        found = _sha256(part, chunk)
        if found is not None and found != digest.lower():
            _discard(part, state, "the download's sha256 is not its meta's")


def _sha256(part, chunk):
    """The hex sha256 of a file read a chunk at a time; None without hashlib."""
    try:
        import hashlib
    except ImportError:
        return None
    import binascii
    hasher = hashlib.sha256()
    buffer = bytearray(min(chunk, 4096))
    view = memoryview(buffer)
    with open(part, "rb") as file:
        count = file.readinto(buffer)
        while count:
            hasher.update(view[:count])
            count = file.readinto(buffer)
    return binascii.hexlify(hasher.digest()).decode()


def _replace(part, path):
    try:
        os.rename(part, path)
    except OSError:
        # A file system whose rename does not replace (FAT): `path` is
        # briefly absent then, never half-written.
        os.remove(path)
        os.rename(part, path)


def _discard(part, state, message, retryable=False):
    _remove(part)
    _remove(state)
    raise ContentError(message, retryable)


def _remove(name):
    try:
        os.remove(name)
    except OSError:
        pass


def _stamp(described):
    """What names one version of a content, for the state file."""
    return "%d %d %s" % (described["size"], described["updated"], described["meta"])


def _get(client, path):
    status, answer = request(client, "GET", path)
    if status == 204:
        return b""
    if status != 200:
        raise _refused(status)
    return answer


def _refused(status):
    if status == 404:
        return HTTPError(404, "no such content for this device")
    return HTTPError(status)


def _query(vendor, model, content_id=None):
    for name, value in (("vendor", vendor), ("model", model)):
        if not isinstance(value, str) or not value:
            raise ValidationError("%s must be a non-empty string" % name)
    query = "%s?vendor=%s&model=%s" % (PATH, form_quote(vendor), form_quote(model))
    if content_id is None:
        return query
    if not isinstance(content_id, str) or not content_id or "/" in content_id:
        raise ValidationError("a content id is a non-empty string without /")
    return query + "&id=" + form_quote(content_id)


def _decode(answer):
    try:
        return bytes(answer).decode("utf-8")
    except ValueError:
        raise ProtocolError("a provisioning answer that is not UTF-8 text")
