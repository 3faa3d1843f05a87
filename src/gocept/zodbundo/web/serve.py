"""`zodb-undo serve`: the pages on waitress, until Ctrl-C or SIGTERM."""
import ipaddress
import secrets
import signal
import socket

import waitress
import zc.lockfile

import gocept.zodbundo.cli
import gocept.zodbundo.web
import gocept.zodbundo.web.security


LOCKED = ('{} is locked by another process (the application?): committing'
          ' needs that process stopped, or the database served through ZEO'
          ' or RelStorage. Browsing works read-only.')


def parse_listen(text):
    """(host, port) of `HOST:PORT` or `[IPV6]:PORT`; UsageError if bad."""
    host, sep, port = text.rpartition(':')
    if not sep or not port.isdigit() or int(port) > 65535 or not host:
        raise gocept.zodbundo.cli.UsageError(
            '--listen {!r}: expected HOST:PORT such as 127.0.0.1:8080'
            .format(text))
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    return host, int(port)


def is_loopback(host):
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _netloc(host, port):
    return '[{}]:{}'.format(host, port) if ':' in host else '{}:{}'.format(
        host, port)


def allowed_hosts(host, port):
    """Host header values that name this server (no DNS names but ours)."""
    hosts = {_netloc(host, port)}
    if is_loopback(host):
        hosts.update(_netloc(h, port)
                     for h in ('localhost', '127.0.0.1', '::1'))
    return hosts


def _open(args, open_db):
    """(db, reason committing is impossible or None)."""
    if not args.allow_commit:
        return open_db(args, False), None
    try:
        return open_db(args, True), None
    except zc.lockfile.LockError:
        return open_db(args, False), LOCKED.format(args.file or 'The file')


def _bind(host, port):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        raise gocept.zodbundo.cli.CommandError(
            'cannot listen on {}: {}'.format(_netloc(host, port), e)) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise gocept.zodbundo.cli.CommandError(
            'cannot listen on {}: {}'.format(
                _netloc(host, port), e.strerror or e)) from None
    return sock


def _stop(signum, frame):
    raise KeyboardInterrupt()


def serve(args, open_db, stdout, stderr):
    """Run the server until interrupted; return the exit code (0)."""
    host, port = parse_listen(args.listen)
    credentials = None
    if args.password_file:
        try:
            credentials = gocept.zodbundo.web.security.read_password_file(
                args.password_file)
        except ValueError as e:
            raise gocept.zodbundo.cli.UsageError(str(e)) from None
    if not is_loopback(host):
        if credentials is None:
            raise gocept.zodbundo.cli.UsageError(
                '--listen {}: not a loopback address; give --password-file'
                ' too (or use an SSH tunnel to 127.0.0.1)'.format(
                    args.listen))
        stderr.write(
            'zodb-undo: warning: {} is reachable from other machines and'
            ' the traffic (password included) is not encrypted; prefer an'
            ' SSH tunnel or a TLS proxy.\n'.format(args.listen))
    sock = _bind(host, port)
    try:
        db, reason = _open(args, open_db)
    except BaseException:
        sock.close()
        raise
    try:
        port = sock.getsockname()[1]
        token = secrets.token_urlsafe(32)
        app = gocept.zodbundo.web.make_app(
            db, token, allowed_hosts(host, port),
            allow_commit=args.allow_commit, credentials=credentials,
            cookie_name='zodbundo_token_{}'.format(port),
            read_only_reason=reason)
        server = waitress.create_server(
            app, sockets=[sock], ident='zodb-undo',
            clear_untrusted_proxy_headers=True)
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            if reason:
                stderr.write('zodb-undo: {}\n'.format(reason))
            stdout.write('Open http://{}/?token={}\n'.format(
                _netloc(host, port), token))
            stdout.write('Stop with Ctrl-C.\n')
            stdout.flush()
            try:
                server.run()
            except KeyboardInterrupt:
                pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.close()
    finally:
        sock.close()
        db.close()
    return gocept.zodbundo.cli.OK
