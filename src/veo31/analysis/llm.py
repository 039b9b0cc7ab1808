"""The `llm` analyser: any OpenAI-compatible vision chat model (OpenAI, Gemini's OpenAI endpoint, Ollama, vLLM)
through the official `openai` SDK, answering in a JSON schema.

The photos go as data URLs; a reference video goes as a few sampled frames plus the local motion analysis (a
model reads camera motion from stills poorly). The answer is validated with pydantic; a malformed one is asked
for once more, then the local analysis stands in, with a note saying so. Rate limits and server errors are
retried by the SDK (it honours Retry-After). The key is never logged or returned.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Sequence

import openai
from pydantic import BaseModel, ConfigDict, ValidationError

from veo31.analysis.local import analyse_images
from veo31.analysis.result import Analysis, VideoNotes
from veo31.config import Settings
from veo31.errors import ConfigurationError, Veo31Error

log = logging.getLogger("veo31.analysis")

SYSTEM = (
    "You are a product-video director. Look at the reference photos of one product and describe what a video of "
    "it must keep: the main objects, their materials, colours, the lighting, camera work that suits it, the "
    "composition, the background surfaces, and the style and mood. Be concrete and brief; plain words."
)


class LlmAnswer(BaseModel):
    """What the model is asked to fill in (all fields required, nothing else: OpenAI's strict schema mode)."""

    model_config = ConfigDict(extra="forbid")

    main_objects: list[str]
    materials: list[str]
    colours: list[str]
    lighting: str
    camera_work: str
    composition: str
    background_surfaces: str
    style_and_mood: str
    summary: str
    per_image_notes: list[str]


class AnalysisFailedError(Veo31Error):
    """The vision model could not give a usable analysis, and falling back was not allowed."""


def strict_schema(model: type[BaseModel], name: str) -> dict[str, object]:
    """A `response_format` for `model` in OpenAI's strict mode: every field required, nothing else allowed."""
    schema = model.model_json_schema()
    schema["required"] = list(model.model_fields)
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def answer_schema() -> dict[str, object]:
    return strict_schema(LlmAnswer, "reference_analysis")


def openai_client(settings: Settings) -> openai.AsyncOpenAI:
    """One client for the configured endpoint; the SDK retries 429s and 5xx, honouring Retry-After."""
    if not settings.llm_base_url:
        raise ConfigurationError(
            "the llm analyser and prompt writer need VEO31_LLM_BASE_URL (an OpenAI-compatible /v1 URL)"
        )
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none"
    return openai.AsyncOpenAI(base_url=settings.llm_base_url, api_key=key, timeout=settings.llm_timeout, max_retries=2)


class LlmAnalyser:
    def __init__(self, settings: Settings) -> None:
        self.model = settings.llm_model
        self.fallback = settings.analysis_fallback
        self.client = openai_client(settings)

    async def aclose(self) -> None:
        await self.client.close()

    async def analyse(
        self,
        images: Sequence[bytes],
        *,
        product_name: str | None = None,
        video: VideoNotes | None = None,
        video_frames: Sequence[bytes] = (),
    ) -> Analysis:
        local = await asyncio.to_thread(analyse_images, list(images), product_name=product_name, video=video)
        messages = self._messages(images, product_name, video, video_frames)
        problem = "no answer"
        for _ in range(2):  # a malformed answer is asked for once more
            try:
                answer = await self._ask(messages)
            except openai.APIError as error:
                problem = describe(error)
                break
            except (ValueError, ValidationError):
                problem = "the model's answer did not match the analysis schema"
                continue
            return self._merge(answer, local)
        if not self.fallback:
            raise AnalysisFailedError(
                f"the vision model could not analyse the references ({problem}); "
                "check VEO31_LLM_BASE_URL and VEO31_LLM_MODEL, or set VEO31_ANALYZER=local"
            )
        log.warning("llm analysis failed (%s); using the local analysis", problem)
        return local.model_copy(
            update={"notes": [*local.notes, f"vision model unavailable ({problem}); the local analysis was used"]}
        )

    async def _ask(self, messages: list[dict[str, object]]) -> LlmAnswer:
        response = await self.client.chat.completions.create(
            model=self.model,
            messages=messages,
            response_format=answer_schema(),
            temperature=0.2,  # type: ignore[arg-type]
        )
        content = response.choices[0].message.content or ""
        return LlmAnswer.model_validate(json.loads(content))

    def _messages(
        self, images: Sequence[bytes], product_name: str | None, video: VideoNotes | None, video_frames: Sequence[bytes]
    ) -> list[dict[str, object]]:
        text = f"Product: {product_name or 'unnamed'}. {len(images)} reference photo(s) follow."
        if video is not None:
            text += f" A reference video was analysed locally for its camera motion: {video.notes}"
        parts: list[dict[str, object]] = [{"type": "text", "text": text}]
        for content in [*images, *video_frames]:
            parts.append({"type": "image_url", "image_url": {"url": data_url(content)}})
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": parts}]

    def _merge(self, answer: LlmAnswer, local: Analysis) -> Analysis:
        return Analysis(
            analyzer="llm",
            main_objects=answer.main_objects or local.main_objects,
            materials=answer.materials or local.materials,
            colours=answer.colours or local.colours,
            lighting=answer.lighting,
            camera_work=local.camera_work if local.video else answer.camera_work,
            composition=answer.composition,
            background_surfaces=answer.background_surfaces,
            style_and_mood=answer.style_and_mood,
            summary=answer.summary,
            images=local.images,
            video=local.video,
            notes=local.notes,
        )


def data_url(content: bytes) -> str:
    mime = "image/png" if content.startswith(b"\x89PNG") else "image/webp" if content[8:12] == b"WEBP" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"


def describe(error: openai.APIError) -> str:
    """The SDK's failure in a few words, without its message (which may quote request details)."""
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}"
    if isinstance(error, openai.APITimeoutError):
        return "timed out"
    return "could not connect"
