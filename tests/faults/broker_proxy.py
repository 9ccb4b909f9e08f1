"""A TCP forwarder in front of the real broker, that a test closes and opens again.

Closing it drops every connection through it and refuses new ones, as a broker that went away
would, for everyone pointed at it (the test process publishing, the worker consuming, beat);
opening it again on the same port is the broker coming back. The broker itself, shared by
everyone on the machine, is never touched."""

import socket
import threading
from urllib.parse import urlsplit, urlunsplit

ACCEPT_POLL_SECONDS = 0.2
CHUNK = 65536


class BrokerProxy:
    def __init__(self, broker_url: str):
        parts = urlsplit(broker_url)
        self._upstream = (parts.hostname, parts.port)
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port = _free_port()
        credentials = parts.netloc.rpartition("@")[0]
        host = f"127.0.0.1:{self.port}"
        netloc = f"{credentials}@{host}" if credentials else host
        self.url = urlunsplit(parts._replace(netloc=netloc))

    @property
    def is_open(self) -> bool:
        return self._listener is not None

    def open(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL_SECONDS)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self):
        """Refuse new connections and cut every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            _cut(conn)

    def _accept(self, listener: socket.socket):
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                _cut(client)
                continue
            for conn in (client, upstream):
                conn.settimeout(None)
            with self._lock:
                self._connections |= {client, upstream}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket):
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        pass
    finally:
        _cut(source)
        _cut(target)


def _cut(conn: socket.socket):
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
