"""The old system's /veo31 routes: the same form fields, the same answer shapes, so its users' scripts keep working.

They keep its leniency too: a duration, aspect ratio or use case the provider cannot do is moved to the nearest
one it can, and the answer's `warnings` say so (the /v1 routes refuse instead). `task_id` in the answers is our
generation id, which the status routes accept as well as a raw provider task id; once the video is stored,
`video_url` is our stable link and the provider's link is given beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import ValidationError

from veo31.api.deps import ServiceDep, SettingsDep, TokenDep, generation_links
from veo31.api.routes.generations import describe, read_upload, split_urls
from veo31.config import Settings
from veo31.domain import USE_CASES, Capabilities, Generation, GenerationSpec, Status, resolve_mode
from veo31.errors import InputError
from veo31.pipeline.intake import MAX_REFERENCE_VIDEO_BYTES, ReferenceVideo, UploadedImage, check_image_count
from veo31.providers.registry import auto_order, choose_provider, configured_providers, entry, label_of

router = APIRouter(prefix="/veo31", tags=["compatibility (/veo31)"], dependencies=[TokenDep])

OLD_PROVIDER_NAMES = {"kie": "kie.ai", "gemini": "google", "local": "local"}
PROVIDER_ALIASES = {
    "kie": "kie",
    "kie.ai": "kie",
    "kieai": "kie",
    "google": "gemini",
    "gemini": "gemini",
    "veo": "gemini",
    "local": "local",
}
# The old routes answered after submitting; wait that long at most, then answer "queued" (the queue's rate limit
# may hold a generation back) — the status routes carry on from there.
SUBMIT_WAIT_SECONDS = 8.0

Text = Annotated[str | None, Form()]


def old_status(status: Status) -> str:
    """Our status in the old system's three words. A video held for review is "failed" there: the old page stops
    waiting and shows the error, which says why and where to approve it."""
    if status is Status.COMPLETED:
        return "completed"
    if status in (Status.FAILED, Status.CANCELED, Status.NEEDS_REVIEW):
        return "failed"
    return "processing"


def lenient_spec(
    *,
    use_case: str | None,
    duration_seconds: int | None,
    aspect_ratio: str | None,
    prompt: str | None,
    product_name: str | None,
    additional_prompt: str | None,
    provider: str,
    quality: str | None,
) -> tuple[GenerationSpec, list[str]]:
    """Old form fields → a spec, correcting what the old system let through (with a warning for each)."""
    warnings: list[str] = []
    if use_case and use_case not in USE_CASES:
        warnings.append(f"use_case={use_case} is unknown; using general (known: {', '.join(USE_CASES)})")
        use_case = "general"
    aspect = aspect_ratio or "16:9"
    if aspect not in ("16:9", "9:16"):
        aspect = "9:16" if _ratio(aspect) < 1 else "16:9"
        warnings.append(f"aspect_ratio={aspect_ratio} is not available; using {aspect}")
    duration = duration_seconds if duration_seconds is not None else 8
    if not 1 <= duration <= 60:
        duration = max(1, min(60, duration))
    spec = GenerationSpec(
        use_case=use_case or "product_video",  # type: ignore[arg-type]
        duration_seconds=duration,
        aspect_ratio=aspect,  # type: ignore[arg-type]
        prompt=prompt.strip() if prompt and prompt.strip() else None,
        product_name=product_name or None,
        extra_prompt=additional_prompt or None,
        provider=provider,  # type: ignore[arg-type]
        model_tier="quality" if (quality or "").lower() == "high" else "fast",
    )
    return spec, warnings


def _ratio(text: str) -> float:
    try:
        width, height = (float(part) for part in text.split(":", 1))
        return width / height if height else 1.0
    except ValueError:
        return 1.0


async def answer(
    request: Request, settings: Any, service: Any, generation: Generation, warnings: list[str]
) -> dict[str, Any]:
    generation = await service.wait_until_submitted(generation.id, SUBMIT_WAIT_SECONDS)
    step3: dict[str, Any] = {
        "provider": OLD_PROVIDER_NAMES.get(generation.provider or "", generation.provider),
        "status": "submitted"
        if generation.provider_task_id and not generation.status.terminal
        else ("failed" if generation.status.terminal else "queued"),
        "task_id": generation.id,
        "generation_id": generation.id,
        "provider_task_id": generation.provider_task_id,
        "status_url": f"/veo31/kie-status/{generation.id}",
    }
    if generation.error_message:
        step3["error"] = generation.error_message
    return {
        "success": generation.status is not Status.FAILED,
        "step1_analysis": generation.analysis
        or {
            "analyzer": "none",
            "note": "skipped: the request brought its own prompt"
            if generation.spec.prompt
            else "not finished yet; GET the status_url for it",
        },
        "step2_prompt": generation.prompt,
        "prompt_details": prompt_details(
            generation.prompt, generation.negative_prompt, generation.spec.use_case, generation.prompt_writer
        ),
        "step3_video_generation": step3,
        "warnings": [*warnings, *generation.warnings],
        "links": {k: v for k, v in generation_links(request, settings, generation).items() if v},
    }


async def start(
    service: Any,
    spec: GenerationSpec,
    uploads: list[UploadedImage],
    urls: list[str],
    video: ReferenceVideo | None = None,
) -> Generation:
    """The old routes' leniency, then an ordinary generation: what the provider cannot do is moved to the nearest
    it can, and the generation keeps a warning for each change."""
    settings = service.settings
    provider = entry(choose_provider(spec.provider, settings), settings)
    spec, warnings = adapt_to(spec, provider.capabilities, check_image_count(len(uploads) + len(urls)), provider.label)
    created = await service.create(spec, uploads=uploads, image_urls=urls, video=video, warnings=warnings)
    return created.generation


def adapt_to(
    spec: GenerationSpec, caps: Capabilities, image_count: int, label: str
) -> tuple[GenerationSpec, list[str]]:
    """The old routes' leniency: move each setting the provider cannot do to the nearest one it can, and say so."""
    changes: dict[str, Any] = {}
    warnings: list[str] = []
    if spec.resolution not in caps.resolutions:
        changes["resolution"] = caps.resolutions[0]
    if spec.aspect_ratio not in caps.aspect_ratios:
        changes["aspect_ratio"] = caps.aspect_ratios[0]
    adjusted = spec.model_copy(update=changes)
    mode = resolve_mode(adjusted.mode, image_count, adjusted.model_tier, caps)
    durations = caps.allowed_durations(mode, adjusted.resolution) or caps.durations
    if adjusted.duration_seconds not in durations:
        changes["duration_seconds"] = min(durations, key=lambda d: (abs(d - adjusted.duration_seconds), -d))
    for name, value in changes.items():
        warnings.append(f"{name}={getattr(spec, name)} is not available on {label}; using {value}")
    return spec.model_copy(update=changes), warnings


async def reference_video(
    video_reference: Annotated[UploadFile | None, File(description="a reference video for the camera motion")] = None,
    video_reference_url: Annotated[str | None, Form()] = None,
) -> ReferenceVideo | None:
    if video_reference is not None:
        content = await video_reference.read(MAX_REFERENCE_VIDEO_BYTES + 1)
        if len(content) > MAX_REFERENCE_VIDEO_BYTES:
            raise InputError("the reference video is larger than 200 MB", field="video_reference")
        return ReferenceVideo(content=content, filename=video_reference.filename)
    if video_reference_url:
        return ReferenceVideo(url=video_reference_url.strip())
    return None


VideoDep = Annotated[ReferenceVideo | None, Depends(reference_video)]


@dataclass(frozen=True)
class OldFields:
    """The form fields both old generate routes take."""

    prefer_kie_api: bool | None
    use_case: str | None
    duration_seconds: int | None
    aspect_ratio: str | None
    prompt: str | None
    product_name: str | None
    additional_prompt: str | None
    quality: str | None

    def spec(self, settings: Settings, *, prompt_required: bool = False) -> tuple[GenerationSpec, list[str]]:
        if prompt_required and not (self.prompt and self.prompt.strip()):
            raise InputError("prompt is required: send the (edited) prompt to generate with", field="prompt")
        fields = asdict(self)
        preferred = "kie" if fields.pop("prefer_kie_api") in (True, None) else "gemini"
        try:
            spec, warnings = lenient_spec(**fields, provider=preferred)
        except ValidationError as exc:
            raise InputError(describe(exc)) from None
        if preferred not in configured_providers(settings):
            # "prefer" is a preference: on a server without that provider, the one `auto` picks makes the video.
            spec = spec.model_copy(update={"provider": "auto"})
            instead = auto_order(settings)
            warnings.append(
                f"{label_of(preferred)} is not configured on this server; using "
                f"{label_of(instead[0]) if instead else 'the provider auto picks'} instead"
            )
        return spec, warnings


async def old_fields(
    prefer_kie_api: Annotated[
        bool | None, Form(description="prefer Kie.ai (true, the default) or Google (false), when configured")
    ] = None,
    use_case: Text = None,
    duration_seconds: Annotated[int | None, Form()] = None,
    aspect_ratio: Text = None,
    prompt: Text = None,
    product_name: Text = None,
    additional_prompt: Text = None,
    quality: Annotated[str | None, Form(description="high → the Quality tier, standard → Fast")] = None,
) -> OldFields:
    return OldFields(
        prefer_kie_api, use_case, duration_seconds, aspect_ratio, prompt, product_name, additional_prompt, quality
    )


OldFieldsDep = Annotated[OldFields, Depends(old_fields)]


@router.post("/generate-from-urls")
async def generate_from_urls(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    fields: OldFieldsDep,
    video: VideoDep,
    reference_image_urls: Annotated[list[str], Form(description="repeated, or comma-separated")],
) -> dict[str, Any]:
    """Two callers, two meanings, told apart by `prefer_kie_api`:

    - without it (the old page's URL tab, whose old server only analysed here despite the route's name): steps
      1 and 2 only, in the old shape (`step2_prompt` the prompt text, `generation_settings`); nothing is
      submitted — the page then sends the edited prompt to /veo31/generate-with-prompt-urls;
    - with it (the old system's written instructions): analyse, write and submit, answering with
      `step3_video_generation` as /veo31/generate does."""
    urls = image_urls(reference_image_urls)
    if fields.prefer_kie_api is None:
        spec, warnings = fields.spec(settings)
        body = await analysis_answer(service, spec, warnings, image_urls=urls[:3], video=video)
        body["generation_settings"] = {
            "aspect_ratio": fields.aspect_ratio or "16:9",
            "additional_prompt": fields.additional_prompt,
        }
        return body
    spec, warnings = fields.spec(settings)
    generation = await start(service, spec, [], urls, video)
    return await answer(request, settings, service, generation, warnings)


@router.post("/generate")
async def generate_from_uploads(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    fields: OldFieldsDep,
    video: VideoDep,
    uploads: UploadsDep,
) -> dict[str, Any]:
    spec, warnings = fields.spec(settings)
    generation = await start(service, spec, uploads, [], video)
    return await answer(request, settings, service, generation, warnings)


@router.post("/analyze-and-prompt")
async def analyze_and_prompt(
    service: ServiceDep,
    settings: SettingsDep,
    fields: OldFieldsDep,
    video: VideoDep,
    uploads: UploadsDep,
) -> dict[str, Any]:
    """Steps 1 and 2 only: the analysis and the prompt, to edit and send back to /veo31/generate-with-prompt."""
    spec, warnings = fields.spec(settings)
    return await analysis_answer(service, spec, warnings, uploads=uploads, video=video)


async def analysis_answer(service: Any, spec: GenerationSpec, warnings: list[str], **references: Any) -> dict[str, Any]:
    """Steps 1 and 2 in the old shape: `step2_prompt` and `prompt` are the prompt text, for an edit box."""
    analysis, written = await service.analyse(spec, **references)
    return {
        "step1_analysis": analysis.model_dump(mode="json"),
        "step2_prompt": written.prompt,
        "prompt": written.prompt,
        "prompt_details": prompt_details(written.prompt, written.negative_prompt, spec.use_case, written.writer),
        "ready_for_editing": True,
        "warnings": warnings,
    }


def prompt_details(prompt: str | None, negative: str | None, use_case: str, writer: str | None) -> dict[str, Any]:
    """What veo31 adds about the prompt, under a key of its own: the old clients read `step2_prompt` as text."""
    return {"prompt": prompt, "negative_prompt": negative, "use_case": use_case, "writer": writer}


@router.post("/generate-with-prompt")
async def generate_with_prompt(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    fields: OldFieldsDep,
    uploads: UploadsDep,
) -> dict[str, Any]:
    """Step 3 with the (edited) prompt exactly as given: no analysis, no rewriting."""
    spec, warnings = fields.spec(settings, prompt_required=True)
    generation = await start(service, spec, uploads, [])
    return await answer(request, settings, service, generation, warnings)


@router.post("/generate-with-prompt-urls")
async def generate_with_prompt_urls(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    fields: OldFieldsDep,
    reference_image_urls: Annotated[list[str], Form(description="repeated, or comma-separated")],
) -> dict[str, Any]:
    spec, warnings = fields.spec(settings, prompt_required=True)
    generation = await start(service, spec, [], image_urls(reference_image_urls))
    return await answer(request, settings, service, generation, warnings)


def image_urls(values: list[str]) -> list[str]:
    urls = [url for value in values for url in split_urls(value)]
    if not urls:
        raise InputError("reference_image_urls needs at least one http(s) image URL", field="reference_image_urls")
    return urls


async def old_uploads(
    settings: SettingsDep,
    reference_image1: Annotated[UploadFile, File()],
    reference_image2: Annotated[UploadFile | None, File()] = None,
    reference_image3: Annotated[UploadFile | None, File()] = None,
) -> list[UploadedImage]:
    """The old routes' 1–3 uploads (`reference_image1` required)."""
    files = (reference_image1, reference_image2, reference_image3)
    return [await read_upload(item, settings.max_image_bytes) for item in files if item is not None]


UploadsDep = Annotated[list[UploadedImage], Depends(old_uploads)]
