"""`veo31 deliver` as a user runs it, on the embedded defaults (the local renderer): the files saved, named after
the product, the day and the preset, decoded; asking again makes nothing new; a preset that does not exist is exit 2
before anything is made."""

from __future__ import annotations

import json
from pathlib import Path

import av
from PIL import Image

from tests.cli.helpers import run
from veo31.media.probe import probe_video

SCENE = str(Path(__file__).resolve().parents[1] / "fixtures" / "product-in-scene.jpg")


def test_deliver_saves_each_preset_once(tmp_path: Path) -> None:
    env = {"VEO31_DATA_DIR": str(tmp_path / "data")}
    made = run("generate", SCENE, "--product", "Desk Lamp", "--duration", "3", "--json", env=env)
    assert made.returncode == 0, made.stderr
    generation = json.loads(made.stdout)
    assert generation["quality"]["passed"] is True, generation["quality"]
    out = tmp_path / "channels"
    out.mkdir()

    wrong = run("deliver", generation["id"], "--preset", "myspace", "--out-dir", str(out), env=env)
    assert wrong.returncode == 2 and "--preset myspace is no preset" in wrong.stderr
    assert list(out.iterdir()) == []

    first = run(
        "deliver", generation["id"][:8], "-p", "square", "-p", "preview", "--out-dir", str(out), "--json", env=env
    )
    assert first.returncode == 0, first.stderr
    items = json.loads(first.stdout)
    assert [item["preset"] for item in items] == ["square", "preview"]
    day = generation["created_at"][:10]
    square, preview = out / f"desk-lamp-{day}-square.mp4", out / f"desk-lamp-{day}-preview.webp"
    assert [item["out"] for item in items] == [str(square), str(preview)]
    info = probe_video(square)
    assert (info.width, info.height) == (1080, 1080) and abs(info.duration - 3) < 0.1
    with Image.open(preview) as image:
        assert image.is_animated and image.size == (480, 480)

    again = run("deliver", generation["id"], "-p", "square", "--out-dir", str(out), "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["id"] == items[0]["id"], "the deliverable that exists, not a new one"

    wrong_colour = run("brand-kit", "create", "--name", "Lamp Co", "--primary", "blue", env=env)
    assert wrong_colour.returncode == 2 and "--primary: 'blue' is no colour" in wrong_colour.stderr
    logo = tmp_path / "logo.png"
    picture = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    picture.paste(Image.new("RGBA", (260, 100), (230, 20, 200, 255)), (20, 10))
    picture.save(logo)
    kit = run("brand-kit", "create", "--name", "Lamp Co", "--logo", str(logo), "--cta", "Shop now", "--json", env=env)
    assert kit.returncode == 0, kit.stderr
    kit_id = json.loads(kit.stdout)["id"]
    assert kit_id in run("brand-kit", "list", env=env).stdout
    not_sound = tmp_path / "jingle.mp3"
    not_sound.write_text("no sound in here")
    bad_music = run("brand-kit", "update", kit_id, "--name", "Lamp Co", "--music", str(not_sound), env=env)
    assert bad_music.returncode == 2 and "music file cannot be read" in bad_music.stderr, bad_music.stderr
    both = run("brand-kit", "update", kit_id, "--name", "Lamp Co", "--music", str(not_sound), "--no-music", env=env)
    assert both.returncode == 2 and "--no-music" in both.stderr
    lonely = run("deliver", generation["id"], "-p", "square", "--price", "€5", "--out-dir", str(out), env=env)
    assert lonely.returncode == 2 and "--brand-kit" in lonely.stderr
    branded = run(
        "deliver", generation["id"], "-p", "square", "--brand-kit", kit_id, "--price", "€49", "--out-dir",
        str(out / "branded"), "--json", env=env,
    )  # fmt: skip
    assert branded.returncode == 2 and "--out-dir" in branded.stderr, "a folder that does not exist is named"
    (out / "branded").mkdir()
    branded = run(
        "deliver", generation["id"], "-p", "square", "--brand-kit", kit_id, "--price", "€49", "--out-dir",
        str(out / "branded"), "--json", env=env,
    )  # fmt: skip
    assert branded.returncode == 0, branded.stderr
    [made_branded] = json.loads(branded.stdout)
    assert made_branded["id"] != items[0]["id"], "the branded version is a deliverable of its own"
    with av.open(made_branded["out"]) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert ((first[..., 0] > 180) & (first[..., 1] < 80) & (first[..., 2] > 150)).sum() > 500, "with the logo"
