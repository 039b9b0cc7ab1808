"""Deliverables through the session's server: a finished video made ready for channels — refused while its video
failed the quality checks and nobody approved it, then made once per preset (asking again makes nothing new),
tracked and listed with the source, every file decoded as the channel needs it, the preview an animated WebP; bad
input refused with the presets named."""

from __future__ import annotations

import io
import zipfile

import av
import httpx
from PIL import Image

from tests.clips import PHOTO
from tests.integration.conftest import Api
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
