"""The one seam between provider clients and the network.

Builds the pooled `httpx.AsyncClient` every client uses, holds the retry policy as data, and translates
httpx's exceptions into our error tree, so no `httpx.*Error` leaves `providers/`.

Whether a failed call may be repeated depends on one question: could the provider have received it?
A connection that was never made cannot have created a task; a request that was sent and then timed out
or was cut off may have, and for a paid call that is an uncertain submission, never retried blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from veo31 import __version__
from veo31.errors import (
    ProviderConnectionError,
    ProviderError,
    RateLimitedError,
    ResultExpiredError,
    SubmissionUncertainError,
)
from veo31.media import processes

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

USER_AGENT = f"veo31/{__version__} httpx/{httpx.__version__}"

# Raised before a single byte of the request left this machine: safe to repeat, even for a paid call.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

_RNG = random.Random()  # our own, so jitter never touches the global generator others rely on


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a call is repeated.

    Delays grow as `base_delay * 2**(attempt-1)`, capped at `max_delay`, with up to `jitter` of each delay
    taken off at random so that many clients do not retry in step. A server's `Retry-After` wins over the
    computed delay; one longer than `max_retry_after` is not waited for but handed to the caller.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.25
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None when waiting makes no sense."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        computed = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return computed * (1 - _RNG.uniform(0, self.jitter))


NO_RETRY = RetryPolicy(max_attempts=1)
KEEPALIVE_SECONDS = 2.0


def build_http_client(
    *, timeout: float | httpx.Timeout, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """One pooled client per provider client: a timeout on every call, redirects followed, our User-Agent."""
    return httpx.AsyncClient(
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        transport=transport,
        # An idle connection is dropped after 2 s, before the server's own keep-alive ends (uvicorn's is 5 s, as was
        # httpx's default): one reused at the moment the server closes it loses the request mid-way, and a paid
        # submission lost that way cannot be told from one that arrived, so it waits as uncertain.
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_SECONDS),
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):  # not seconds: perhaps an HTTP date
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def translate_transport_error(
    exc: httpx.HTTPError, *, provider: str, label: str, action: str, paid: bool, logs: str = "the provider's logs"
) -> ProviderError:
    """Turn an httpx failure into our error; a paid call that may have arrived becomes uncertain (`logs`: where a
    person looks to see whether it made a task)."""
    if isinstance(exc, _NOT_SENT):
        return ProviderConnectionError(
            f"could not reach {label} to {action} ({type(exc).__name__}); "
            "check the network and the base URL setting, then try again",
            provider=provider,
        )
    if paid:
        return SubmissionUncertainError(
            f"{label} did not answer the request to {action} ({_describe(exc)}) after it was sent, "
            f"so a task may have been created and charged. Check {logs} "
            "before submitting again; veo31 will not resend it on its own",
            provider=provider,
        )
    return ProviderConnectionError(
        f"{label} did not answer the request to {action} ({_describe(exc)}); it is safe to try again",
        provider=provider,
    )


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped"
    return type(exc).__name__


class LastByteHeld:
    """A JSON request's body whose last byte waits for `before_last_byte` (the durable "maybe sent" marker).

    An HTTP server acts on a request only once its whole body (Content-Length bytes) has arrived. Holding the last
    byte back until the marker is written means: a crash before the marker leaves a request the provider never
    received whole (no task, safe to send again), and a crash after it leaves a task that may exist. The window in
    which no task exists yet veo31 cannot know it shrinks from the whole send (connect, headers, body; long under
    load) to the instant between the marker's commit and one socket write. With no `before_last_byte` (a call that
    creates nothing) the body is sent as plain JSON.
    """

    def __init__(self, body: object, before_last_byte: Callable[[], None] | None) -> None:
        self._body = body
        self._before_last_byte = before_last_byte
        self._released = False

    def request(self, headers: dict[str, str]) -> dict[str, Any]:
        """The body and `headers` as keyword arguments for `httpx.AsyncClient.request`."""
        if self._before_last_byte is None:
            return {"json": self._body, "headers": headers}
        content = json.dumps(self._body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        length = {"Content-Type": "application/json", "Content-Length": str(len(content))}
        return {"content": self._stream(content, self._before_last_byte), "headers": {**headers, **length}}

    @property
    def may_have_arrived(self) -> bool:
        """Whether a send that failed could have delivered the whole request: not if it died before the marker."""
        return self._before_last_byte is None or self._released

    async def _stream(self, content: bytes, before_last_byte: Callable[[], None]) -> AsyncIterator[bytes]:
        yield content[:-1]
        before_last_byte()
        self._released = True
        yield content[-1:]


async def call_with_retries(
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    should_retry: Callable[[ProviderError], bool],
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run `operation`, repeating it on errors `should_retry` accepts, as `policy` allows."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await operation()
        except ProviderError as exc:
            if not should_retry(exc):
                raise
            retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
            delay = policy.delay(attempt, retry_after)
            if delay is None:
                raise
            await sleep(delay)


async def stream_to_file(
    limits: httpx.Timeout,
    url: str,
    target: Path,
    *,
    provider: str,
    label: str,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    headers_origin: str | None = None,
) -> int:
    """Stream `url` into `target` (created or replaced); returns its size. A dead link is `ResultExpiredError`.

    With `headers_origin`, redirects are followed here and `headers` (a key) go only to URLs of that origin, so
    a redirect to a storage host never carries the key along.

    `limits` are the provider client's own timeouts. The bytes move through a blocking client in a media process
    (veo31.media.processes): streamed through the event loop, a large video held a core's attention and every API
    answer waited behind it; in threads of this process they still fought the API for the interpreter lock
    (bench/retrieve.py; docs/performance.md).
    """
    download = functools.partial(
        _stream_to_file_blocking,
        limits,
        url,
        target,
        provider=provider,
        label=label,
        max_bytes=max_bytes,
        headers=headers,
        headers_origin=headers_origin,
    )
    return await processes.run(download)


def _stream_to_file_blocking(
    timeout: httpx.Timeout,
    url: str,
    target: Path,
    *,
    provider: str,
    label: str,
    max_bytes: int,
    headers: dict[str, str] | None,
    headers_origin: str | None,
) -> int:
    try:
        with httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, verify=_tls()) as client:
            for _ in range(6):
                sent = headers if headers_origin is None or same_origin(url, headers_origin) else None
                with client.stream("GET", url, headers=sent, follow_redirects=headers_origin is None) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = str(response.url.join(response.headers["location"]))
                        continue
                    return _save(response, target, label=label, provider=provider, max_bytes=max_bytes)
    except httpx.HTTPError as exc:
        raise translate_transport_error(
            exc, provider=provider, label=label, action="download the video", paid=False
        ) from None
    raise ProviderConnectionError(f"{label}'s video link redirected too many times", provider=provider)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every download: building one loads the CA bundle, tens of ms with the GIL held."""
    return httpx.create_ssl_context()


def _save(response: httpx.Response, target: Path, *, label: str, provider: str, max_bytes: int) -> int:
    if response.status_code in (403, 404, 410):
        raise ResultExpiredError(
            f"{label}'s link to the video no longer works (HTTP {response.status_code})", provider=provider
        )
    if response.status_code != 200:
        raise ProviderConnectionError(
            f"{label} answered HTTP {response.status_code} for the video download", provider=provider
        )
    size = 0
    with target.open("wb") as sink:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ProviderConnectionError(
                    f"{label}'s video is larger than {max_bytes // (1024 * 1024)} MB",
                    provider=provider,
                    retryable=False,
                )
            sink.write(chunk)
    return size


def same_origin(url: str, base: str) -> bool:
    one, two = urlsplit(url), urlsplit(base)
    return (one.scheme, one.netloc.lower()) == (two.scheme, two.netloc.lower())
