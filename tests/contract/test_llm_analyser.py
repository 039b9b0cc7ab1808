"""The llm analyser through the official openai SDK against the OpenAI-compatible emulator, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from veo31.analysis.llm import AnalysisFailedError, LlmAnalyser
from veo31.config import load_settings
from veo31.emulators.llm import create_llm_emulator
from veo31.emulators.serve import ServerThread

KEY = "sk-llm-secret-5e1f9a0c3b7d"
PHOTO = (Path(__file__).parents[1] / "fixtures" / "product-on-white.jpg").read_bytes()


@pytest.fixture(scope="module")
def llm_server() -> Iterator[str]:
    with ServerThread(create_llm_emulator(api_keys=[KEY])) as server:
        yield server.url


@pytest.fixture
def llm(llm_server: str) -> Iterator[str]:
    httpx.post(f"{llm_server}/_emulator/reset").raise_for_status()
    yield llm_server


def analyser(url: str, **settings: object) -> LlmAnalyser:
    return LlmAnalyser(load_settings(llm_base_url=f"{url}/v1", llm_api_key=KEY, **settings))


def fault(url: str, **body: object) -> None:
    httpx.post(f"{url}/_emulator/faults", json={"endpoint": "chat.completions", **body}).raise_for_status()


def state_of(url: str) -> dict:
    return httpx.get(f"{url}/_emulator/state").json()


def calls(url: str) -> int:
    return state_of(url)["calls"].get("chat.completions", 0)


async def test_structured_analysis_from_the_images_sent(llm: str) -> None:
    result = await analyser(llm).analyse([PHOTO], product_name="Red bottle")
    assert result.analyzer == "llm" and result.colours[:2] == ["red", "white"]
    assert "white studio background" in result.background_surfaces and result.images[0].background == "plain studio"
    state = state_of(llm)
    assert state["requests"] == [{"model": "gpt-4o-mini", "images": 1, "response_format": "json_schema"}]


async def test_a_malformed_answer_is_retried_once_then_falls_back(llm: str) -> None:
    fault(llm, kind="malformed", count=1)
    retried = await analyser(llm).analyse([PHOTO])
    assert retried.analyzer == "llm" and calls(llm) == 2
    fault(llm, kind="malformed", count=2)
    fallen_back = await analyser(llm).analyse([PHOTO])
    assert fallen_back.analyzer == "local" and calls(llm) == 4
    assert any("local analysis was used" in note for note in fallen_back.notes)


async def test_rate_limits_are_waited_out(llm: str) -> None:
    fault(llm, kind="rate_limit", count=1, retry_after=1)
    result = await analyser(llm).analyse([PHOTO])
    assert result.analyzer == "llm" and calls(llm) == 2


async def test_without_fallback_a_failure_is_an_error(llm: str) -> None:
    fault(llm, kind="server_error", count=None)
    with pytest.raises(AnalysisFailedError, match="HTTP 500"):
        await analyser(llm, analysis_fallback=False).analyse([PHOTO])


async def test_wrong_key_and_the_key_never_shows(llm: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = LlmAnalyser(
        load_settings(llm_base_url=f"{llm}/v1", llm_api_key="sk-wrong-000000000000", analysis_fallback=False)
    )
    with pytest.raises(AnalysisFailedError) as caught:
        await wrong.analyse([PHOTO])
    assert "HTTP 401" in caught.value.message and "sk-wrong" not in caught.value.message
    result = await analyser(llm).analyse([PHOTO])
    for text in (caplog.text, result.model_dump_json(), repr(load_settings(llm_api_key=KEY))):
        assert KEY not in text


async def test_llm_prompt_writer(llm: str) -> None:
    from veo31.analysis.local import analyse_images
    from veo31.domain import GenerationSpec
    from veo31.prompts.llm import LlmPromptWriter

    settings = load_settings(llm_base_url=f"{llm}/v1", llm_api_key=KEY)
    analysis = analyse_images([PHOTO], product_name="Red bottle")
    spec = GenerationSpec(use_case="unboxing", product_name="Red bottle", extra_prompt="End on the logo.")
    written = await LlmPromptWriter(settings).write(spec, image_count=1, analysis=analysis)
    assert written.writer == "llm" and written.prompt.startswith("Hands open a box and lift out the Red bottle")
    assert written.prompt.endswith("End on the logo.") and "white studio background" in written.prompt
    assert written.negative_prompt == "text overlays, watermarks, a distorted product"
    fault(llm, kind="malformed", count=2)
    fallen_back = await LlmPromptWriter(settings).write(spec, image_count=1, analysis=analysis)
    assert fallen_back.writer.startswith("template (llm failed") and "Red bottle" in fallen_back.prompt
