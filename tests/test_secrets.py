"""KIE_API_KEY never appears in a log line, an exception message, a repr or a CLI answer."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from tests.conftest import KieEmulatorHandle
from veo31.emulators.faults import Fault
from veo31.errors import ProviderError
from veo31.providers.kie.client import KieClient

SECRET = "kie-live-7d3f9a1c5e2b8d4f6a0c9e1b3d5f7a9c"


async def test_key_is_not_in_logs_errors_or_reprs(
    kie: KieEmulatorHandle, caplog: pytest.LogCaptureFixture, closed_port_url: str
) -> None:
    kie.configure(api_keys=[SECRET])
    caplog.set_level(logging.DEBUG)
    errors: list[ProviderError] = []
    async with KieClient(SECRET, base_url=kie.url, upload_base_url=kie.url) as client:
        task = await client.generate("Spin")
        await client.record_info(task.task_id)
        await client.credits()
        for fault in ("server_error", "malformed", "drop"):
            kie.fault(fault, endpoint="generate")
            try:
                await client.generate("Spin")
            except ProviderError as exc:
                errors.append(exc)
        texts = [repr(client), str(client.__dict__.get("retry"))]
    kie.configure(api_keys=["another-key-entirely-000"])
    async with KieClient(SECRET, base_url=kie.url) as refused:
        try:
            await refused.credits()
        except ProviderError as exc:
            errors.append(exc)
    async with KieClient(SECRET, base_url=closed_port_url) as unreachable:
        try:
            await unreachable.record_info("x")
        except ProviderError as exc:
            errors.append(exc)
    assert len(errors) == 5
    texts += [str(error) for error in errors] + [repr(error) for error in errors]
    texts += [str(error.__cause__) for error in errors] + [str(error.__context__) for error in errors]
    assert caplog.records, "DEBUG logging from httpx and httpcore was captured"
    for text in [caplog.text, *texts]:
        assert SECRET not in text


def test_key_is_not_in_cli_output(kie: KieEmulatorHandle) -> None:
    env = {**os.environ, "KIE_API_KEY": SECRET, "KIE_BASE_URL": kie.url}
    result = subprocess.run(
        [sys.executable, "-m", "veo31", "doctor"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "KIE_API_KEY" in result.stdout + result.stderr, "a refused key is named by its setting"
    assert SECRET not in result.stdout + result.stderr


GOOGLE_SECRET = "AIzaSy-live-google-0f9e8d7c6b5a4f3e2d1c"


async def test_google_key_is_not_in_logs_errors_or_reprs(
    caplog: pytest.LogCaptureFixture, closed_port_url: str
) -> None:
    from tests.contract.test_gemini_provider import request_for, settings_for
    from veo31.emulators.gemini import create_gemini_emulator
    from veo31.emulators.serve import ServerThread
    from veo31.providers.gemini.provider import GeminiProvider

    caplog.set_level(logging.DEBUG)
    errors: list[ProviderError] = []
    app = create_gemini_emulator(api_keys=[GOOGLE_SECRET], generation_seconds=0.1, clip_seconds=1, render_scale=0.25)
    with ServerThread(app) as server:
        control = app.state.emulator
        for surface in ("vertex", "gemini-api"):
            for key, url in (
                (GOOGLE_SECRET, server.url),
                ("wrong-key-0000", server.url),
                (GOOGLE_SECRET, closed_port_url),
            ):
                provider = GeminiProvider.from_settings(settings_for(surface, url, key=key))
                try:
                    for fault in ("drop", "server_error", None):
                        if fault:
                            control.faults.add(Fault(kind=fault, endpoint="predict"))
                        try:
                            task = await provider.submit(request_for("first_frame", 1))
                            await provider.status(task.task_id)
                            await provider.check()
                        except ProviderError as exc:
                            errors.append(exc)
                        control.faults.clear()
                    texts = [repr(provider), repr(provider.transport), str(provider.transport.__dict__)]
                finally:
                    await provider.aclose()
                for text in texts:
                    assert GOOGLE_SECRET not in text
    assert len(errors) >= 8
    texts = [str(error) for error in errors] + [repr(error) for error in errors]
    texts += [str(error.__cause__) for error in errors] + [str(error.__context__) for error in errors]
    assert caplog.records
    for text in [caplog.text, *texts]:
        assert GOOGLE_SECRET not in text
