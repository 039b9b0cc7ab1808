"""Run an ASGI app on a real port: in the foreground for `veo31 emulate`, or in a thread for tests."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


class ServerThread:
    """An app served by uvicorn on 127.0.0.1 in a background thread; port 0 picks a free port.

    Use it as a context manager: it is listening when `__enter__` returns and stopped after `__exit__`.
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        # A helper beside other code in one process (tests, the benches' shop): the standard loop and parser.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", access_log=False, loop="asyncio", http="h11"
        )
        self.server = uvicorn.Server(config)
        self.host = host
        self._thread = threading.Thread(target=self.server.run, name=f"uvicorn-{host}:{port}", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.host} did not start")
            time.sleep(0.01)
        return self.url

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_forever(app: ASGIApp, *, host: str, port: int) -> None:
    """Serve `app` in the foreground until interrupted. On uvloop and httptools (the event loop and the HTTP parser
    in C): the server's one interpreter lock is shared by the answers and every workflow, and with them a catalogue's
    products started faster while each status read waited less (docs/performance.md)."""
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, loop="uvloop", http="httptools")
