"""A throwaway certificate authority for https on loopback."""

import os.path
import ssl


def make_server_context(host, directory):
    """Return (server ssl.SSLContext, path of the CA certificate PEM).

    The CA and a certificate for `host` (plus the loopback names) are made
    in memory by trustme; nothing goes over the network. The CA certificate
    is written to `directory` for clients (``verify=``, ``cafile=``).
    """
    import trustme  # imported here: only https layers need it
    ca = trustme.CA(organization_name='gocept.httplayer test CA')
    names = [host] + [
        name for name in ('127.0.0.1', '::1', 'localhost') if name != host]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    ca_pem = os.path.join(directory, 'ca.pem')
    ca.cert_pem.write_to_path(ca_pem)
    return context, ca_pem
