"""The judge model over a real OpenAI-compatible server (our emulator, over HTTP): photos and frames in, a verdict
out, reported beside the local checks; a model that cannot be asked is a note, never a failed check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.products import Product, hue_turned, jpeg, photo
from tests.quality_set import SLOW_PAN, film, still
from veo31.config import load_settings
from veo31.emulators.llm import create_llm_emulator
from veo31.emulators.serve import ServerThread
from veo31.quality.judge import judge, sample_frames
from veo31.quality.report import CheckKind

KEY = "judge-test-key"


@pytest.fixture(scope="module")
def llm() -> Iterator[str]:
    with ServerThread(create_llm_emulator(api_keys=[KEY])) as server:
        yield f"{server.url}/v1"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder, base = tmp_path_factory.mktemp("judge"), Product()
    return {
        "good": film(folder / "good.mp4", still(base), SLOW_PAN),
        "hue": film(folder / "hue.mp4", still(base.changed(colour=hue_turned(base.colour, 140))), SLOW_PAN),
    }


async def test_the_verdict_is_reported_as_a_check(llm: str, clips: dict[str, Path]) -> None:
    settings = load_settings(llm_base_url=llm, llm_api_key=KEY)
    references = [jpeg(photo(Product()))]
    same = await judge(settings, references, sample_frames(clips["good"]))
    other = await judge(settings, references, sample_frames(clips["hue"]))
    assert (same.kind, same.passed) == (CheckKind.JUDGE, True) and "sees the same product" in same.message
    assert not other.passed and "sees another product" in other.message and "in the photos" in other.message
    async with httpx.AsyncClient() as client:
        state = (await client.get(llm.removesuffix("/v1") + "/_emulator/state")).json()
    assert sum(state["calls"].values()) >= 2, "the model was asked, over HTTP"


def test_three_frames_are_sampled_across_the_clip(clips: dict[str, Path]) -> None:
    frames = sample_frames(clips["good"])
    assert len(frames) == 3 and all(frame.startswith(b"\xff\xd8") for frame in frames)


async def test_a_model_that_cannot_be_asked_is_a_note(clips: dict[str, Path], closed_port_url: str) -> None:
    settings = load_settings(llm_base_url=f"{closed_port_url}/v1", llm_api_key=KEY, llm_timeout=2)
    check = await judge(settings, [jpeg(photo(Product()))], sample_frames(clips["good"]))
    assert check.passed and "could not be asked (could not connect)" in check.message
    assert KEY not in check.message
