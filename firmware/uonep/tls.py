"""What uonep.http needs for TLS: the client context, with the CA
certificates of `verify` (True: the shipped ca.der next to this module; a
path; PEM/DER bytes; False: no check), and what a failure of a request
means. uonep.http loads this module for a TLS connection (or to explain a
failure) and drops it after, so its code is not in a board's heap between
connections; plain HTTP that goes well never loads it."""

from .errors import CertificateError, TransportError


def context(verify):
    """A TLS client context checking chain and host name against the CA
    certificates of verify, or nothing when verify is False."""
    # Here, not at the top: plain HTTP connects without ssl (on the unix
    # port it is a frozen module a MICROPYPATH may leave out).
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # (The ESP32 stubs lack the attributes MicroPython's ssl.SSLContext has.)
    if verify is False:
        context.check_hostname = False  # type: ignore[attr-defined]
        context.verify_mode = ssl.CERT_NONE  # type: ignore[attr-defined]
        return context
    context.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]
    # The shipped CA set: ca.der next to this module.
    source = __file__.rsplit("/", 1)[0] + "/ca.der" if verify is True else verify
    try:
        rest = source
        if isinstance(source, str):
            # A file's DER certificates one at a time (mbedTLS on
            # MicroPython takes one per call).
            with open(source, "rb") as stream:
                head = stream.read(4)
                while head[:2] == b"\x30\x82":
                    context.load_verify_locations(cadata=head + stream.read(head[2] << 8 | head[3]))
                    head = stream.read(4)
                rest = head + stream.read() or None
        if rest is not None:
            # PEM text, or DER bytes: rare, read by uonep.builders.
            from .builders import certificates
            certificates(context, rest)
    except (OSError, ValueError):
        raise CertificateError("cannot read the CA certificates of verify=%s" % (
            source if isinstance(source, str) else "<bytes>"))
    return context


def failure(host, error):
    """The TransportError (a CertificateError for a refused certificate)
    of something other than a uonep error that failed a request to host."""
    if isinstance(error, ValueError):
        # How mbedTLS and CPython's ssl report a refused certificate.
        return CertificateError("%s: TLS certificate refused (%s), not a network "
                                "failure" % (host, " ".join(str(error).split())))
    return TransportError("%s: %s %s" % (host, type(error).__name__, error))
