"""The Kie.ai Veo 3.1 client, exact to ../shared/specs/kie-veo31-api.md.

Endpoints: `/api/v1/veo/generate`, `record-info`, `get-1080p-video`, `get-4k-video`, `extend`,
`/api/v1/chat/credit`, `/api/v1/common/download-url`, and the upload host's stream / base64 / URL uploads.
(Not `/v1/video/task/{id}`: the old system's status path is in no version of Kie's docs.)

Paid calls (generate, extend, 4K) are repeated only when Kie cannot have created a task: the connection
was never made, Kie answered 429 ("rejected, not queued") or 455 (maintenance). Everything else that might
have reached Kie ends in a typed error — `SubmissionUncertainError` when the outcome is unknown. Reads are
retried with backoff, jitter and `Retry-After`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from veo31.config import Settings
from veo31.domain import ProviderStatus, ProviderTask
from veo31.errors import (
    ConfigurationError,
    ProviderConnectionError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
)
from veo31.providers._http import (
    LastByteHeld,
    RetryPolicy,
    Sleep,
    build_http_client,
    call_with_retries,
    parse_retry_after,
    translate_transport_error,
)
from veo31.providers.kie.errors import LABEL, LOGS, PROVIDER, envelope_code, garbled, http_error, map_kie_error
from veo31.providers.kie.requests import (
    Kie4kResult,
    KieAspectRatio,
    KieExtendModel,
    KieExtendRequest,
    KieGenerateRequest,
    KieGenerationType,
    KieModel,
    KieResolution,
    KieUpload,
    build,
    upload_from,
)
from veo31.providers.kie.status import as_url_list, read_kie_status, task_id_of

# Kie documents no Retry-After; 20 requests per 10 s means a 429 clears within 10 s at most.
DEFAULT_RATE_LIMIT_WAIT = 10.0
# Shorter "keys" (test placeholders) would match ordinary words; real Kie keys are 32 hex characters.
_MIN_SCRUBBED_KEY = 8


@dataclass(frozen=True)
class _Envelope:
    http_status: int
    code: int | None
    message: str
    data: Any
    body: Any
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.code == 200 and self.http_status < 400


class KieClient:
    """Async client for Kie.ai's Veo 3.1 API. One connection pool per client; close it with `aclose()`."""

    def __init__(
        self,
        api_key: SecretStr | str | None,
        *,
        base_url: str = "https://api.kie.ai",
        upload_base_url: str = "https://kieai.redpandaai.co",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        credit_usd: float | None = None,
    ) -> None:
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        if not key or not key.strip():
            raise ConfigurationError(
                "KIE_API_KEY is not set: put your Kie.ai key (https://kie.ai/api-key) in the environment or .env"
            )
        self._key = key.strip()
        self.base_url = base_url.rstrip("/")
        self.upload_base_url = upload_base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.credit_usd = credit_usd  # what one credit costs: a record's consumed credits become a cost in US$
        self._http = build_http_client(timeout=timeout, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> KieClient:
        return cls(
            settings.kie_api_key,
            base_url=settings.kie_base_url,
            upload_base_url=settings.kie_upload_base_url,
            timeout=settings.http_timeout,
            credit_usd=settings.kie_credit_usd,
            **kwargs,
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The client's pooled connection, for downloading results from Kie's public file hosts."""
        return self._http

    def __repr__(self) -> str:
        return f"KieClient(base_url={self.base_url!r}, upload_base_url={self.upload_base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> KieClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- generation ---------------------------------------------------------------------------------------

    async def generate(
        self,
        prompt: str,
        *,
        model: KieModel = "veo3_fast",
        image_urls: list[str] | tuple[str, ...] = (),
        generation_type: KieGenerationType | None = None,
        aspect_ratio: KieAspectRatio = "16:9",
        resolution: KieResolution | None = None,
        seeds: int | None = None,
        watermark: str | None = None,
        enable_translation: bool = True,
        callback_url: str | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> ProviderTask:
        """Start one Veo 3.1 task (paid). Returns its task id; never sends the request twice if Kie may have it."""
        request = build(
            KieGenerateRequest,
            prompt=prompt,
            model=model,
            image_urls=tuple(image_urls),
            generation_type=generation_type,
            aspect_ratio=aspect_ratio,
            resolution=resolution,
            seeds=seeds,
            watermark=watermark,
            enable_translation=enable_translation,
            callback_url=callback_url,
        )
        data = await self._call(
            "POST",
            "/api/v1/veo/generate",
            json=request.to_body(),
            paid=True,
            action="start a generation",
            before_send=before_send,
        )
        return ProviderTask(PROVIDER, self._require_task_id(data, "generate"))

    async def record_info(self, task_id: str) -> ProviderStatus:
        """The authoritative status of any Veo task (generation, extension, 1080p, 4K)."""
        envelope = await self._envelope(
            "GET", "/api/v1/veo/record-info", params={"taskId": task_id}, action="read a task's status"
        )
        self._raise_unless_ok(envelope)
        status = read_kie_status(envelope.body, credit_usd=self.credit_usd)
        return status if status.task_id else dataclasses.replace(status, task_id=task_id)

    async def extend(
        self,
        task_id: str,
        prompt: str,
        *,
        model: KieExtendModel = "fast",
        seeds: int | None = None,
        watermark: str | None = None,
        callback_url: str | None = None,
    ) -> ProviderTask:
        """Extend a finished video (paid); poll the new task with `record_info`."""
        request = build(
            KieExtendRequest,
            task_id=task_id,
            prompt=prompt,
            model=model,
            seeds=seeds,
            watermark=watermark,
            callback_url=callback_url,
        )
        data = await self._call(
            "POST", "/api/v1/veo/extend", json=request.to_body(), paid=True, action="extend a video"
        )
        return ProviderTask(PROVIDER, self._require_task_id(data, "extend"))

    async def get_1080p_video(self, task_id: str, *, index: int = 0) -> str | None:
        """The 1080p version's URL, or None while Kie is still making it (ask again in 20–30 s)."""
        envelope = await self._envelope(
            "GET",
            "/api/v1/veo/get-1080p-video",
            params={"taskId": task_id, "index": index},
            action="get the 1080p video",
        )
        if envelope.code == 400 and "processing" in envelope.message.lower():
            return None
        self._raise_unless_ok(envelope)
        data = envelope.data
        urls = as_url_list(data.get("resultUrl")) if isinstance(data, Mapping) else ()
        urls = urls or (as_url_list(data.get("resultUrls")) if isinstance(data, Mapping) else ())
        if not urls:
            raise UnavailableError(
                "Kie.ai reported the 1080p video ready but gave no link; ask again shortly", provider=PROVIDER
            )
        return urls[0]

    async def get_4k_video(self, task_id: str, *, index: int = 0, callback_url: str | None = None) -> Kie4kResult:
        """Start (paid, once) or check the 4K upgrade. A repeated call answers 422 with where it stands."""
        body: dict[str, Any] = {"taskId": task_id, "index": index}
        if callback_url:
            body["callBackUrl"] = callback_url
        envelope = await self._envelope(
            "POST", "/api/v1/veo/get-4k-video", json=body, paid=True, action="start the 4K upgrade"
        )
        data = envelope.data if isinstance(envelope.data, Mapping) else {}
        message = envelope.message.lower()
        if envelope.code == 422 and "processing" in message:
            return Kie4kResult("processing", task_id=task_id_of(envelope.body))  # the id, where Kie gives it
        if envelope.code == 422 and "success" in message:
            return Kie4kResult(
                "done", video_urls=as_url_list(data.get("resultUrls")), image_urls=as_url_list(data.get("imageUrls"))
            )
        self._raise_unless_ok(envelope)
        return Kie4kResult("started", task_id=task_id_of(envelope.body))

    # -- account and files --------------------------------------------------------------------------------

    async def credits(self) -> float:
        """The remaining credit balance (free to call; a good health check)."""
        data = await self._call("GET", "/api/v1/chat/credit", action="read the credit balance")
        if isinstance(data, Mapping):
            data = next((data[key] for key in ("credits", "balance", "remaining", "credit") if key in data), None)
        if isinstance(data, int | float) and not isinstance(data, bool):
            return float(data)
        if isinstance(data, str):
            with contextlib.suppress(ValueError):  # not a number: no balance, said below
                return float(data)
        raise UnavailableError("Kie.ai answered the credit check without a balance", provider=PROVIDER)

    async def download_url(self, url: str) -> str:
        """A fresh 20-minute link for a Kie-generated file whose original link no longer works."""
        data = await self._call(
            "POST", "/api/v1/common/download-url", json={"url": url}, action="refresh a download link"
        )
        links = as_url_list(data)
        if not links:
            raise UnavailableError("Kie.ai gave no fresh download link", provider=PROVIDER)
        return links[0]

    async def upload_file(
        self, content: bytes | Path, *, upload_path: str = "images/veo31", file_name: str | None = None
    ) -> KieUpload:
        """Upload a local file (multipart stream upload) and return its public URL."""
        payload = await asyncio.to_thread(content.read_bytes) if isinstance(content, Path) else content
        name = file_name or (content.name if isinstance(content, Path) else _name_for(payload))
        form = {"uploadPath": upload_path.strip("/")}
        if file_name:
            form["fileName"] = file_name
        data = await self._call(
            "POST",
            "/api/file-stream-upload",
            host=self.upload_base_url,
            data=form,
            files={"file": (name, payload)},
            action="upload a file",
        )
        return upload_from(data)

    # -- callbacks ----------------------------------------------------------------------------------------

    @staticmethod
    def parse_callback(payload: Any) -> ProviderStatus:
        """A callback's body as a status. Only a hint: confirm with `record_info` before acting on it."""
        return read_kie_status(payload)

    # -- transport ----------------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, *, action: str, paid: bool = False, **kwargs: Any) -> Any:
        envelope = await self._envelope(method, path, action=action, paid=paid, **kwargs)
        self._raise_unless_ok(envelope)
        return envelope.data

    async def _envelope(
        self,
        method: str,
        path: str,
        *,
        action: str,
        paid: bool = False,
        host: str | None = None,
        before_send: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> _Envelope:
        url = f"{host or self.base_url}{path}"
        should_retry = _paid_retry if paid else _read_retry

        async def once() -> _Envelope:
            call = dict(kwargs)
            held = LastByteHeld(call.pop("json", None), before_send)
            call.update(held.request({"Authorization": f"Bearer {self._key}"}))
            try:
                response = await self._http.request(method, url, **call)
            except httpx.HTTPError as exc:
                # Cut off before its last byte, the request never arrived whole: no task can exist.
                may_exist = paid and held.may_have_arrived
                error = translate_transport_error(
                    exc, provider=PROVIDER, label=LABEL, action=action, paid=may_exist, logs=LOGS
                )
                raise self._scrub(error) from None
            envelope = self._read_envelope(response, paid=paid, action=action)
            if not envelope.ok:
                error = self._error_of(envelope)
                if should_retry(error):
                    raise error
            return envelope

        return await call_with_retries(once, self.retry, should_retry=should_retry, sleep=self._sleep)

    def _read_envelope(self, response: httpx.Response, *, paid: bool, action: str) -> _Envelope:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping) or envelope_code(body) is None:
            if response.status_code >= 400:
                text = body if body is not None else response.text
                raise self._scrub(http_error(response.status_code, text, retry_after))
            raise self._scrub(garbled(paid=paid, action=action))
        code = envelope_code(body)
        if (response.status_code == 429 or code == 429) and retry_after is None:
            retry_after = DEFAULT_RATE_LIMIT_WAIT
        message = str(body.get("msg") or body.get("message") or "")
        return _Envelope(response.status_code, code, message, body.get("data"), body, retry_after)

    def _error_of(self, envelope: _Envelope) -> ProviderError:
        return self._scrub(map_kie_error(envelope.http_status, envelope.body, retry_after=envelope.retry_after))

    def _raise_unless_ok(self, envelope: _Envelope) -> None:
        if not envelope.ok:
            raise self._error_of(envelope)

    def _require_task_id(self, data: Any, action: str) -> str:
        task_id = task_id_of({"data": data})
        if not task_id:
            raise self._scrub(garbled(paid=True, action=action))
        return task_id

    def _scrub(self, error: ProviderError) -> ProviderError:
        """Kie's messages are quoted in our errors; make sure none of them can carry the key back out."""
        if len(self._key) >= _MIN_SCRUBBED_KEY and self._key in error.message:
            error.message = error.message.replace(self._key, "***")
            error.args = (error.message,)
        return error


def _name_for(content: bytes) -> str:
    """A file name with the extension the content really has; Kie detects the type itself, but keeps the name."""
    for magic, extension in ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "webp")):
        if content.startswith(magic):
            return f"upload.{extension}"
    return "upload.bin"


def _read_retry(error: ProviderError) -> bool:
    """Reads are free and change nothing: repeat them on every transient failure."""
    return isinstance(error, RateLimitedError | UnavailableError | ProviderConnectionError) and error.retryable


def _paid_retry(error: ProviderError) -> bool:
    """Only what proves no task exists: never connected, 429 (rejected, not queued), 455 (maintenance)."""
    if error.task_may_exist:
        return False
    if isinstance(error, RateLimitedError):
        return error.retryable
    if isinstance(error, UnavailableError):
        return error.code == 455
    return isinstance(error, ProviderConnectionError)
