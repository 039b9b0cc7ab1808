"""The bodies Kie.ai takes and the answers it gives, as types (../shared/specs/kie-veo31-api.md §4, §8, §9, §13):
checked here before anything is sent, so a request Kie would refuse never costs a call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from veo31.errors import InvalidRequestError, UnavailableError
from veo31.providers.kie.errors import PROVIDER
from veo31.providers.kie.status import as_url_list

KieModel = Literal["veo3", "veo3_fast", "veo3_lite"]
KieGenerationType = Literal["TEXT_2_VIDEO", "FIRST_AND_LAST_FRAMES_2_VIDEO", "REFERENCE_2_VIDEO"]
KieAspectRatio = Literal["16:9", "9:16", "Auto"]
KieResolution = Literal["720p", "1080p", "4k"]
KieExtendModel = Literal["fast", "quality", "lite"]

IMAGE_COUNTS: dict[str, tuple[int, int]] = {
    "TEXT_2_VIDEO": (0, 0),
    "FIRST_AND_LAST_FRAMES_2_VIDEO": (1, 2),
    "REFERENCE_2_VIDEO": (1, 3),
}
# Spec §4.1 [CONFLICT]: Fast only in docs generations A–C, Fast and Lite in D. Both are accepted.
REFERENCE_MODELS = ("veo3_fast", "veo3_lite")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KieGenerateRequest(_Strict):
    """The body of `POST /api/v1/veo/generate`, checked before anything is sent (spec §4)."""

    prompt: str = Field(min_length=1)
    model: KieModel = "veo3_fast"
    image_urls: tuple[str, ...] = Field(default=(), max_length=3)
    generation_type: KieGenerationType | None = None
    aspect_ratio: KieAspectRatio = "16:9"
    resolution: KieResolution | None = None
    seeds: int | None = Field(default=None, ge=10000, le=99999)
    watermark: str | None = None
    enable_translation: bool = True
    callback_url: str | None = None

    @model_validator(mode="after")
    def _check_mode(self) -> KieGenerateRequest:
        mode = self.mode
        low, high = IMAGE_COUNTS[mode]
        count = len(self.image_urls)
        if not low <= count <= high:
            raise ValueError(f"{mode} takes {low}–{high} image URLs, got {count}")
        if mode == "REFERENCE_2_VIDEO" and self.model not in REFERENCE_MODELS:
            raise ValueError(f"REFERENCE_2_VIDEO needs model veo3_fast or veo3_lite, not {self.model}")
        for url in (*self.image_urls, *([self.callback_url] if self.callback_url else [])):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"URLs must be public http(s) links, got {url[:60]!r}")
        return self

    @property
    def mode(self) -> str:
        """The generation type, inferred as Kie would when not given: images → frames, none → text."""
        if self.generation_type:
            return self.generation_type
        return "FIRST_AND_LAST_FRAMES_2_VIDEO" if self.image_urls else "TEXT_2_VIDEO"

    def to_body(self) -> dict[str, Any]:
        """Kie's mixed casing is real: camelCase keys beside snake_case `aspect_ratio` (spec §4)."""
        body: dict[str, Any] = {
            "prompt": self.prompt,
            "model": self.model,
            "generationType": self.mode,
            "aspect_ratio": self.aspect_ratio,
            "enableTranslation": self.enable_translation,
        }
        if self.image_urls:
            body["imageUrls"] = list(self.image_urls)
        optional = {
            "resolution": self.resolution,
            "seeds": self.seeds,
            "watermark": self.watermark,
            "callBackUrl": self.callback_url,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


class KieExtendRequest(_Strict):
    """The body of `POST /api/v1/veo/extend` (spec §9)."""

    task_id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    model: KieExtendModel = "fast"
    seeds: int | None = Field(default=None, ge=10000, le=99999)
    watermark: str | None = None
    callback_url: str | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"taskId": self.task_id, "prompt": self.prompt, "model": self.model}
        optional = {"seeds": self.seeds, "watermark": self.watermark, "callBackUrl": self.callback_url}
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@dataclass(frozen=True)
class KieUpload:
    """A file on Kie's upload host; its URL expires (3 days documented, ~24 h reported: re-upload after 24 h)."""

    download_url: str
    file_name: str | None
    file_path: str | None
    size: int | None
    mime_type: str | None


@dataclass(frozen=True)
class Kie4kResult:
    """Where a 4K upgrade stands: `started` (a new task id), `processing`, or `done` with its URLs."""

    state: Literal["started", "processing", "done"]
    task_id: str | None = None
    video_urls: tuple[str, ...] = ()
    image_urls: tuple[str, ...] = ()


def build(schema: type[_Strict], **fields: Any) -> Any:
    try:
        return schema(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'request'}: "
            f"{str(error['msg']).removeprefix('Value error, ')}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise InvalidRequestError(f"not sent to Kie.ai: {problems}", provider=PROVIDER) from None


def upload_from(data: Any) -> KieUpload:
    if not isinstance(data, Mapping):
        raise UnavailableError("Kie.ai's upload host answered without file details", provider=PROVIDER)
    links = as_url_list(data.get("downloadUrl")) or as_url_list(data.get("fileUrl"))
    if not links:
        raise UnavailableError("Kie.ai's upload host gave no download URL", provider=PROVIDER)
    size = data.get("fileSize")
    return KieUpload(
        download_url=links[0],
        file_name=data.get("fileName") or data.get("originalName"),
        file_path=data.get("filePath"),
        size=size if isinstance(size, int) else None,
        mime_type=data.get("mimeType"),
    )
