"""The `veo31` command line (Typer + Rich).

Exit codes: 0 done, 1 a check or generation failed, 2 usage or configuration error. Errors print one red line
naming what to fix — never a traceback, never a key.
"""

from __future__ import annotations

import asyncio
import errno
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from veo31 import __version__
from veo31.config import Settings, load_settings
from veo31.errors import ConfigurationError, Veo31Error
from veo31.media.allocator import keep_heap_compact

if TYPE_CHECKING:
    from veo31.emulators.serve import ServerThread

app = typer.Typer(
    name="veo31",
    help="Product videos with Veo 3.1 — through Kie.ai, Google, or offline — tracked to a verified MP4.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
emulate_app = typer.Typer(help="Run a provider emulator on a port, for offline development and tests.")
app.add_typer(emulate_app, name="emulate")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        raise fail(exc.message, 2) from None


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"veo31 {__version__}")
        raise typer.Exit(0)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default VEO31_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default VEO31_PORT, 8000).")] = None,
    emulate: Annotated[
        bool, typer.Option("--emulate", help="Also run the built-in Kie.ai emulator and use it (no account needed).")
    ] = False,
    emulator_port: Annotated[int, typer.Option(help="Port for the built-in emulator.")] = 8100,
    generation_seconds: Annotated[float, typer.Option(help="The built-in emulator's generation time.")] = 10.0,
    no_worker: Annotated[
        bool,
        typer.Option("--no-worker", help="Serve the API and the page only; `veo31 worker` processes do the work."),
    ] = False,
) -> None:
    """Run the API, the page and the worker in one process on the embedded defaults (SQLite, the data folder)."""
    from veo31.emulators.serve import serve_forever

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    emulator = None
    if emulate:
        emulator = _start_emulator(emulator_port, generation_seconds)
        overrides.update(kie_api_key="emulator-key", kie_base_url=emulator.url, kie_upload_base_url=emulator.url)
    try:
        settings = load_settings(**overrides)
        if emulator is not None and settings.public_url is None:
            # The built-in emulator runs on this machine, so it can call back to us: no polling wait.
            settings = load_settings(**overrides, public_url=f"http://127.0.0.1:{settings.port}")
    except ConfigurationError as exc:
        raise fail(exc.message, 2) from None
    taken = port_problem(settings.host, settings.port)
    if taken is not None:
        if emulator is not None:
            emulator.stop()
        raise fail(taken, 2)
    from veo31.api.app import create_app

    shown = "localhost" if settings.host in ("127.0.0.1", "::1") else settings.host
    out.print(
        f"veo31 on [bold]http://{shown}:{settings.port}[/] — API docs at /docs, data in {settings.data_dir.resolve()}"
    )
    if emulator is not None:
        out.print(f"Kie.ai emulator on {emulator.url} ({generation_seconds:g} s per video); no account needed")
    else:
        from veo31.providers.registry import auto_order, configured_providers, label_of

        names, order = configured_providers(settings), auto_order(settings)
        auto = label_of(order[0]) if order else "none (set KIE_API_KEY)"
        out.print(f"Videos are made by: {auto} (provider auto); configured: {', '.join(names) or 'none'}")
    from veo31.cli.presence import announce, local_url, withdraw

    announced = announce(settings.data_dir, local_url(settings.host, settings.port))
    # uvicorn stops gracefully on SIGTERM, then raises it again with the handler it found: let that be an exit
    # that runs the `finally` below (the default handler would end the process before the announcement is taken
    # back).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if no_worker:
            out.print("API only (--no-worker): generations are made by `veo31 worker` processes on this database")
        serve_forever(create_app(settings, worker=not no_worker), host=settings.host, port=settings.port)
    finally:
        withdraw(announced)
        if emulator is not None:
            emulator.stop()


def port_problem(host: str, port: int) -> str | None:
    """Why veo31 cannot listen on host:port (taken, most often), said before anything claims it is running."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a closing socket is no hindrance
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} is taken (another program, or veo31 already running?); choose another with "
                    f"--port N (bash scripts/start.sh --port 8080) or VEO31_PORT=N"
                )
            return f"cannot listen on {host}:{port} ({exc.strerror}); check VEO31_HOST and VEO31_PORT"
    return None


def _start_emulator(port: int, generation_seconds: float) -> ServerThread:
    from veo31.emulators.kie import create_kie_emulator
    from veo31.emulators.serve import ServerThread

    # Upgrades take about as long as the video itself at Kie (spec §14), so they scale with it here.
    app = create_kie_emulator(
        generation_seconds=generation_seconds,
        upgrade_1080p_seconds=generation_seconds,
        upgrade_4k_seconds=2 * generation_seconds,
    )
    server = ServerThread(app, port=port)
    server.start()
    return server


@emulate_app.command("kie")
def emulate_kie(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    generation_seconds: Annotated[float, typer.Option(help="Simulated time from submit to a finished video.")] = 30.0,
    clip_seconds: Annotated[float, typer.Option(help="Length of the result videos (Kie's are 8 s).")] = 8.0,
    key: Annotated[list[str] | None, typer.Option(help="Accept only this API key (repeatable); default any.")] = None,
    credits: Annotated[float, typer.Option(help="Starting credit balance.")] = 10_000.0,
    link_ttl: Annotated[float, typer.Option(help="Seconds a result link works (Kie: 14 days).")] = 14 * 86_400.0,
    error_style: Annotated[
        str, typer.Option(help="envelope (HTTP 200 + error code) or http (real status).")
    ] = "envelope",
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Fault for the whole run, KIND[:ENDPOINT] (repeatable), e.g. fail:generate."),
    ] = None,
    public_url: Annotated[str | None, typer.Option(help="Base URL to put in result links.")] = None,
    callback_attempts: Annotated[
        int, typer.Option(help="Times a callback is tried while the receiver fails (1–10; back-off 2, 4, 8, 10 s…).")
    ] = 3,
) -> None:
    """Serve a Kie.ai emulator: every Veo 3.1 endpoint, real MP4 results, callbacks, credits and faults."""
    from pydantic import ValidationError

    from veo31.emulators.kie import create_kie_emulator
    from veo31.emulators.kie_world import KieEmulatorConfig
    from veo31.emulators.serve import serve_forever

    try:
        config = KieEmulatorConfig(
            api_keys=key or None,
            generation_seconds=generation_seconds,
            clip_seconds=clip_seconds,
            initial_credits=credits,
            link_ttl_seconds=link_ttl,
            error_style=error_style,
            public_url=public_url,
            callback_attempts=callback_attempts,
        )
        faults = [_parse_fault(text) for text in fault or []]
    except (ValidationError, ValueError) as exc:
        raise fail(f"bad emulator option: {_first_error(exc)}", 2) from None
    emulator_app = create_kie_emulator(config)
    for item in faults:
        emulator_app.state.emulator.world.faults.add(item)
    base = public_url or f"http://{host}:{port}"
    out.print(f"Kie.ai emulator on [bold]{base}[/] (generation {generation_seconds:g} s). Point veo31 at it with:")
    out.print(
        f"  export KIE_BASE_URL={base} KIE_UPLOAD_BASE_URL={base} KIE_API_KEY=any-key", highlight=False, soft_wrap=True
    )
    out.print(f"State and call counts: {base}/_emulator/state", highlight=False)
    serve_forever(emulator_app, host=host, port=port)


@emulate_app.command("gemini")
def emulate_gemini(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8200,
    generation_seconds: Annotated[float, typer.Option(help="Simulated time from submit to a finished video.")] = 20.0,
    clip_seconds: Annotated[
        float | None, typer.Option(help="Length of the result videos; default as asked (4, 6 or 8 s).")
    ] = None,
    key: Annotated[list[str] | None, typer.Option(help="Accept only this API key (repeatable); default any.")] = None,
    retired: Annotated[
        list[str] | None, typer.Option(help="Answer 404 'no longer available' for this model (repeatable).")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Fault for the whole run, KIND[:ENDPOINT] (repeatable), e.g. rai_audio or rate_limit:predict."
        ),
    ] = None,
) -> None:
    """Serve a Google Veo 3.1 emulator: Vertex AI and the Gemini API, real MP4 results, filters and faults."""
    from pydantic import ValidationError

    from veo31.emulators.gemini import GeminiEmulatorConfig, create_gemini_emulator
    from veo31.emulators.serve import serve_forever

    try:
        config = GeminiEmulatorConfig(
            api_keys=key or None,
            generation_seconds=generation_seconds,
            clip_seconds=clip_seconds,
            retired_models=retired or [],
        )
        faults = [_parse_fault(text) for text in fault or []]
    except (ValidationError, ValueError) as exc:
        raise fail(f"bad emulator option: {_first_error(exc)}", 2) from None
    emulator_app = create_gemini_emulator(config)
    for item in faults:
        emulator_app.state.emulator.faults.add(item)
    base = f"http://{host}:{port}"
    out.print(f"Google Veo emulator on [bold]{base}[/] (generation {generation_seconds:g} s). Point veo31 at it:")
    out.print(f"  Gemini API: export GEMINI_BASE_URL={base} GEMINI_API_KEY=any-key", highlight=False, soft_wrap=True)
    out.print(
        f"  Vertex AI:  export VEO31_VERTEX_BASE_URL={base} GOOGLE_GENAI_USE_VERTEXAI=true GOOGLE_API_KEY=any-key",
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"State and call counts: {base}/_emulator/state", highlight=False)
    serve_forever(emulator_app, host=host, port=port)


@emulate_app.command("llm")
def emulate_llm(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8300,
    key: Annotated[list[str] | None, typer.Option(help="Accept only this API key (repeatable); default any.")] = None,
    fault: Annotated[
        list[str] | None, typer.Option(help="Fault for the whole run: rate_limit, server_error, …")
    ] = None,
) -> None:
    """Serve an OpenAI-compatible chat-completions emulator that answers from the images it is sent."""
    from veo31.emulators.llm import create_llm_emulator
    from veo31.emulators.serve import serve_forever

    try:
        faults = [_parse_fault(text) for text in fault or []]
    except ValueError as exc:
        raise fail(f"bad emulator option: {_first_error(exc)}", 2) from None
    emulator_app = create_llm_emulator(api_keys=key or None)
    for item in faults:
        emulator_app.state.emulator.faults.add(item)
    out.print(f"OpenAI-compatible emulator on http://{host}:{port}/v1 — use it with:", soft_wrap=True)
    out.print(
        f"  export VEO31_LLM_BASE_URL=http://{host}:{port}/v1 VEO31_LLM_API_KEY=any-key",
        highlight=False,
        soft_wrap=True,
    )
    serve_forever(emulator_app, host=host, port=port)


@app.command()
def analyze(
    images: Annotated[list[Path], typer.Argument(help="1–3 reference photos (JPEG, PNG or WebP).")],
    video: Annotated[Path | None, typer.Option(help="A reference video to take the camera motion from.")] = None,
    use_case: Annotated[str, typer.Option(help="product_video, hero_image, turntable_360, …")] = "product_video",
    product: Annotated[str | None, typer.Option(help="The product's name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Steps 1 and 2: analyse reference photos (and a video) and print the prompt a generation would use."""
    import json

    from pydantic import ValidationError

    from veo31.domain import GenerationSpec
    from veo31.errors import InputError
    from veo31.pipeline.intake import analyse_files

    settings = settings_or_exit()
    try:
        spec = GenerationSpec(use_case=use_case, product_name=product)  # type: ignore[arg-type]
        contents = [_read(path) for path in images]
        analysis, written = asyncio.run(analyse_files(settings, spec, contents, _read(video) if video else None))
    except ValidationError as exc:
        raise fail(_first_error(exc), 2) from None
    except InputError as exc:
        raise fail(exc.message, 2) from None
    if as_json:
        print(
            json.dumps(
                {
                    "analysis": analysis.model_dump(mode="json"),
                    "prompt": written.prompt,
                    "negative_prompt": written.negative_prompt,
                },
                indent=2,
            )
        )
        return
    out.print(f"[bold]Analysis[/] ({analysis.analyzer}): {analysis.summary}", soft_wrap=True)
    for note in analysis.images:
        out.print(f"  photo {note.index + 1}: {note.notes}", soft_wrap=True, highlight=False)
    if analysis.video:
        out.print(f"  video: {analysis.video.notes}", soft_wrap=True, highlight=False)
    out.print(
        f"\n[bold]Prompt[/]\n{written.prompt}\n\n[bold]Negative prompt[/]\n{written.negative_prompt}",
        soft_wrap=True,
        highlight=False,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}", 2) from None


def _parse_fault(text: str) -> object:
    from veo31.emulators.faults import Fault

    kind, _, endpoint = text.partition(":")
    return Fault(kind=kind.strip(), endpoint=endpoint.strip() or "*", count=None)  # type: ignore[arg-type]


def _first_error(exc: Exception, names: dict[str, str] | None = None) -> str:
    """The first problem, named as the person typed it: `names` maps a field to its flag or column (by default
    a field is its --flag)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        error = exc.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"])
        shown = (names or {}).get(field) or f"--{field.replace('_', '-')}"
        return f"{shown}: {str(error['msg']).removeprefix('Value error, ')}"
    return str(exc)


def main() -> None:
    """Console-script entry point."""
    keep_heap_compact()  # before any command starts a thread
    try:
        app()
    except Veo31Error as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


# The commands that live in their own modules register themselves on `app` when imported.
from veo31.cli import (  # noqa: E402
    batch as _batch,
    brand as _brand,
    check as _check,
    deliver as _deliver,
    doctor as _doctor,
    generations as _generations,
    review as _review,
    webhooks as _webhooks,
)

__all__ = [
    "_batch", "_brand", "_check", "_deliver", "_doctor", "_generations", "_review", "_webhooks", "app", "main",
]  # fmt: skip
