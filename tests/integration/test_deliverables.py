"""Deliverables through the session's server: a finished video made ready for channels — refused while its video
failed the quality checks and nobody approved it, then made once per preset (asking again makes nothing new),
tracked and listed with the source, every file decoded as the channel needs it, the preview an animated WebP; bad
input refused with the presets named. Brand kits: versioned, their logo drawn on and their music mixed under."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import av
import httpx
import numpy as np
from PIL import Image

from tests.clips import PHOTO
from tests.integration.conftest import Api
from tests.unit.test_branding import band_level, tone_file
from veo31.finishing.presets import PRESETS

FINAL = {"completed", "failed", "canceled", "needs_review"}


def finished(api: Api) -> dict:
    generation = api.create(files=[PHOTO.read_bytes()], product_name="Blue Mug")
    return api.wait(generation["id"], FINAL)


def deliver(api: Api, generation_id: str, *presets: str) -> httpx.Response:
    return api.http.post(f"/v1/generations/{generation_id}/deliverables", json={"presets": list(presets)})


def test_a_finished_video_is_delivered_once_per_preset(api: Api) -> None:
    source = finished(api)
    assert source["status"] == "completed" and source["quality"]["passed"] is False  # the emulator's 1 s clips
    refused = deliver(api, source["id"], "tiktok")
    assert refused.status_code == 409 and "failed the quality checks" in refused.json()["detail"]
    assert "approve" in source["links"]
    approved = api.http.post(f"/v1/generations/{source['id']}/approve", json={"note": "short on purpose"})
    assert approved.status_code == 200 and approved.json()["status"] == "completed"

    asked = deliver(api, source["id"], "tiktok", "preview", "landscape", "tiktok")
    assert asked.status_code == 201, asked.text
    made = asked.json()["deliverables"]
    assert [item["preset"] for item in made] == ["tiktok", "preview", "landscape"], "each preset once, in order"
    done = {item["preset"]: api.wait(item["id"], FINAL, timeout=180) for item in made}
    assert all(item["status"] == "completed" for item in done.values()), [i["history"] for i in done.values()]

    listed = {item["preset"]: item for item in api.get(source["id"])["deliverables"]}
    assert set(listed) == {"tiktok", "preview", "landscape"}
    for name, item in listed.items():
        preset = PRESETS[name]
        assert (item["width"], item["height"]) == (preset.width, preset.height)
        assert 0 < item["bytes"] <= preset.max_bytes and item["duration_seconds"] > 0
        content = httpx.get(item["video_url"]).content
        assert len(content) == item["bytes"]
        if name == "preview":
            with Image.open(io.BytesIO(content)) as image:
                assert image.format == "WEBP" and image.is_animated and image.size == (480, 480)
            assert httpx.get(item["video_url"]).headers["content-type"] == "image/webp"
            continue
        with av.open(io.BytesIO(content)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.name, stream.width, stream.height) == ("h264", preset.width, preset.height)
            assert sum(1 for _ in container.decode(stream)) > 0
    partial = httpx.get(listed["tiktok"]["video_url"], headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206 and len(partial.content) == 100
    assert listed["tiktok"]["download_name"].endswith("-tiktok.mp4")

    links = api.get(source["id"])["links"]
    archive = httpx.get(links["deliverables_zip"])
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        sizes = {info.filename: info.file_size for info in zipped.infolist()}
    assert sizes == {item["download_name"]: item["bytes"] for item in listed.values()}, "download all: one ZIP"

    again = deliver(api, source["id"], "tiktok", "preview")
    assert again.status_code == 200, "nothing new is made"
    assert [item["id"] for item in again.json()["deliverables"]] == [listed["tiktok"]["id"], listed["preview"]["id"]]
    gallery = api.http.get("/v1/generations", params={"limit": 100}).json()["items"]
    assert not any(item["id"] in {d["id"] for d in made} for item in gallery), "listed with their source only"


def test_bad_requests_for_deliverables_are_refused_with_what_to_do(api: Api) -> None:
    source = finished(api)
    unknown = deliver(api, source["id"], "myspace")
    assert unknown.status_code == 422 and "tiktok" in unknown.text and "myspace" in unknown.text
    assert deliver(api, source["id"]).status_code == 422
    running = api.create(files=[PHOTO.read_bytes()], product_name="Not yet")
    early = deliver(api, running["id"], "square")
    assert early.status_code == 409 and "only a finished video" in early.json()["detail"]
    assert deliver(api, "0" * 32, "square").status_code == 404
    nothing_yet = api.http.get(f"/v1/generations/{source['id']}/deliverables.zip")
    assert nothing_yet.status_code == 404 and "make some first" in nothing_yet.json()["detail"]
    presets = api.http.get("/v1/presets").json()
    assert {preset["name"] for preset in presets} == set(PRESETS)
    assert next(p for p in presets if p["name"] == "instagram_reel")["safe_zone"]["bottom"] == 0.35
    api.wait(running["id"], FINAL)


def logo_png() -> bytes:
    image = Image.new("RGBA", (320, 120), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (280, 100), (230, 20, 200, 255)), (20, 10))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_brand_kit_is_versioned_and_drawn_on_deliverables(api: Api) -> None:
    logo = {"logo": ("logo.png", logo_png(), "image/png")}
    bad = api.http.post("/v1/brand-kits", data={"name": "Mug Co", "primary": "blue"}, files=logo)
    assert bad.status_code == 422 and "write it as #RRGGBB" in bad.text
    made = api.http.post(
        "/v1/brand-kits", data={"name": "Mug Co", "background": "#f5f5f5", "cta": "Shop now"}, files=logo
    )
    assert made.status_code == 201, made.text
    kit = made.json()
    assert kit["version"] == 1 and kit["text"] == "#ffffff" and kit["end_card_seconds"] == 2.0
    with Image.open(io.BytesIO(httpx.get(kit["logo_url"]).content)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0, "the logo keeps its transparency"
    assert [item["id"] for item in api.http.get("/v1/brand-kits").json()["items"]].count(kit["id"]) == 1

    source = finished(api)
    assert api.http.post(f"/v1/generations/{source['id']}/approve").status_code == 200
    assert deliver(api, source["id"], "square").status_code == 201  # plain
    priced = {"presets": ["square"], "brand_kit": kit["id"], "price": "€29"}
    branded = api.http.post(f"/v1/generations/{source['id']}/deliverables", json=priced)
    assert branded.status_code == 201, "a branded version is another deliverable than the plain one"
    [item] = branded.json()["deliverables"]
    done = api.wait(item["id"], FINAL, timeout=180)
    assert done["status"] == "completed", done["history"]
    with av.open(io.BytesIO(httpx.get(done["video_url"]).content)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    magenta = (first[..., 0] > 180) & (first[..., 1] < 80) & (first[..., 2] > 150)
    assert magenta.sum() > 500, "the logo is on the frames"
    again = api.http.post(f"/v1/generations/{source['id']}/deliverables", json=priced)
    assert again.status_code == 200 and again.json()["deliverables"][0]["id"] == item["id"]

    updated = api.http.put(f"/v1/brand-kits/{kit['id']}", data={"name": "Mug Co", "cta": "Buy now"})
    assert updated.status_code == 200 and updated.json()["version"] == 2 and updated.json()["logo_url"]
    newer = api.http.post(f"/v1/generations/{source['id']}/deliverables", json=priced)
    assert newer.status_code == 201, "a new version of the kit makes a new deliverable; the first keeps its own"
    assert api.wait(newer.json()["deliverables"][0]["id"], FINAL, timeout=180)["status"] == "completed"

    unknown = api.http.post(f"/v1/generations/{source['id']}/deliverables", json={**priced, "brand_kit": "nope"})
    assert unknown.status_code == 404 and "GET /v1/brand-kits" in unknown.json()["detail"]
    lonely = api.http.post(f"/v1/generations/{source['id']}/deliverables", json={"presets": ["square"], "price": "€1"})
    assert lonely.status_code == 422 and "brand kit" in lonely.text


def test_a_brand_kits_music_is_checked_stored_and_mixed_under_its_deliverables(api: Api, tmp_path: Path) -> None:
    not_sound = {"music": ("jingle.mp3", b"this is no sound file", "audio/mpeg")}
    refused = api.http.post("/v1/brand-kits", data={"name": "Tea Co"}, files=not_sound)
    assert refused.status_code == 422 and "music file cannot be read" in refused.json()["detail"]
    music = tone_file(tmp_path / "jingle.m4a", 2.0, 660, 0.3).read_bytes()
    made = api.http.post("/v1/brand-kits", data={"name": "Tea Co"}, files={"music": ("jingle.m4a", music, "audio/mp4")})
    assert made.status_code == 201, made.text
    kit = made.json()
    heard = httpx.get(kit["music_url"])
    assert heard.status_code == 200 and heard.content == music and heard.headers["content-type"] == "audio/mp4"

    source = finished(api)
    assert api.http.post(f"/v1/generations/{source['id']}/approve").status_code == 200
    asked = api.http.post(
        f"/v1/generations/{source['id']}/deliverables", json={"presets": ["landscape"], "brand_kit": kit["id"]}
    )
    assert asked.status_code == 201, asked.text
    done = api.wait(asked.json()["deliverables"][0]["id"], FINAL, timeout=180)
    assert done["status"] == "completed", done["history"]
    with av.open(io.BytesIO(httpx.get(done["video_url"]).content)) as container:
        sound = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(audio=0)])
    assert band_level(sound, 660, 0.2, 0.9) > band_level(sound, 1500, 0.2, 0.9) + 20, "the kit's music is in it"

    dropped = api.http.put(f"/v1/brand-kits/{kit['id']}", data={"name": "Tea Co", "remove_music": "true"})
    assert dropped.status_code == 200 and dropped.json()["music_url"] is None and dropped.json()["version"] == 2


def test_bars_are_a_deliverable_of_their_own_when_asked(api: Api) -> None:
    source = finished(api)
    assert api.http.post(f"/v1/generations/{source['id']}/approve").status_code == 200
    plain = deliver(api, source["id"], "tiktok").json()["deliverables"][0]
    asked = {"presets": ["tiktok"], "letterbox": True}
    barred = api.http.post(f"/v1/generations/{source['id']}/deliverables", json=asked)
    assert barred.status_code == 201, "bars are another version than the backdrop carried on"
    item = barred.json()["deliverables"][0]
    assert item["id"] != plain["id"] and item["letterbox"] is True and plain["letterbox"] is False
    done = api.wait(item["id"], FINAL, timeout=180)
    assert done["status"] == "completed", done["history"]
    assert done["download_name"].endswith("-tiktok-bars.mp4")
    again = api.http.post(f"/v1/generations/{source['id']}/deliverables", json=asked)
    assert again.status_code == 200 and again.json()["deliverables"][0]["id"] == item["id"]
