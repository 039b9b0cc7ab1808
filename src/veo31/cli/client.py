"""Where the CLI's work goes: the pipeline in this process (the embedded default) or a running server (`--server`).

Both answer with the same plain dicts — the fields of `GET /v1/generations/{id}` the CLI uses — so every command
is written once. Videos are written to their destination under a temporary name and moved into place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx

from veo31.config import Settings
from veo31.domain import Generation, GenerationSpec, Status
from veo31.errors import ConflictError, InputError, NotFoundError, Veo31Error, advice_for
from veo31.finishing.brand import BrandKit
from veo31.pipeline import lifecycle as pipeline
from veo31.pipeline.brand_kits import Upload
from veo31.pipeline.deliverables import Finish
from veo31.pipeline.intake import UploadedImage
from veo31.pipeline.review import Verdict
from veo31.pipeline.service import GenerationService
from veo31.providers.registry import label_of
from veo31.store.brand_kits import StoredKit

SETTLED = {status.value for status in Status if status.settled}  # nothing more happens without a person


class Client(Protocol):
    async def create(
        self, spec: GenerationSpec, images: Sequence[tuple[str, bytes]], urls: Sequence[str], key: str | None
    ) -> dict[str, Any]: ...

    async def get(self, generation_id: str) -> dict[str, Any]: ...

    def watch(self, generation_id: str) -> AsyncIterator[dict[str, Any]]: ...

    async def list(self, status: str | None, limit: int) -> list[dict[str, Any]]: ...

    async def total_cost(self, status: str | None) -> float: ...

    async def cancel(self, generation_id: str) -> dict[str, Any]: ...

    async def review(self, generation_id: str, verdict: str, note: str | None) -> dict[str, Any]: ...

    async def deliver(
        self, generation_id: str, presets: Sequence[str], finish: Finish = Finish()
    ) -> list[dict[str, Any]]: ...

    async def save_kit(self, fields: dict[str, Any], upload: Upload, kit_id: str | None) -> dict[str, Any]: ...

    async def kits(self) -> list[dict[str, Any]]: ...

    async def fetch(self, generation_id: str) -> dict[str, Any]: ...

    async def save_video(self, generation: dict[str, Any], target: Path) -> None: ...

    async def save_task_video(self, task_id: str, target: Path) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


def public(generation: Generation) -> dict[str, Any]:
    label = label_of(generation.provider)
    error = None
    if generation.error_kind or generation.error_message:
        error = {
            "kind": generation.error_kind,
            "message": generation.error_message,
            "advice": advice_for(generation.error_kind, label),
        }
    return {
        "id": generation.id,
        "status": generation.status.value,
        "provider": generation.provider,
        "provider_label": label,
        "provider_task_id": generation.provider_task_id,
        "spec": generation.spec.model_dump(mode="json"),
        "prompt": generation.prompt,
        "history": [{"status": c.status.value, "at": c.at.isoformat(), "detail": c.detail} for c in generation.history],
        "error": error,
        "video": generation.video_info,
        "cost": {
            "estimate_usd": generation.cost_estimate_usd,
            "reported_usd": generation.cost_usd,
            "basis": generation.cost_basis,
        },
        "quality": generation.quality,
        "preset": generation.preset,
        "attempts": len(generation.attempts),
        "created_at": generation.created_at.isoformat(),
        "download_name": generation.download_name("mp4"),
    }


class LocalClient:
    """The pipeline running inside this process, on the settings' database and data folder."""

    def __init__(self, service: GenerationService) -> None:
        self.service = service

    @classmethod
    async def start(cls, settings: Settings, *, worker: bool = True) -> LocalClient:
        return cls(GenerationService(await pipeline.start(settings, worker=worker)))

    def public(self, generation: Generation) -> dict[str, Any]:
        """As the API shows it, with the URL `veo31 serve` on these settings serves the video at."""
        shown = public(generation)
        settings = self.service.settings
        base = settings.public_url or f"http://{settings.host}:{settings.port}"
        if generation.status.settled and generation.video_key:
            shown["video_url"] = f"{base}/v1/generations/{generation.id}/video"
        return shown

    async def create(
        self, spec: GenerationSpec, images: Sequence[tuple[str, bytes]], urls: Sequence[str], key: str | None
    ) -> dict[str, Any]:
        uploads = [UploadedImage(content, name) for name, content in images]
        created = await self.service.create(spec, uploads=uploads, image_urls=urls, idempotency_key=key)
        return self.public(created.generation)

    async def get(self, generation_id: str) -> dict[str, Any]:
        return self.public(await self.service.get(await self.service.resolve(generation_id)))

    async def watch(self, generation_id: str) -> AsyncIterator[dict[str, Any]]:
        async for generation in self.service.watch(generation_id):
            yield self.public(generation)

    async def list(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        items, _ = await self.service.list(status=Status(status) if status else None, limit=limit)
        return [self.public(item) for item in items]

    async def total_cost(self, status: str | None) -> float:
        return await self.service.total_cost(Status(status) if status else None)

    async def cancel(self, generation_id: str) -> dict[str, Any]:
        return self.public(await self.service.cancel(await self.service.resolve(generation_id)))

    async def review(self, generation_id: str, verdict: str, note: str | None) -> dict[str, Any]:
        chosen = await self.service.resolve(generation_id)
        return self.public(await self.service.review(chosen, Verdict(verdict), note))

    async def deliver(
        self, generation_id: str, presets: Sequence[str], finish: Finish = Finish()
    ) -> list[dict[str, Any]]:
        chosen = await self.service.resolve(generation_id)
        made = await self.service.deliver(chosen, presets, finish)
        return [self.public(generation) for generation, _ in made]

    async def save_kit(self, fields: dict[str, Any], upload: Upload, kit_id: str | None) -> dict[str, Any]:
        return _kit(await self.service.brand_kits.save(BrandKit(**fields), upload, kit_id))

    async def kits(self) -> list[dict[str, Any]]:
        return [_kit(kit) for kit in await self.service.brand_kits.all()]

    async def fetch(self, generation_id: str) -> dict[str, Any]:
        return self.public(await self.service.fetch(await self.service.resolve(generation_id)))

    async def save_video(self, generation: dict[str, Any], target: Path) -> None:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".veo31-save-") as folder:
            scratch = Path(folder) / "video.mp4"
            await self.service.save_video(await self.service.get(generation["id"]), scratch)
            _publish(scratch, target)

    async def save_task_video(self, task_id: str, target: Path) -> dict[str, Any]:
        """A Kie.ai task veo31 never tracked: download and verify its video."""
        if not self.service.offers("kie"):
            raise NotFoundError(f"no generation {task_id!r} here, and Kie.ai is not configured to ask about it")
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".veo31-fetch-") as folder:
            scratch = Path(folder) / "video.mp4"
            info = await self.service.download_task("kie", task_id, scratch)
            _publish(scratch, target)
        return info

    async def aclose(self) -> None:
        await pipeline.stop()


class RemoteClient:
    """A running `veo31 serve`, over its HTTP API."""

    def __init__(self, url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=60)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await answer_of(self.http, method, path, **kwargs)

    async def create(
        self, spec: GenerationSpec, images: Sequence[tuple[str, bytes]], urls: Sequence[str], key: str | None
    ) -> dict[str, Any]:
        fields = {name: str(value) for name, value in spec.model_dump(exclude_none=True).items()}
        data: dict[str, Any] = {**fields, "image_urls": list(urls)}
        files = [("images", (name, content, "application/octet-stream")) for name, content in images]
        headers = {"Idempotency-Key": key} if key else {}
        return await self._call("POST", "/v1/generations", data=data, files=files or None, headers=headers)

    async def get(self, generation_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/generations/{generation_id}")

    async def watch(self, generation_id: str) -> AsyncIterator[dict[str, Any]]:
        last = None
        while True:
            generation = await self.get(generation_id)
            if (generation["status"], len(generation["history"])) != last:
                last = (generation["status"], len(generation["history"]))
                yield generation
            if generation["status"] in SETTLED:
                return
            await asyncio.sleep(0.5)

    async def list(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
        return (await self._call("GET", "/v1/generations", params=params))["items"]

    async def total_cost(self, status: str | None) -> float:
        params: dict[str, Any] = {"limit": 1, **({"status": status} if status else {})}
        return float((await self._call("GET", "/v1/generations", params=params))["cost_total_usd"])

    async def cancel(self, generation_id: str) -> dict[str, Any]:
        return await self._call("POST", f"/v1/generations/{generation_id}/cancel")

    async def review(self, generation_id: str, verdict: str, note: str | None) -> dict[str, Any]:
        body = {"note": note} if note else None
        return await self._call("POST", f"/v1/generations/{generation_id}/{verdict}", json=body)

    async def deliver(
        self, generation_id: str, presets: Sequence[str], finish: Finish = Finish()
    ) -> list[dict[str, Any]]:
        body = {"presets": list(presets), **dataclasses.asdict(finish)}
        answer = await self._call("POST", f"/v1/generations/{generation_id}/deliverables", json=body)
        return list(answer["deliverables"])

    async def save_kit(self, fields: dict[str, Any], upload: Upload, kit_id: str | None) -> dict[str, Any]:
        sent = {"logo": upload.logo, "music": upload.music}
        files = {name: (name, content, "application/octet-stream") for name, content in sent.items() if content} or None
        data = {name: str(value) for name, value in fields.items() if value is not None}
        if upload.drop_music:
            data["remove_music"] = "true"
        if kit_id:
            return await self._call("PUT", f"/v1/brand-kits/{kit_id}", data=data, files=files)
        return await self._call("POST", "/v1/brand-kits", data=data, files=files)

    async def kits(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "/v1/brand-kits"))["items"])

    async def fetch(self, generation_id: str) -> dict[str, Any]:
        return await self._call("POST", f"/v1/generations/{generation_id}/fetch")

    async def save_video(self, generation: dict[str, Any], target: Path) -> None:
        await download(self.http, generation["video_url"], target, "the video")

    async def save_task_video(self, task_id: str, target: Path) -> dict[str, Any]:
        raise InputError("with --server, fetch takes a generation id (a raw Kie.ai task id needs the in-process mode)")

    async def aclose(self) -> None:
        await self.http.aclose()


async def answer_of(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    """The answer's JSON; a refusal becomes our error in the server's words (404, the sender's 4xx, the rest)."""
    try:
        response = await http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise ConflictError(f"cannot reach the veo31 server at {http.base_url} ({exc})") from None
    if response.status_code == 404:
        raise NotFoundError(detail_of(response))
    if response.status_code in (400, 401, 413, 422):
        raise InputError(detail_of(response))
    if response.status_code >= 400:
        raise ConflictError(detail_of(response))
    return response.json() if response.content else None


def detail_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail") or response.text)
    except ValueError:
        return response.text[:200]


async def download(http: httpx.AsyncClient, url: str, target: Path, what: str) -> None:
    """Stream `url` into `target` under a temporary name, moved into place once whole."""
    handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=".veo31-", suffix=target.suffix)
    try:
        with os.fdopen(handle, "wb") as sink:
            async with http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ConflictError(f"the server answered {response.status_code} for {what}")
                async for chunk in response.aiter_bytes(1024 * 1024):
                    sink.write(chunk)
        _publish(Path(scratch), target)
    finally:
        _discard(Path(scratch))


def _discard(scratch: Path) -> None:
    scratch.unlink(missing_ok=True)


def _publish(scratch: Path, target: Path) -> None:
    """Give the finished file ordinary permissions (mkstemp makes it private) and move it into place."""
    umask = os.umask(0)
    os.umask(umask)
    scratch.chmod(0o666 & ~umask)
    os.replace(scratch, target)


__all__ = ["Client", "LocalClient", "RemoteClient", "Veo31Error", "public"]


def _kit(kit: StoredKit) -> dict[str, Any]:
    """A kit as the CLI shows it without a server: its settings, and whether it has a logo and music."""
    return {
        **kit.settings,
        "id": kit.id,
        "version": kit.version,
        "logo": bool(kit.logo_key),
        "music": bool(kit.music_key),
    }
