"""Veo 3.1 on Google, as data: what a request becomes (spec §2.1 and §3) and what an operation says (spec §5, §10).

Pure functions, shared by both surfaces, so the Gemini API over REST and Vertex AI through the SDK cannot drift:
`plan()` turns our request into one Veo request (mode rules enforced before any call), `rest_body()` writes it in
the JSON both surfaces take, `read_rest_operation()` reads either surface's operation JSON, and `classify()` turns
an operation into our provider status.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from veo31.domain import Capabilities, ProviderState, ProviderStatus
from veo31.errors import CapabilityError, ContentRejectedError, GenerationFailedError
from veo31.providers.base import ImageInput, SubmitRequest
from veo31.providers.gemini.errors import LABEL, PROVIDER, map_operation_error

GEMINI_CAPABILITIES = Capabilities(
    durations=(4, 6, 8),
    aspect_ratios=("16:9", "9:16"),
    resolutions=("720p", "1080p", "4k"),
    images={"text": (0, 0), "first_frame": (1, 1), "first_last": (2, 2), "reference": (1, 3)},
    model_tiers=("fast", "quality", "lite"),
    durations_by_mode={"reference": (8,)},  # spec §3: references force 8 s
    durations_by_resolution={"1080p": (8,), "4k": (8,)},
    # Lite: text and single-image only (spec §1, [UNCERTAIN]) and no 4k.
    tiers_by_mode={"reference": ("fast", "quality"), "first_last": ("fast", "quality")},
    resolutions_by_tier={"lite": ("720p", "1080p")},
    callbacks=False,
)
# spec §2.1: Veo 3.1 takes allow_adult with images; text-to-video refuses it, so nothing is sent there.
PERSON_GENERATION = {"first_frame": "allow_adult", "first_last": "allow_adult", "reference": "allow_adult"}
# spec §5: audio-safety false positives often pass on a second try with the same prompt.
AUDIO_FILTER_WORDS = ("audio",)
INLINE = "inline:"  # a video handed back as bytes inside the operation (Vertex without storageUri)


@dataclass(frozen=True)
class VeoRequest:
    """One Veo 3.1 request, after the mode rules: at most one of (image [+ last frame]) or reference images."""

    model: str
    prompt: str
    mode: str
    duration_seconds: int
    aspect_ratio: str
    resolution: str
    negative_prompt: str | None = None
    person_generation: str | None = None
    seed: int | None = None
    image: ImageInput | None = None
    last_frame: ImageInput | None = None
    references: tuple[ImageInput, ...] = ()


def plan(request: SubmitRequest, model: str, *, seed_allowed: bool) -> VeoRequest:
    """Our request as one Veo request; refuses what Google would refuse, before anything is sent."""
    images = request.images
    low, high = GEMINI_CAPABILITIES.images.get(request.mode, (0, -1))
    if not low <= len(images) <= high:
        raise CapabilityError(
            f"{LABEL} takes {low}–{high} images in {request.mode} mode, not {len(images)}", field="images"
        )
    allowed = GEMINI_CAPABILITIES.allowed_durations(request.mode, request.resolution)
    if request.duration_seconds not in allowed:
        raise CapabilityError(
            f"{LABEL} makes {request.resolution} {request.mode} clips of {', '.join(map(str, allowed))} s only",
            field="duration_seconds",
            allowed=list(allowed),
        )
    return VeoRequest(
        model=model,
        prompt=request.prompt,
        mode=request.mode,
        duration_seconds=int(request.duration_seconds),  # spec §2.1: a number, not "8"
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        negative_prompt=request.negative_prompt or None,
        person_generation=PERSON_GENERATION.get(request.mode),
        seed=request.seed if seed_allowed else None,
        image=images[0] if request.mode in ("first_frame", "first_last") else None,
        last_frame=images[1] if request.mode == "first_last" else None,
        references=images if request.mode == "reference" else (),
    )


def image_json(image: ImageInput) -> dict[str, str]:
    """spec §2.1 [CONFLICT]: the SDK's `bytesBase64Encoded` shape; `inlineData` is refused by the model."""
    return {"bytesBase64Encoded": base64.b64encode(image.content).decode("ascii"), "mimeType": image.mime_type}


def rest_body(veo: VeoRequest) -> dict[str, Any]:
    instance: dict[str, Any] = {"prompt": veo.prompt}
    if veo.image is not None:
        instance["image"] = image_json(veo.image)
    if veo.last_frame is not None:
        instance["lastFrame"] = image_json(veo.last_frame)
    if veo.references:
        instance["referenceImages"] = [{"image": image_json(ref), "referenceType": "asset"} for ref in veo.references]
    parameters: dict[str, Any] = {
        "aspectRatio": veo.aspect_ratio,
        "resolution": veo.resolution,
        "durationSeconds": veo.duration_seconds,
        "sampleCount": 1,
    }
    if veo.negative_prompt:
        parameters["negativePrompt"] = veo.negative_prompt
    if veo.person_generation:
        parameters["personGeneration"] = veo.person_generation
    if veo.seed is not None:
        parameters["seed"] = veo.seed
    return {"instances": [instance], "parameters": parameters}


@dataclass(frozen=True)
class Video:
    uri: str | None = None
    data: bytes | None = None
    mime_type: str = "video/mp4"


@dataclass(frozen=True)
class Operation:
    """A long-running operation as either surface reports it, normalised."""

    name: str
    done: bool
    error: dict[str, Any] | None = None
    videos: tuple[Video, ...] = ()
    rai_count: int = 0
    rai_reasons: tuple[str, ...] = ()
    raw: Any = field(default=None, compare=False, repr=False)


def read_rest_operation(body: Any) -> Operation:
    """Either surface's operation JSON: the Gemini API's `generateVideoResponse.generatedSamples[].video` (a `uri`,
    or inline `encodedVideo`), or Vertex's `response.videos[]` (`bytesBase64Encoded` or `gcsUri`)."""
    if not isinstance(body, dict):
        return Operation(name="", done=False, raw=body)
    response = body.get("response") if isinstance(body.get("response"), dict) else {}
    inner = response.get("generateVideoResponse") if isinstance(response.get("generateVideoResponse"), dict) else None
    holder = inner if inner is not None else response
    samples = holder.get("generatedSamples") or holder.get("videos") or []
    videos = tuple(video for video in (_read_sample(sample) for sample in samples) if video is not None)
    reasons = holder.get("raiMediaFilteredReasons") or []
    count = holder.get("raiMediaFilteredCount")
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    return Operation(
        name=str(body.get("name") or ""),
        done=bool(body.get("done")),
        error=error,
        videos=videos,
        rai_count=count if isinstance(count, int) else len(reasons),
        rai_reasons=tuple(str(reason) for reason in reasons if reason),
        raw=body,
    )


def _read_sample(sample: Any) -> Video | None:
    if not isinstance(sample, dict):
        return None
    video = sample.get("video") if isinstance(sample.get("video"), dict) else sample
    uri = video.get("uri") or video.get("gcsUri")
    encoded = video.get("encodedVideo") or video.get("bytesBase64Encoded")
    mime = str(video.get("mimeType") or video.get("encoding") or "video/mp4")
    if encoded:
        try:
            return Video(data=base64.b64decode(encoded, validate=True), mime_type=mime)
        except (binascii.Error, ValueError, TypeError):
            return None
    return Video(uri=str(uri), mime_type=mime) if uri else None


def classify(operation: Operation) -> ProviderStatus:
    """spec §5: done + error → failed; done, no samples, filter reasons → content rejected (not charged); done,
    nothing at all → unknown failure; done with a video → succeeded; otherwise still generating."""
    name = operation.name
    if not operation.done:
        return ProviderStatus(ProviderState.GENERATING, task_id=name, raw=operation.raw)
    if operation.error is not None:
        return ProviderStatus(
            ProviderState.FAILED, task_id=name, error=map_operation_error(operation.error, name), raw=operation.raw
        )
    if operation.videos:
        video = operation.videos[0]
        url = video.uri or f"{INLINE}{name}"
        return ProviderStatus(ProviderState.SUCCEEDED, task_id=name, video_urls=(url,), raw=operation.raw)
    if operation.rai_count or operation.rai_reasons:
        reason = " ".join(operation.rai_reasons) or f"{operation.rai_count} video(s) filtered, no reason given"
        error = ContentRejectedError(
            f"{LABEL}'s safety filter blocked the video (not charged): {reason[:600]}", provider=PROVIDER
        )
        audio = any(word in reason.lower() for word in AUDIO_FILTER_WORDS)
        return ProviderStatus(
            ProviderState.FAILED,
            task_id=name,
            error=error,
            raw=operation.raw,
            charged=False,
            retry_same=audio,
        )
    return ProviderStatus(
        ProviderState.FAILED,
        task_id=name,
        error=GenerationFailedError(
            f"{LABEL} finished operation {name} with no video and no reason", provider=PROVIDER
        ),
        raw=operation.raw,
    )
