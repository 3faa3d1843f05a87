"""Threaded loopback server core shared by gocept.httplayer and wsgilayer.

Unlike ``socketserver``'s ``serve_forever`` (which polls every 0.5 s for a
shutdown request), the accept loop sleeps in a selector and is woken through
a socket pair, so ``stop()`` takes about a millisecond.  Every connection is
served by a worker thread of its own; a worker whose connection ended waits
for the next one (starting a thread costs more than serving a request), and
``close_connections()`` and ``stop()`` end and join them all. Idle
keep-alive connections are ended by shutting down the reading side of
their socket. A worker stuck in user code (a handler callable, a WSGI app)
cannot be ended: it is abandoned after the grace and reported in ``hung``.
"""

import _socket
import contextlib
import logging
import queue
import selectors
import socket
import ssl
import threading
import time

import gocept.httplayer.http11


log = logging.getLogger(__name__)

PLAIN_HTTP_TO_HTTPS = (
    b'HTTP/1.0 400 Bad Request\r\n'
    b'Content-Type: text/plain; charset=utf-8\r\n'
    b'Connection: close\r\n'
    b'\r\n'
    b'This server speaks https only: use %s\r\n')

# Errors a connection ends with when its client or stop() goes away, or a
# client refuses our certificate; they are no failures of the handler.
CONNECTION_GONE = (ConnectionError, TimeoutError, ssl.SSLError)


def _shutdown(sock, how):
    """Shut `sock` down on the TCP level, also for an ssl.SSLSocket.

    ``SSLSocket.shutdown`` would drop the TLS state, breaking a response
    that is still being written; the plain socket method leaves it alone.
    """
    try:
        _socket.socket.shutdown(sock, how)
    except OSError:
        pass  # already closed or never connected


class Server:
    """Serve `handler_class` on a loopback port in tracked threads.

    ``handler_class`` is a ``socketserver.BaseRequestHandler`` subclass; it
    is instantiated like socketserver does, as ``handler_class(socket,
    client_address, server)``, so ``self.server`` is this object and
    ``self.server.context`` what the caller passed as `context`.

    A handler that waits (a delayed response) should call
    ``self.server.sleep(seconds)``, so that ``stop()`` need not wait for it.
    A handler that calls user code should do so within
    ``self.server.running(description)``: should that code still run when
    the connections are closed, it is not waited for but reported in
    ``hung``.
    """

    # How long stop() lets an in-flight request finish before shutting its
    # socket down, and how long it then waits for each thread to end.
    request_grace = 1.0
    join_timeout = 5.0
    # How long a new https connection may take to send its first byte and
    # to finish the TLS handshake.
    handshake_timeout = 5.0
    backlog = 128

    def __init__(self, handler_class, host='127.0.0.1', port=0,
                 ssl_context=None, context=None):
        if not callable(handler_class):
            raise ValueError(
                'The `handler_class` argument must be a request handler'
                f' class, got {handler_class!r}.')
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(
                f'The `port` argument must be an int in 0..65535, got'
                f' {port!r}.')
        self.handler_class = handler_class
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.context = context
        self.errors = []
        # One line a handler still running in user code when its
        # connection was closed; the owner reports and clears it.
        self.hung = []
        # Connections stop() had to cut off because their request did not
        # finish within `request_grace`.
        self.forced_shutdowns = 0
        self.stopping = threading.Event()
        self._listener = None
        self._wake_read = self._wake_write = None
        self._selector = None
        self._accept_thread = None
        self._lock = threading.Lock()
        self._wakeup = threading.Condition()
        self._generation = 0  # counts close_connections() calls
        self._closing = 0  # close_connections() calls under way
        # Sockets accepted and not yet closed, to the thread serving them.
        self._connections = {}
        self._threads = set()  # every worker thread until joined
        self._running = {}  # thread -> description, see running()
        self._abandoned = set()  # hung threads that must end, not idle
        # Idle workers wait on the hand-off queue; (None, None) ends one.
        self._handoff = queue.SimpleQueue()
        self._idle = 0
        self._retiring = 0  # workers end instead of idling while > 0
        self._started = False

    # socketserver compatible names handlers may read
    @property
    def server_address(self):
        return (self.host, self.port)

    @property
    def server_name(self):
        return self.host

    @property
    def server_port(self):
        return self.port

    @property
    def address(self):
        if ':' in self.host:
            return f'[{self.host}]:{self.port}'
        return f'{self.host}:{self.port}'

    @property
    def url(self):
        scheme = 'https' if self.ssl_context is not None else 'http'
        return f'{scheme}://{self.address}'

    def resources(self):
        """Return the resources a layer offers for this server."""
        return {
            'http_host': self.host,
            'http_port': self.port,
            'http_address': self.address,
            'http_url': self.url,
        }

    def start(self):
        """Bind, listen and start serving; listening when this returns."""
        if self._started:
            raise RuntimeError('The server has already been started.')
        self._started = True
        try:
            self._bind()
            self._wake_read, self._wake_write = socket.socketpair()
            self._selector = selectors.DefaultSelector()
            self._selector.register(self._listener, selectors.EVENT_READ)
            self._selector.register(self._wake_read, selectors.EVENT_READ)
            self._accept_thread = threading.Thread(
                target=self._accept_loop, daemon=True,
                name=f'gocept.httplayer accept {self.address}')
            self._accept_thread.start()
        except BaseException:
            self.stop()
            raise

    def _bind(self):
        try:
            listener = self._listen()
        except OSError as error:
            # The bare "Address already in use" does not say which.
            raise type(error)(
                error.errno, f'Cannot listen on {self.address}:'
                f' {error.strerror or error}') from error
        self._listener = listener
        self.port = listener.getsockname()[1]

    def _listen(self):
        # getaddrinfo resolves the name forwards only; HTTPServer.server_bind
        # would also call getfqdn(), a reverse lookup that can take seconds.
        family, type_, proto, _, sockaddr = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM,
            flags=socket.AI_PASSIVE)[0]
        listener = socket.socket(family, type_, proto)
        try:
            # Lets the next server bind the port at once, even while closed
            # connections of this one linger in TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(sockaddr)
            listener.listen(self.backlog)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        return listener

    def _accept_loop(self):
        while not self.stopping.is_set():
            for key, _ in self._selector.select():
                if key.fileobj is self._listener:
                    self._accept()

    def _accept(self):
        try:
            conn, client_address = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # the client gave up before we got to it
        except OSError as error:
            # Out of file descriptors, say: the connection waits in the
            # backlog; keep serving the others and try again shortly.
            log.warning('Cannot accept on %s: %s', self.address, error)
            self.stopping.wait(0.05)
            return
        conn.setblocking(True)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            # The handler may write head and body separately; without this
            # the body waits for the client's delayed ACK (40 ms).
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._connections[conn] = None
            if self._idle:
                self._idle -= 1
                self._handoff.put((conn, client_address))
                return
            # Forget threads that ended, so a long run stays small.
            self._threads = {t for t in self._threads if t.is_alive()}
            thread = threading.Thread(
                target=self._work, args=(conn, client_address), daemon=True,
                name=f'gocept.httplayer worker {self.address}')
            self._threads.add(thread)
        thread.start()

    def _work(self, conn, client_address):
        thread = threading.current_thread()
        while conn is not None:
            self._serve_connection(conn, client_address)
            with self._lock:
                if thread in self._abandoned:
                    self._abandoned.discard(thread)
                    return
                if self._retiring or self.stopping.is_set():
                    return
                self._idle += 1
            conn, client_address = self._handoff.get()

    def _serve_connection(self, conn, client_address):
        with self._lock:
            if conn in self._connections:
                self._connections[conn] = threading.current_thread()
        try:
            if self.ssl_context is not None:
                conn = self._wrap_tls(conn)
            if conn is not None:
                self.handler_class(conn, client_address, self)
        except CONNECTION_GONE:
            pass
        except Exception as error:
            if not self.stopping.is_set():
                self.handle_error(error, client_address)
        finally:
            if conn is not None:
                with self._lock:
                    self._connections.pop(conn, None)
                conn.close()

    def _wrap_tls(self, conn):
        """Return the TLS socket, or None after answering a plain client."""
        conn.settimeout(self.handshake_timeout)
        first = conn.recv(1, socket.MSG_PEEK)
        if first == gocept.httplayer.http11.TLS_HANDSHAKE:
            with self._lock:
                # wrap_socket detaches `conn`; stop() must see the new one.
                thread = self._connections.pop(conn, None)
                conn = self.ssl_context.wrap_socket(
                    conn, server_side=True, do_handshake_on_connect=False)
                self._connections[conn] = thread
            try:
                conn.do_handshake()
            except BaseException:
                with self._lock:
                    self._connections.pop(conn, None)
                conn.close()
                raise
            conn.settimeout(None)
            return conn
        if first:
            # A plain http client: tell it so instead of letting it hang or
            # see a bare connection reset.
            conn.sendall(PLAIN_HTTP_TO_HTTPS % self.url.encode('ascii'))
            _shutdown(conn, socket.SHUT_WR)
        with self._lock:
            self._connections.pop(conn, None)
        conn.close()
        return None

    def sleep(self, seconds):
        """Wait `seconds`, less if close_connections() or stop() is called."""
        with self._wakeup:
            generation = self._generation
            self._wakeup.wait_for(
                lambda: self._closing or self._generation != generation,
                seconds)

    @contextlib.contextmanager
    def running(self, description):
        """Mark the calling worker as running user code `description`.

        `description` (str) names the request and the code, e.g.
        ``'GET /x (stub GET /x)'``; it is what ``hung`` reports.
        """
        thread = threading.current_thread()
        with self._lock:
            self._running[thread] = (description, time.monotonic())
        try:
            yield
        finally:
            with self._lock:
                self._running.pop(thread, None)

    def handle_error(self, error, client_address):
        """Record an exception a handler raised; it is also logged."""
        self.errors.append(error)
        log.error('Error serving %s on %s', client_address, self.address,
                  exc_info=error)

    def stop(self):
        """Stop serving, end every connection and join every thread.

        Idempotent; safe to call after a failed start().
        """
        self.stopping.set()
        if self._wake_write is not None:
            try:
                self._wake_write.send(b'x')
            except OSError:
                pass
        if self._accept_thread is not None:
            self._accept_thread.join(self.join_timeout)
            self._accept_thread = None
        if self._selector is not None:
            self._selector.close()
        for sock in (self._listener, self._wake_read, self._wake_write):
            if sock is not None:
                sock.close()
        self._listener = self._wake_read = self._wake_write = None
        self._selector = None
        self.close_connections()

    def close_connections(self):
        """End every open connection and join its thread; keep listening.

        A layer calls this between tests, so no connection thread of one
        test is alive in the next.
        """
        with self._wakeup:
            self._generation += 1
            self._closing += 1
            self._wakeup.notify_all()
        with self._lock:
            self._retiring += 1
            for _ in range(self._idle):
                self._handoff.put((None, None))
            self._idle = 0
        try:
            self._end_connections()
        finally:
            with self._lock:
                self._retiring -= 1
            with self._wakeup:
                self._closing -= 1

    def _end_connections(self):
        # Shutting down the reading side wakes an idle keep-alive handler
        # (it reads end of file and returns) but lets a handler that is
        # writing its response finish it.
        with self._lock:
            for sock in self._connections:
                _shutdown(sock, socket.SHUT_RD)
        deadline = time.monotonic() + self.request_grace
        for thread in self._live_threads():
            thread.join(max(0, deadline - time.monotonic()))
        with self._lock:
            for sock in self._connections:
                self.forced_shutdowns += 1
                _shutdown(sock, socket.SHUT_RDWR)
        # A thread in socket I/O ends now; one in user code would not.
        deadline = time.monotonic() + self.join_timeout
        while True:
            self._abandon_hung()
            threads = self._live_threads()
            if not threads or time.monotonic() >= deadline:
                break
            threads[0].join(min(0.05, max(0, deadline - time.monotonic())))
        for thread in threads:
            log.warning('%s did not end within %s s', thread.name,
                        self.join_timeout)
        with self._lock:
            self._threads = {t for t in self._threads if t.is_alive()}

    def _abandon_hung(self):
        now = time.monotonic()
        with self._lock:
            for thread, (description, since) in list(self._running.items()):
                if not thread.is_alive():
                    continue
                del self._running[thread]
                self._threads.discard(thread)
                self._abandoned.add(thread)
                for sock, owner in list(self._connections.items()):
                    if owner is thread:
                        del self._connections[sock]
                text = (f'{description}: still running after'
                        f' {now - since:.1f} s when its connection was'
                        f' closed; it was cut off and abandoned')
                self.hung.append(text)
                log.warning('%s on %s', text, self.address)

    def _live_threads(self):
        with self._lock:
            return [t for t in self._threads if t.is_alive()]
