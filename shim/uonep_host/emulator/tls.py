"""HTTPS for the emulator: a server certificate made at start by trustme
(a throwaway CA, its certificate handed to the clients that should trust
it), or your own certificate and key files.

    context, ca_pem = server_context("127.0.0.1")           # made now
    context, ca_pem = server_context(certfile="c.pem", keyfile="k.pem")   # ca_pem None
"""

import ssl

# Names the made certificate is valid for, besides the listening address.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def server_context(host="127.0.0.1", certfile=None, keyfile=None):
    """(a server-side SSLContext, the PEM of the CA that signed its
    certificate, or None when the certificate comes from certfile)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if certfile is not None:
        context.load_cert_chain(certfile, keyfile)
        return context, None
    try:
        import trustme
    except ImportError:
        raise RuntimeError("the emulator makes its TLS certificate with trustme: "
                           "pip install trustme, or give certfile and keyfile") from None
    authority = trustme.CA()
    names = list(LOOPBACK_NAMES) + ([host] if host not in LOOPBACK_NAMES else [])
    authority.issue_cert(*names).configure_cert(context)
    return context, authority.cert_pem.bytes()
