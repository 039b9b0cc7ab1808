"""Google's two surfaces for Veo 3.1, each behind the same small `Transport` (../shared/specs/gemini-veo31-api.md).

- **Vertex AI** through Google's `google-genai` SDK in Vertex mode (express-mode API key, or a project and
  location with application-default / service-account credentials). Results come back as bytes inside the
  operation.
- **The Gemini API** over plain REST on our httpx seam (`predictLongRunning`, the operation by name, the file
  download), since the SDK refuses `generate_videos` there (spec §4a). The key travels in `x-goog-api-key` and
  only to the configured host: never in a URL, never along a redirect to another host.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from veo31.config import Settings
from veo31.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    ProviderConnectionError,
)
from veo31.providers._http import (
    LastByteHeld,
    build_http_client,
    parse_retry_after,
    stream_to_file,
    translate_transport_error,
)
from veo31.providers.base import ImageInput
from veo31.providers.gemini.errors import LABEL, PROVIDER, map_google_http_error
from veo31.providers.gemini.ops import Operation, VeoRequest, Video, read_rest_operation, rest_body

T = TypeVar("T")
OPERATION_NAME = re.compile(r"^[A-Za-z0-9._/-]+/operations/[A-Za-z0-9._-]+$")


# -- the Gemini API, over REST ----------------------------------------------------------------------------------


class GeminiApiTransport:
    surface = "gemini-api"

    def __init__(self, base_url: str, api_key: SecretStr, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.http = build_http_client(timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiApiTransport:
        if settings.gemini_api_key is None:
            raise ConfigurationError("the Gemini API needs GEMINI_API_KEY")
        return cls(settings.gemini_base_url, settings.gemini_api_key, timeout=settings.http_timeout)

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self._key.get_secret_value()}

    async def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        paid: bool = False,
        json: Any = None,
        model: str | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> Any:
        held = LastByteHeld(json, before_send)
        try:
            response = await self.http.request(
                method, f"{self.base_url}/{path}", follow_redirects=False, **held.request(self._headers())
            )
        except httpx.HTTPError as exc:
            # Cut off before its last byte, the request never arrived whole: no operation can exist.
            may_exist = paid and held.may_have_arrived
            raise translate_transport_error(
                exc, provider=PROVIDER, label=LABEL, action=action, paid=may_exist
            ) from None
        body = _json_or_none(response)
        if response.status_code != 200:
            raise map_google_http_error(
                response.status_code, body, action=action, model=model, retry_after=_retry_delay(response, body)
            )
        if not isinstance(body, dict):
            raise ProviderConnectionError(
                f"{LABEL} answered the request to {action} with something that is not JSON",
                provider=PROVIDER,
                task_may_exist=paid,
            )
        return body

    async def start(self, veo: VeoRequest, before_send: Callable[[], None] | None = None) -> str:
        body = await self._call(
            "POST",
            f"v1beta/models/{veo.model}:predictLongRunning",
            json=rest_body(veo),
            action="start the video",
            paid=True,
            model=veo.model,
            before_send=before_send,  # written while Google still lacks the request's last byte
        )
        name = body.get("name")
        if not isinstance(name, str) or not OPERATION_NAME.match(name):
            raise ProviderConnectionError(
                f"{LABEL} accepted the video but named no operation", provider=PROVIDER, task_may_exist=True
            )
        return name

    async def operation(self, name: str) -> Operation:
        return read_rest_operation(await self._call("GET", f"v1beta/{name}", action="read the operation"))

    async def check_model(self, model: str) -> None:
        await self._call("GET", f"v1beta/models/{model}", action="check the model", model=model)

    async def download(self, uri: str, target: Path, *, max_bytes: int) -> int:
        """The key goes only to the configured host; a redirect elsewhere (a storage host) is followed without it."""
        return await stream_to_file(
            self.http.timeout,
            uri,
            target,
            provider=PROVIDER,
            label=LABEL,
            max_bytes=max_bytes,
            headers=self._headers(),
            headers_origin=self.base_url,
        )

    async def aclose(self) -> None:
        await self.http.aclose()


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_delay(response: httpx.Response, body: Any) -> float | None:
    """Google's RetryInfo (`"retryDelay": "12s"` in the error details), else a Retry-After header."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                continue
    return parse_retry_after(response.headers.get("retry-after"))


# -- Vertex AI, through the google-genai SDK ---------------------------------------------------------------------


class VertexTransport:
    surface = "vertex"

    def __init__(
        self,
        *,
        api_key: SecretStr | None,
        project: str | None,
        location: str,
        base_url: str | None,
        timeout: float,
    ) -> None:
        self._key = api_key
        self.project = project
        self.location = location
        self.base_url = base_url
        self.timeout = timeout
        self._sdk: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> VertexTransport:
        return cls(
            api_key=settings.google_api_key,
            project=settings.google_cloud_project,
            location=settings.google_cloud_location,
            base_url=settings.vertex_base_url,
            timeout=settings.http_timeout,
        )

    def _client(self) -> Any:
        """The SDK client, made on first use (credentials are looked up then, not at start-up)."""
        if self._sdk is None:
            from google.auth.exceptions import GoogleAuthError
            from google.genai import types

            from google import genai

            options = types.HttpOptions(
                base_url=self.base_url,
                timeout=int(self.timeout * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),  # retries are ours, with our rules for paid calls
            )
            try:
                if self._key is not None:
                    self._sdk = genai.Client(vertexai=True, api_key=self._key.get_secret_value(), http_options=options)
                else:
                    self._sdk = genai.Client(
                        vertexai=True, project=self.project, location=self.location, http_options=options
                    )
            except (GoogleAuthError, ValueError) as exc:
                raise AuthenticationError(
                    f"Vertex AI credentials could not be loaded ({type(exc).__name__}): set GOOGLE_API_KEY, or "
                    "GOOGLE_APPLICATION_CREDENTIALS for a service account",
                    provider=PROVIDER,
                ) from None
        return self._sdk

    async def _sdk_call(self, call: Callable[[], Awaitable[T]], *, action: str, paid: bool, model: str | None) -> T:
        import httpx2
        from google.auth.exceptions import GoogleAuthError
        from google.genai import errors

        try:
            return await call()
        except errors.APIError as exc:
            raise map_google_http_error(exc.code, exc.details, action=action, model=model) from None
        except (httpx.HTTPError, httpx2.HTTPError) as exc:
            # The SDK speaks httpx2, a fork with httpx's exception names: read it as its httpx twin.
            twin = exc if isinstance(exc, httpx.HTTPError) else getattr(httpx, type(exc).__name__, httpx.TransportError)
            same = twin if isinstance(twin, httpx.HTTPError) else twin(str(exc))
            raise translate_transport_error(same, provider=PROVIDER, label=LABEL, action=action, paid=paid) from None
        except GoogleAuthError as exc:
            raise AuthenticationError(
                f"Vertex AI refused the credentials ({type(exc).__name__}); check GOOGLE_API_KEY or the service "
                "account",
                provider=PROVIDER,
            ) from None

    async def start(self, veo: VeoRequest, before_send: Callable[[], None] | None = None) -> str:
        from google.genai import types

        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=veo.duration_seconds,
            aspect_ratio=veo.aspect_ratio,
            resolution=veo.resolution,
            negative_prompt=veo.negative_prompt,
            person_generation=veo.person_generation,
            seed=veo.seed,
            last_frame=_sdk_image(veo.last_frame) if veo.last_frame else None,
            reference_images=[
                types.VideoGenerationReferenceImage(image=_sdk_image(ref), reference_type="ASSET")
                for ref in veo.references
            ]
            or None,
        )
        source = types.GenerateVideosSource(prompt=veo.prompt, image=_sdk_image(veo.image) if veo.image else None)
        client = self._client()
        if before_send is not None:
            before_send()  # the SDK sends the request whole: the marker goes just before it
        operation = await self._sdk_call(
            lambda: client.aio.models.generate_videos(model=veo.model, source=source, config=config),
            action="start the video",
            paid=True,
            model=veo.model,
        )
        if not operation.name:
            raise ProviderConnectionError(
                f"{LABEL} accepted the video but named no operation", provider=PROVIDER, task_may_exist=True
            )
        return str(operation.name)

    async def operation(self, name: str) -> Operation:
        from google.genai import types

        client = self._client()
        sdk_operation = await self._sdk_call(
            lambda: client.aio.operations.get(types.GenerateVideosOperation(name=name)),
            action="read the operation",
            paid=False,
            model=None,
        )
        return _from_sdk(sdk_operation, name)

    async def check_model(self, model: str) -> None:
        client = self._client()
        await self._sdk_call(
            lambda: client.aio.models.get(model=model), action="check the model", paid=False, model=model
        )

    async def download(self, uri: str, target: Path, *, max_bytes: int) -> int:
        raise InvalidRequestError(f"Vertex AI results are read inline; {uri} cannot be fetched", provider=PROVIDER)

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.aio.aclose()


def _sdk_image(image: ImageInput | None) -> Any:
    from google.genai import types

    if image is None:
        return None
    return types.Image(image_bytes=image.content, mime_type=image.mime_type)


def _from_sdk(operation: Any, name: str) -> Operation:
    """The SDK's GenerateVideosOperation in our normalised shape."""
    response = operation.response or operation.result
    videos: list[Video] = []
    reasons: tuple[str, ...] = ()
    count = 0
    if response is not None:
        for generated in response.generated_videos or []:
            video = generated.video
            if video is None:
                continue
            if video.video_bytes:
                data = video.video_bytes
                if isinstance(data, str):
                    data = base64.b64decode(data)
                videos.append(Video(data=data, mime_type=video.mime_type or "video/mp4"))
            elif video.uri:
                videos.append(Video(uri=video.uri, mime_type=video.mime_type or "video/mp4"))
        reasons = tuple(response.rai_media_filtered_reasons or ())
        count = response.rai_media_filtered_count or len(reasons)
    return Operation(
        name=str(operation.name or name),
        done=bool(operation.done),
        error=dict(operation.error) if operation.error else None,
        videos=tuple(videos),
        rai_count=count,
        rai_reasons=reasons,
        raw={"name": operation.name, "done": operation.done, "error": operation.error},
    )
