"""The `llm` prompt writer: the configured OpenAI-compatible model writes the Veo prompt from the analysis, the use
case and the person's extra text, following Google's Veo 3.1 guidance — subject, action, camera, lighting,
style, audio cues — with the negative prompt kept apart (things to avoid, not "no …").

It falls back to the use-case template (with the reason in `writer`) when the model fails or answers badly, so
prompt writing never loses a generation. The answer is cut to the provider's limit like any prompt.
"""

from __future__ import annotations

import json
import logging

import openai
from pydantic import BaseModel, ConfigDict, ValidationError

from veo31.analysis.llm import describe, openai_client, strict_schema
from veo31.analysis.result import Analysis
from veo31.config import Settings
from veo31.domain import GenerationSpec
from veo31.prompts.templates import TEMPLATES, WrittenPrompt, fit, write_prompt

log = logging.getLogger("veo31.prompts")

GUIDANCE = (
    "Write one prompt for Google Veo 3.1 to make a short product video. Cover, in flowing sentences: the subject "
    "(the product exactly as in the references: shape, colours, materials, labels), the action, the camera "
    "(shot type and movement), the lighting, the style, and audio cues (music, sound effects, ambience). Keep it "
    "under 150 words. Put what to avoid in negative_prompt as a plain list of things (not 'no …')."
)


class PromptAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str
    negative_prompt: str


def prompt_schema() -> dict[str, object]:
    return strict_schema(PromptAnswer, "veo_prompt")


class LlmPromptWriter:
    def __init__(self, settings: Settings) -> None:
        self.model = settings.llm_model
        self.client = openai_client(settings)

    async def aclose(self) -> None:
        await self.client.close()

    async def write(self, spec: GenerationSpec, *, image_count: int, analysis: Analysis | None) -> WrittenPrompt:
        fallback = write_prompt(spec, image_count=image_count, analysis=analysis)
        if spec.prompt:
            return fallback  # the person's own prompt goes out as written
        template = TEMPLATES[spec.use_case]
        brief = {
            "use_case": spec.use_case,
            "product_name": spec.product_name,
            "aspect_ratio": spec.aspect_ratio,
            "duration_seconds": spec.duration_seconds,
            "template_hint": {
                "action": template.action,
                "camera": template.camera,
                "lighting": template.lighting,
                "style": template.style,
                "audio": template.audio,
            },
            "analysis": analysis.model_dump(exclude={"images"}) if analysis else None,
        }
        messages = [
            {"role": "system", "content": GUIDANCE},
            {"role": "user", "content": json.dumps(brief, default=str)},
        ]
        problem = "no answer"
        for _ in range(2):
            try:
                response = await self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    response_format=prompt_schema(),  # type: ignore[arg-type]
                    temperature=0.4,
                )
                answer = PromptAnswer.model_validate(json.loads(response.choices[0].message.content or ""))
            except openai.APIError as error:
                problem = describe(error)
                break
            except (ValueError, ValidationError):
                problem = "the answer did not match the prompt schema"
                continue
            if not answer.prompt.strip():
                problem = "the answer was empty"
                continue
            extra = f" {spec.extra_prompt.strip()}" if spec.extra_prompt and spec.extra_prompt.strip() else ""
            return WrittenPrompt(
                fit(answer.prompt.strip() + extra),
                spec.negative_prompt or answer.negative_prompt.strip() or fallback.negative_prompt,
                writer="llm",
            )
        log.warning("llm prompt writing failed (%s); using the template", problem)
        return WrittenPrompt(fallback.prompt, fallback.negative_prompt, writer=f"template (llm failed: {problem})")
