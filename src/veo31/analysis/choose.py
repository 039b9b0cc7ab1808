"""Which analyser reads the references: `local` always works; `llm` when a vision model is configured."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Protocol

from veo31.analysis.llm import LlmAnalyser
from veo31.analysis.local import analyse_images
from veo31.analysis.result import Analysis, VideoNotes
from veo31.config import Settings
from veo31.media import processes


class Analyser(Protocol):
    async def analyse(
        self,
        images: Sequence[bytes],
        *,
        product_name: str | None = None,
        video: VideoNotes | None = None,
        video_frames: Sequence[bytes] = (),
    ) -> Analysis: ...

    async def aclose(self) -> None: ...


class LocalAnalyser:
    async def analyse(
        self,
        images: Sequence[bytes],
        *,
        product_name: str | None = None,
        video: VideoNotes | None = None,
        video_frames: Sequence[bytes] = (),
    ) -> Analysis:
        # In a media process: the photos' analysis is numpy and Pillow work that would hold this process's
        # interpreter lock for every product of a catalogue while status reads wait (bench/catalogue.py).
        return await processes.run(
            functools.partial(analyse_images, list(images), product_name=product_name, video=video)
        )

    async def aclose(self) -> None:
        return None


def build_analyser(settings: Settings) -> Analyser:
    wanted = settings.analyzer
    if wanted == "auto":
        wanted = "llm" if settings.llm_base_url else "local"
    return LlmAnalyser(settings) if wanted == "llm" else LocalAnalyser()
