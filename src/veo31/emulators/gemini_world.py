"""The Google emulator's world: its settings, the models it serves, an operation and how it failed, and Google's
error shape (../shared/specs/gemini-veo31-api.md)."""

from __future__ import annotations

import base64
import binascii
import io
import time
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from veo31.emulators.faults import Fault

DAY = 86_400.0


SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}


GA_MODELS = ["veo-3.1-generate-001", "veo-3.1-fast-generate-001", "veo-3.1-lite-generate-001"]


PREVIEW_MODELS = ["veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview"]


AUDIO_REASON = (
    "We encountered an issue with the audio for your prompt. Please try a different prompt. "
    "You have not been charged for this attempt. Support codes: 58061214"
)


SAFETY_REASON = (
    "Your prompt or image could not be used because it may violate our usage guidelines. "
    "You have not been charged for this attempt. Support codes: 17301594"
)


class GeminiEmulatorConfig(BaseModel):
    """How the emulator behaves for a run; every field can be changed live through `POST /_emulator/config`."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    api_keys: list[str] | None = Field(default=None, description="accepted keys; null accepts any non-empty key")
    models: list[str] = Field(default_factory=lambda: GA_MODELS + PREVIEW_MODELS)
    retired_models: list[str] = Field(default_factory=list, description="answer 404 'no longer available'")
    generation_seconds: float = Field(default=20.0, ge=0, description="simulated time from submit to done")
    clip_seconds: float | None = Field(default=None, gt=0, le=60, description="result length; null: as asked")
    render_scale: float = Field(default=1.0, gt=0, le=1, description="render results smaller (fast tests)")
    fps: int = Field(default=24, ge=1, le=60)
    file_ttl_seconds: float = Field(default=2 * DAY, ge=0, description="how long a Gemini API file link works")
    retry_delay_seconds: float = Field(default=1.0, ge=0, description="RetryInfo in a per-minute 429")


@dataclass
class VeoOperation:
    name: str
    surface: str
    model: str
    body: dict[str, Any]
    width: int
    height: int
    seconds: float
    photos: list[bytes]
    faults: list[Fault]
    created_at: float = field(default_factory=time.time)
    ready_at: float = 0.0
    result: bytes | None = None
    file_id: str | None = None

    def has_fault(self, kind: str) -> Fault | None:
        return next((fault for fault in self.faults if fault.kind == kind), None)


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, *, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": status, "message": message, "status": code}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status)


def failure_reason(operation: VeoOperation) -> str:
    fault = operation.has_fault("rai_audio") or operation.has_fault("rai")
    if fault is not None and fault.msg:
        return fault.msg
    return AUDIO_REASON if operation.has_fault("rai_audio") else SAFETY_REASON


def decode_image(value: Any, where: str) -> bytes:
    if not isinstance(value, dict):
        raise Refusal(400, "INVALID_ARGUMENT", f"{where} must be an object.")
    if "inlineData" in value:
        raise Refusal(400, "INVALID_ARGUMENT", "`inlineData` isn't supported by this model.")
    if "gcsUri" in value:
        raise Refusal(400, "INVALID_ARGUMENT", f"{where}.gcsUri is not supported here; send bytesBase64Encoded.")
    encoded, mime = value.get("bytesBase64Encoded"), value.get("mimeType")
    if not isinstance(encoded, str) or not isinstance(mime, str):
        raise Refusal(400, "INVALID_ARGUMENT", f"{where} needs bytesBase64Encoded and mimeType.")
    try:
        content = base64.b64decode(encoded, validate=True)
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise Refusal(400, "INVALID_ARGUMENT", f"{where} is not a valid image.") from None
    return content


def read_images(instance: dict[str, Any]) -> tuple[list[bytes], str]:
    image, last, references = instance.get("image"), instance.get("lastFrame"), instance.get("referenceImages")
    if references:
        if image is not None or last is not None or instance.get("video") is not None:
            raise Refusal(400, "INVALID_ARGUMENT", "referenceImages cannot be combined with image, lastFrame or video.")
        if not isinstance(references, list) or len(references) > 3:
            raise Refusal(400, "INVALID_ARGUMENT", "At most 3 reference images are supported.")
        photos = []
        for reference in references:
            kind = str((reference or {}).get("referenceType", "")).lower()
            if kind != "asset":
                raise Refusal(400, "INVALID_ARGUMENT", f"referenceType {kind or '(none)'} is not supported.")
            photos.append(decode_image(reference.get("image"), "referenceImages[].image"))
        return photos, "reference"
    if last is not None and image is None:
        raise Refusal(400, "INVALID_ARGUMENT", "lastFrame requires image.")
    photos = [decode_image(image, "image")] if image is not None else []
    if last is not None:
        photos.append(decode_image(last, "lastFrame"))
    return photos, ("first_last" if last is not None else "first_frame" if photos else "text")


def read_parameters(parameters: dict[str, Any], mode: str, model: str) -> tuple[int, int, float]:
    aspect = parameters.get("aspectRatio", "16:9")
    if aspect not in ("16:9", "9:16"):
        raise Refusal(400, "INVALID_ARGUMENT", f"aspectRatio {aspect} is not supported; use 16:9 or 9:16.")
    resolution = parameters.get("resolution", "720p")
    if resolution not in SIZES:
        raise Refusal(400, "INVALID_ARGUMENT", f"resolution {resolution} is not supported.")
    if "lite" in model and resolution == "4k":
        raise Refusal(400, "INVALID_ARGUMENT", "4k is not supported by this model.")
    duration = parameters.get("durationSeconds", 8)
    if not isinstance(duration, int) or isinstance(duration, bool):
        raise Refusal(400, "INVALID_ARGUMENT", "Invalid value at 'parameters.duration_seconds': expected a number.")
    if duration not in (4, 6, 8):
        raise Refusal(400, "INVALID_ARGUMENT", "durationSeconds must be 4, 6 or 8.")
    if duration != 8 and (resolution != "720p" or mode == "reference"):
        raise Refusal(400, "INVALID_ARGUMENT", "1080p, 4k and reference images require durationSeconds 8.")
    person = parameters.get("personGeneration")
    if mode == "text" and person == "allow_adult":
        raise Refusal(400, "INVALID_ARGUMENT", "allow_adult for personGeneration is currently not supported.")
    if mode != "text" and person == "allow_all":
        raise Refusal(400, "INVALID_ARGUMENT", "allow_all for personGeneration is currently not supported.")
    width, height = SIZES[resolution]
    return (width, height, float(duration)) if aspect == "16:9" else (height, width, float(duration))
