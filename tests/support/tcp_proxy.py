"""A TCP proxy on 127.0.0.1 in front of a server, that can be told to misbehave: ``stall`` (accept
connections, read what comes, never answer nor forward) or ``refuse`` (stop listening)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class TcpProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.mode = "forward"
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._socks: list[socket.socket] = []
        self.connections = 0
        # Called with every chunk a client sends (to watch for a request and act on it); when it
        # returns True, that connection stalls from then on (the others go on).
        self.on_data: Callable[[bytes], bool | None] | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._socks.append(client)
            if self.mode == "stall":
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._socks.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _swallow(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while sock.recv(65536):
                pass

    def _pipe(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        stalled = False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self.on_data is not None and self.on_data(data):
                    stalled = True
                    dst.sendall(data[: len(data) // 2])  # half of it goes through
                while stalled or self.mode == "stall":  # the connection stops mid-way
                    if self._closed.wait(0.1):
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for s in self._socks:
            with contextlib.suppress(OSError):
                s.close()
