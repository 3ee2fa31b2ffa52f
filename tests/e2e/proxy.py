"""A TCP proxy in front of the scheduler that counts what a client sends through it."""

from __future__ import annotations

import socket
import threading


class CountingProxy:
    """Forwards 127.0.0.1:<port> to the scheduler; `sent` bytes from clients, and the first
    line of each connection (the CLI opens one per request)."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.sent, self.requests = 0, []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.sent, self.requests = 0, []

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            left = [2]  # pumps still running; the last one closes both sockets
            for args in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(*args, left), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool, left: list) -> None:
        first = upstream
        try:
            while data := src.recv(1 << 20):
                if upstream:
                    with self.lock:
                        self.sent += len(data)
                        if first:
                            self.requests.append(data.split(b"\r\n", 1)[0].decode(errors="replace"))
                            first = False
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self.lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                src.close()
                dst.close()
