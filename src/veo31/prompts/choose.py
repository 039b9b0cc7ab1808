"""Which prompt writer step 2 uses: the use-case `template` always works; `llm` when a model is configured."""

from __future__ import annotations

from typing import Protocol

from veo31.analysis.result import Analysis
from veo31.config import Settings
from veo31.domain import GenerationSpec
from veo31.prompts.llm import LlmPromptWriter
from veo31.prompts.templates import WrittenPrompt, write_prompt


class PromptWriter(Protocol):
    async def write(self, spec: GenerationSpec, *, image_count: int, analysis: Analysis | None) -> WrittenPrompt: ...

    async def aclose(self) -> None: ...


class TemplateWriter:
    async def write(self, spec: GenerationSpec, *, image_count: int, analysis: Analysis | None) -> WrittenPrompt:
        return write_prompt(spec, image_count=image_count, analysis=analysis)

    async def aclose(self) -> None:
        return None


def build_prompt_writer(settings: Settings) -> PromptWriter:
    wanted = settings.prompt_writer
    if wanted == "auto":
        wanted = "llm" if settings.llm_base_url else "template"
    return LlmPromptWriter(settings) if wanted == "llm" and settings.llm_base_url else TemplateWriter()
