"""`veo31 generate / status / list / cancel / fetch / batch` as a user runs them: subprocesses on the embedded
defaults (no key: the local renderer), exit codes, files that decode, and nothing left behind by bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.cli.helpers import run
from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, png_bytes
from veo31.media.probe import probe_video

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENE = str(FIXTURES / "product-in-scene.jpg")
WHITE = str(FIXTURES / "product-on-white.jpg")


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"VEO31_DATA_DIR": str(tmp_path / "data"), **extra}


def test_generate_writes_a_video_and_status_and_list_show_it(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    target = tmp_path / "lamp.mp4"
    made = run("generate", SCENE, WHITE, "--product", "Desk Lamp", "--duration", "3", "--out", str(target), env=env)
    assert made.returncode == 0, made.stderr
    for step in ("queued", "preparing", "submitted", "generating", "retrieving", "checking", "completed"):
        assert step in made.stdout
    info = probe_video(target)  # decodes every frame
    assert (info.width, info.height, info.fps, info.has_audio) == (1280, 720, 30.0, True)
    assert abs(info.duration - 3) <= 1 / 30
    generation_id = made.stdout.split("done ", 1)[1].split()[0]

    shown = run("status", generation_id, "--json", env=env)
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "completed"
    listed = json.loads(run("list", "--json", env=env).stdout)
    assert [item["id"] for item in listed] == [generation_id]
    assert listed[0]["video_url"].endswith(f"/v1/generations/{generation_id}/video")
    again = tmp_path / "again.mp4"
    fetched = run("fetch", generation_id, "--out", str(again), env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert again.read_bytes() == target.read_bytes()

    # The first characters of an id do, as in git; `list` shows ids whole even in 80 columns; `fetch` without
    # --out names the file as the page names a download.
    assert json.loads(run("status", generation_id[:6], "--json", env=env).stdout)["id"] == generation_id
    narrow = run("list", env={**env, "COLUMNS": "80"})
    assert generation_id in narrow.stdout, narrow.stdout
    named = run("fetch", generation_id[:8], env=env, cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    expected = tmp_path / f"desk-lamp-{listed[0]['created_at'][:10]}.mp4"
    assert expected.read_bytes() == target.read_bytes()
    unknown = run("status", "ffff0000", env=env)
    assert unknown.returncode != 0 and "ffff0000" in unknown.stderr


def test_json_and_vertical_options(tmp_path: Path) -> None:
    target = tmp_path / "v.mp4"
    made = run(
        "generate", WHITE, "--aspect", "9:16", "--fps", "24", "--duration", "2", "--use-case", "social_vertical",
        "--out", str(target), "--json", env=env_for(tmp_path),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    answer = json.loads(made.stdout)
    assert answer["status"] == "completed" and answer["out"] == str(target)
    info = probe_video(target)
    assert (info.width, info.height, info.fps) == (720, 1280, 24.0)


@pytest.mark.parametrize(
    "args,words",
    [
        (["missing.jpg"], "cannot read"),
        ([], "cannot make a video from text alone"),
        ([SCENE] * 4, "at most 3 reference images"),
        ([SCENE, "--use-case", "space_opera"], "--use-case: Input should be"),
        ([SCENE, "--duration", "45"], "Local renderer makes 2–30 s videos with 1–3 product photos, not 45 s"),
        (["BAD"], "not a readable JPEG, PNG or WebP"),
        ([SCENE, "--out", "/no/such/folder/v.mp4"], "does not exist"),
    ],
    ids=["unreadable", "zero-images", "four-images", "unknown-use-case", "duration", "not-an-image", "bad-out"],
)
def test_bad_input_is_exit_2_one_line_and_no_file(tmp_path: Path, args: list[str], words: str) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not an image")
    args = [str(broken) if arg == "BAD" else arg for arg in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out.mp4")]
    result = run("generate", *args, env=env_for(tmp_path), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.mp4").exists()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".mp4"] == []


def test_no_wait_then_cancel(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    started = run("generate", SCENE, "--duration", "30", "--resolution", "1080p", "--no-wait", "--json", env=env)
    assert started.returncode == 0, started.stderr
    generation_id = json.loads(started.stdout)["id"]
    canceled = run("cancel", generation_id, env=env)
    assert canceled.returncode == 0 and "canceled" in canceled.stdout, canceled.stderr
    shown = run("status", generation_id, env=env)
    assert shown.returncode == 1 and "canceled" in shown.stdout
    again = run("cancel", generation_id, env=env)
    assert again.returncode == 1 and "already canceled" in again.stderr
    assert run("status", "no-such-id", env=env).returncode == 2


def test_fetch_a_raw_kie_task(kie: KieEmulatorHandle, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {KIE_TEST_KEY}"}
    task = kie.control.post(
        "/api/v1/veo/generate", headers=headers, json={"prompt": "a lamp", "model": "veo3_fast"}
    ).json()["data"]["taskId"]
    env = env_for(tmp_path, KIE_API_KEY=KIE_TEST_KEY, KIE_BASE_URL=kie.url, KIE_UPLOAD_BASE_URL=kie.url)
    target = tmp_path / "kie.mp4"
    for _ in range(50):
        fetched = run("fetch", task, "--out", str(target), env=env)
        if fetched.returncode == 0:
            break
        assert "no video yet" in fetched.stderr, fetched.stderr
    assert fetched.returncode == 0, fetched.stderr
    assert probe_video(target).codec == "h264"


def test_batch_runs_rows_alone_and_a_rerun_skips_finished_ones(tmp_path: Path) -> None:
    for name in ("product-in-scene.jpg", "product-on-white.jpg"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "broken.jpg").write_bytes(png_bytes()[:40])
    sheet = tmp_path / "products.csv"
    sheet.write_text(
        "images,product_name,use_case,duration,aspect\n"
        "product-in-scene.jpg,Desk Lamp,product_video,2,\n"
        "product-on-white.jpg;product-in-scene.jpg,Red Bottle,turntable_360,2,9:16\n"
        "broken.jpg,Broken Row,product_video,2,\n",
        encoding="utf-8",
    )
    env = env_for(tmp_path)
    first = run("batch", str(sheet), "--concurrency", "2", env=env)
    assert first.returncode == 1, first.stdout + first.stderr  # one row failed, alone
    rows = {row["row"]: row for row in csv.DictReader((tmp_path / "products.results.csv").open())}
    assert rows["1"]["status"] == rows["2"]["status"] == "completed"
    assert rows["3"]["status"] == "failed" and "not a readable" in rows["3"]["error"]
    assert probe_video(Path(rows["2"]["path"])).height == 1280
    assert rows["1"]["url"].endswith("/video")
    lamp = Path(rows["1"]["path"]).stat().st_mtime_ns

    shutil.copy(FIXTURES / "product-on-white.jpg", tmp_path / "broken.jpg")  # the user fixes the bad row
    second = run("batch", str(sheet), env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "2 already done before" in second.stdout
    rows = {row["row"]: row for row in csv.DictReader((tmp_path / "products.results.csv").open())}
    assert all(row["status"] == "completed" for row in rows.values())
    assert Path(rows["1"]["path"]).stat().st_mtime_ns == lamp, "a finished row is not made again"
    listed = json.loads(run("list", "--json", env=env).stdout)
    assert len(listed) == 3, "the two finished rows were not submitted again"


def test_batch_refuses_a_file_without_images_column(tmp_path: Path) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text("product_name\nLamp\n", encoding="utf-8")
    result = run("batch", str(sheet), env=env_for(tmp_path))
    assert result.returncode == 2 and "images" in result.stderr


def test_server_mode_sends_the_work_to_a_running_server(tmp_path: Path) -> None:
    from tests.conftest import ServeProcess
    from tests.integration.conftest import free_port

    server = ServeProcess({}, free_port(), str(tmp_path / "server-data"))
    server.start()
    try:
        target = tmp_path / "remote.mp4"
        made = run(
            "generate", SCENE, "--duration", "2", "--out", str(target), "--server", server.url,
            env=env_for(tmp_path),
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert probe_video(target).duration == pytest.approx(2, abs=0.05)
        listed = httpx.get(f"{server.url}/v1/generations").json()["items"]
        assert len(listed) == 1, "the server made it"
        assert not (tmp_path / "data").exists(), "nothing ran in the CLI's own process"
    finally:
        server.stop()


def test_a_server_on_the_same_data_folder_is_found_and_its_links_open(tmp_path: Path) -> None:
    """`veo31 serve --emulate` runs on a port of its own; plain commands on its data folder use it (saying so),
    so their generations are its generations and every link they print opens on it."""
    from tests.conftest import ServeProcess
    from tests.integration.conftest import free_port

    data = tmp_path / "data"
    server = ServeProcess(
        {}, free_port(), str(data), args=("--emulate", "--emulator-port", str(free_port()), "--generation-seconds", "1")
    )
    server.start()
    try:
        made = run("generate", WHITE, "--product", "Found Mug", "--out", str(tmp_path / "m.mp4"), env=env_for(tmp_path))
        assert made.returncode == 0, made.stdout + made.stderr
        assert f"Using the veo31 server at {server.url}" in made.stdout
        listed = httpx.get(f"{server.url}/v1/generations").json()["items"]
        assert listed[0]["provider"] == "kie", "made by the server's provider (the emulator), not a local render"
        sheet = tmp_path / "products.csv"
        sheet.write_text(f"images,product_name\n{WHITE},Batch Bottle\n", encoding="utf-8")
        batch = run("batch", str(sheet), env=env_for(tmp_path))
        assert batch.returncode == 0, batch.stdout + batch.stderr
        row = next(csv.DictReader((tmp_path / "products.results.csv").open()))
        assert row["url"].startswith(server.url)
        opened = httpx.get(row["url"])
        assert opened.status_code == 200 and opened.headers["content-type"] == "video/mp4"
        # An id's first characters, and fetch's own file name, through the server too.
        generation_id = listed[0]["id"]
        shown = run("status", generation_id[:7], "--json", env=env_for(tmp_path))
        assert json.loads(shown.stdout)["id"] == generation_id, shown.stdout + shown.stderr
        fetched = run("fetch", generation_id[:7], env=env_for(tmp_path), cwd=tmp_path)
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        named = tmp_path / f"found-mug-{listed[0]['created_at'][:10]}.mp4"
        assert named.read_bytes() == httpx.get(listed[0]["video_url"]).content
    finally:
        server.stop()
    alone = run("list", env=env_for(tmp_path))
    assert "working alone" in alone.stdout and "server.json" not in str(list(data.iterdir()))


def test_batch_makes_each_rows_channel_versions_beside_its_video(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "product-on-white.jpg", tmp_path / "bottle.jpg")
    sheet = tmp_path / "shop.csv"
    sheet.write_text(
        "images,product_name,duration,presets\nbottle.jpg,Red Bottle,2,square;preview\nbottle.jpg,Misspelt,2,tiktokk\n",
        encoding="utf-8",
    )
    env = env_for(tmp_path)
    first = run("batch", str(sheet), env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    rows = {row["row"]: row for row in csv.DictReader((tmp_path / "shop.results.csv").open())}
    assert rows["2"]["status"] == "failed" and "column presets: 'tiktokk' is no preset" in rows["2"]["error"]
    assert rows["1"]["status"] == "completed", rows["1"]
    square, preview = (Path(path) for path in rows["1"]["deliverables"].split(";"))
    assert square.name == "001-red-bottle-square.mp4" and preview.name == "001-red-bottle-preview.webp"
    assert (probe_video(square).width, probe_video(square).height) == (1080, 1080)
    with Image.open(preview) as image:
        assert image.format == "WEBP" and image.is_animated
    made = square.stat().st_mtime_ns
    second = run("batch", str(sheet), env=env)
    assert "1 already done before" in second.stdout, second.stdout
    assert square.stat().st_mtime_ns == made, "a finished row and its versions are not made again"
