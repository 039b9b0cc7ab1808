"""A provider stand-in for the "maybe sent" marker: it shows how much of a paid request had arrived when the
client wrote its marker, and can cut the connection mid-body."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable

KIE_ANSWER = b'{"code":200,"msg":"success","data":{"taskId":"task-whole"}}'
GOOGLE_ANSWER = b'{"name":"models/veo-3.1-fast-generate-preview/operations/op-whole"}'


def note_marker(markers: list[bool]) -> Callable[[], None]:
    """A `before_send` that only notes each time it is called."""
    return lambda: markers.append(True)


class LoopbackServer:
    """A bare HTTP/1.1 server on loopback: its accept loop runs in a thread and hands each connection to
    `handle`, which subclasses write."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.handle(connection)

    def handle(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def send_answer(self, connection: socket.socket, *, close: bool) -> None:
        """`answer` as a 200 JSON response; with `close`, saying the connection ends after it."""
        ending = b"Connection: close\r\n" if close else b""
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + ending
            + f"Content-Length: {len(self.answer)}\r\n\r\n".encode()
            + self.answer
        )

    def close(self) -> None:
        self._server.close()


class HeldBackServer(LoopbackServer):
    """A bare TCP server in a thread that answers a provider's paid request with `answer` (JSON) and counts the
    body bytes it has received, so a test can see what the provider holds at the moment the client writes its
    "maybe sent" marker. With `hang_up_after`, it resets the connection once that many body bytes are in, as a
    dying network would."""

    def __init__(self, answer: bytes, hang_up_after: int | None = None) -> None:
        self.received = 0
        self.length: int | None = None
        self.requests = 0
        self.hang_up_after = hang_up_after
        self.at_marker: list[tuple[int, int | None]] = []  # (body bytes received, Content-Length) at each marker
        super().__init__(answer)

    def marker(self) -> None:
        """A `before_send` that notes how much of the request the server holds when the client writes its marker."""
        deadline = time.monotonic() + 5  # let everything sent so far arrive (it never includes the last byte)
        while (self.length is None or self.received < self.length - 1) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # a last byte sent too early would show up here
        self.at_marker.append((self.received, self.length))

    def handle(self, connection: socket.socket) -> None:
        with connection:
            if not self._one(connection):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST

    def _one(self, connection: socket.socket) -> bool:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = connection.recv(65536)
            if not chunk:
                return True
            head += chunk
        header, _, body = head.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        self.length = int(next(line.split(":", 1)[1] for line in lines if line.lower().startswith("content-length")))
        self.received = len(body)
        while self.received < self.length:
            if self.hang_up_after is not None and self.received >= self.hang_up_after:
                return False
            chunk = connection.recv(65536)
            if not chunk:
                return True
            self.received += len(chunk)
        self.requests += 1
        self.send_answer(connection, close=True)
        return True


class KeepAliveServer(LoopbackServer):
    """A bare HTTP/1.1 server that keeps connections open and counts them, so a test can see when a client
    reuses a connection and when it opens a new one. Every GET gets `answer` (JSON)."""

    def __init__(self, answer: bytes) -> None:
        self.connections = 0
        super().__init__(answer)

    def handle(self, connection: socket.socket) -> None:
        self.connections += 1
        threading.Thread(target=self._answer_all, args=(connection,), daemon=True).start()

    def _answer_all(self, connection: socket.socket) -> None:
        with connection:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                _, _, pending = pending.partition(b"\r\n\r\n")  # GETs only: no body follows the head
                self.send_answer(connection, close=False)
