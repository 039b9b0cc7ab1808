"""`veo31 brand-kit create|update|list`: the brand kits deliverables are drawn with — a logo (a PNG with its
transparency), colours as #RRGGBB, a call to action, the logo's corner, the end card's length, and music mixed
under the clip's sound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from veo31.cli import _first_error, _read, app, fail, out
from veo31.cli.generations import JsonOption, ServerOption, TokenOption, connect, run
from veo31.finishing.brand import BrandKit
from veo31.pipeline.brand_kits import Upload

kits = typer.Typer(help="Brand kits: the logo, colours and words drawn on deliverables.", no_args_is_help=True)
app.add_typer(kits, name="brand-kit")

FLAGS = {"name": "--name", "primary": "--primary", "text": "--text", "background": "--background",
         "logo_corner": "--corner", "cta": "--cta", "end_card_seconds": "--end-card"}  # fmt: skip


def _fields(**given: Any) -> dict[str, Any]:
    """The kit's fields as given, checked before anything is sent (an error names the flag)."""
    fields = {name: value for name, value in given.items() if value is not None}
    try:
        BrandKit(**fields)
    except ValidationError as exc:
        raise fail(_first_error(exc, FLAGS), 2) from None
    return fields


Name = Annotated[str, typer.Option("--name", help="The kit's name.")]
Logo = Annotated[Path | None, typer.Option("--logo", help="A PNG (transparency kept), WebP or JPEG.")]
Colour = Annotated[str | None, typer.Option(help="#RRGGBB")]
Corner = Annotated[str | None, typer.Option("--corner", help="top_left, top_right, bottom_left or bottom_right.")]
Music = Annotated[
    Path | None, typer.Option("--music", help="A sound file (MP3, M4A, WAV, OGG, FLAC) mixed under the clip's sound.")
]
Cta = Annotated[str | None, typer.Option("--cta", help="A call to action, e.g. 'Shop now'.")]
EndCard = Annotated[float | None, typer.Option("--end-card", help="The end card's seconds (1.5–3).")]


def _save(kit_id: str | None, files: tuple[Path | None, Path | None, bool], fields: dict[str, Any], as_json: bool,
          server: str | None, token: str | None) -> None:  # fmt: skip
    logo, music, no_music = files
    upload = Upload(_read(logo) if logo else None, _read(music) if music else None, no_music)

    async def work() -> dict[str, Any]:
        async with connect(server, token, worker=False, quiet=as_json) as client:
            return await client.save_kit(fields, upload, kit_id)

    kit = run(work)
    if as_json:
        print(json.dumps(kit, indent=2, default=str))
    else:
        out.print(f"{kit['id']} {kit['name']} (version {kit['version']})", highlight=False)


@kits.command("create")
def create(name: Name, logo: Logo = None, music: Music = None, primary: Colour = None, text: Colour = None,
           background: Colour = None, corner: Corner = None, cta: Cta = None, end_card: EndCard = None,
           as_json: JsonOption = False, server: ServerOption = None, token: TokenOption = None) -> None:  # fmt: skip
    """Make a brand kit; prints its id (give it to `veo31 deliver --brand-kit`)."""
    fields = _fields(name=name, primary=primary, text=text, background=background, logo_corner=corner, cta=cta,
                     end_card_seconds=end_card)  # fmt: skip
    _save(None, (logo, music, False), fields, as_json, server, token)


@kits.command("update")
def update(kit_id: Annotated[str, typer.Argument(help="The kit's id.")], name: Name, logo: Logo = None,
           music: Music = None,
           no_music: Annotated[bool, typer.Option("--no-music", help="Take the kit's music away.")] = False,
           primary: Colour = None, text: Colour = None, background: Colour = None, corner: Corner = None,
           cta: Cta = None, end_card: EndCard = None, as_json: JsonOption = False, server: ServerOption = None,
           token: TokenOption = None) -> None:  # fmt: skip
    """A new version of a kit (deliverables made with the old one keep theirs); without --logo or --music it keeps
    its own."""
    fields = _fields(name=name, primary=primary, text=text, background=background, logo_corner=corner, cta=cta,
                     end_card_seconds=end_card)  # fmt: skip
    if music and no_music:
        raise fail("give --music or --no-music, not both", 2)
    _save(kit_id, (logo, music, no_music), fields, as_json, server, token)


@kits.command("list")
def list_kits(as_json: JsonOption = False, server: ServerOption = None, token: TokenOption = None) -> None:
    """The brand kits, with their ids and versions."""

    async def work() -> list[dict[str, Any]]:
        async with connect(server, token, worker=False, quiet=as_json) as client:
            return await client.kits()

    found = run(work)
    if as_json:
        print(json.dumps(found, indent=2, default=str))
    for kit in found if not as_json else ():
        out.print(f"{kit['id']} {kit['name']} (version {kit['version']})", highlight=False)
