"""`veo31 batch EXPORT` as a user runs it on a store's export, in its own process against the Kie emulator: a Google
Merchant Center feed makes a video per product (one without an image set aside, in words), saved and listed in the
results; the same command again picks the batch up and pays nothing; a crash (`kill -9`) mid-run is picked up by
the next run, each product paid once; a bad flag or a file of no known shape is refused before anything is sent."""

from __future__ import annotations

import base64
import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.cli.helpers import VEO31, run
from tests.conftest import KIE_TEST_KEY, KieEmulatorHandle, kie_env, png_bytes
from tests.databases import database_env
from tests.integration.conftest import kie_process
from veo31.media.probe import probe_video


def hosted(url: str, colour: tuple[int, int, int]) -> str:
    answer = httpx.post(
        f"{url}/api/file-base64-upload",
        headers={"Authorization": f"Bearer {KIE_TEST_KEY}"},
        json={"base64Data": base64.b64encode(png_bytes(colour=colour)).decode(), "uploadPath": "feed"},
    )
    return answer.json()["data"]["downloadUrl"]


def merchant_feed(path: Path, products: list[tuple[str, str, str]]) -> Path:
    lines = ["id\ttitle\tdescription\tlink\timage_link\tadditional_image_link\tprice"]
    lines += [
        f"{pid}\t{title}\tA product\thttps://shop.example/{pid}\t{image}\t\t9.99 EUR" for pid, title, image in products
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def env_for(tmp_path: Path, emulator: str) -> dict[str, str]:
    return kie_env(emulator, VEO31_DATA_DIR=str(tmp_path / "data"))


def test_a_merchant_feed_makes_a_video_per_product_and_the_same_command_pays_nothing_again(
    tmp_path: Path, kie: KieEmulatorHandle
) -> None:
    env = env_for(tmp_path, kie.url)
    feed = merchant_feed(
        tmp_path / "feed.tsv",
        [("SKU-1", "Red Bottle", hosted(kie.url, (200, 30, 30))), ("SKU-2", "No Photo", ""),
         ("SKU-3", "Blue Mug", hosted(kie.url, (30, 30, 200)))],
    )  # fmt: skip
    first = run("batch", str(feed), "--use-case", "product_video", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "row 2 set aside: SKU-2: no image" in first.stdout
    rows = list(csv.DictReader((tmp_path / "feed.results.csv").open(encoding="utf-8")))
    assert [(row["product_id"], row["status"]) for row in rows] == [("SKU-1", "completed"), ("SKU-3", "completed")]
    for row in rows:
        assert probe_video(Path(row["path"])).frames > 0
    assert kie.calls("generate") == 2

    again = run("batch", str(feed), "--use-case", "product_video", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Picking up batch" in again.stdout and kie.calls("generate") == 2


def test_bad_input_is_refused_in_the_words_of_the_flag_or_the_file(tmp_path: Path, kie: KieEmulatorHandle) -> None:
    env = env_for(tmp_path, kie.url)
    feed = merchant_feed(tmp_path / "feed.tsv", [("SKU-1", "Lamp", "https://example.com/lamp.jpg")])
    wrong = run("batch", str(feed), "--duration", "99", env=env, cwd=tmp_path)
    assert wrong.returncode == 2 and "--duration" in wrong.stderr, wrong.stderr
    odd = tmp_path / "odd.csv"
    odd.write_text("name,price\nLamp,3\n", encoding="utf-8")
    unknown = run("batch", str(odd), env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and "Shopify" in unknown.stderr and "name, price" in unknown.stderr
    assert kie.calls("generate") == 0 and not (tmp_path / "feed.tsv.veo31-batch.json").exists()


def test_a_batch_killed_mid_run_is_picked_up_by_the_next_run_and_paid_once(tmp_path: Path) -> None:
    with kie_process(tmp_path, clip_seconds=1, generation_seconds=3) as emulator:
        products = [(f"SKU-{n}", f"Item {n}", hosted(emulator, (40 * n, 90, 160))) for n in range(1, 5)]
        feed = merchant_feed(tmp_path / "feed.tsv", products)
        env = env_for(tmp_path, emulator)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "GEMINI_", "GOOGLE_", "VEO31_"))}
        full = {**clean, "COLUMNS": "200", **database_env(tmp_path / "data"), **env}
        with (tmp_path / "first.log").open("wb") as log:
            process = subprocess.Popen([*VEO31, "batch", str(feed)], env=full, cwd=tmp_path, stdout=log, stderr=log)
        state = tmp_path / "feed.tsv.veo31-batch.json"
        deadline = time.monotonic() + 60
        while not (state.exists() and httpx.get(f"{emulator}/_emulator/state").json()["calls"].get("generate") == 4):
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "first.log").read_text()
            time.sleep(0.1)
        # Killed while Kie makes the videos: a kill during the paid request itself is the one moment no provider
        # without idempotency keys can settle (tests/integration/test_crash.py has it), not this test's subject.
        time.sleep(1)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

        second = run("batch", str(feed), env=env, cwd=tmp_path)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "Picking up batch" in second.stdout
        rows = list(csv.DictReader((tmp_path / "feed.results.csv").open(encoding="utf-8")))
        assert [row["status"] for row in rows] == ["completed"] * 4
        calls = httpx.get(f"{emulator}/_emulator/state").json()["calls"]
        assert calls["generate"] == 4, "each product paid once, across the crash"


def test_webhook_receivers_are_managed_from_the_command_line(tmp_path: Path) -> None:
    env = {"VEO31_DATA_DIR": str(tmp_path / "data"), "VEO31_ALLOW_PRIVATE_URLS": "true"}
    added = run("webhooks", "add", "http://127.0.0.1:9/hooks", "--event", "batch.completed", env=env)
    assert added.returncode == 0, added.stdout + added.stderr
    secret = added.stdout.split("secret: ", 1)[1].split()[0]
    endpoint_id = added.stdout.split()[0]
    assert secret.startswith("whsec_") and endpoint_id.startswith("wh_")
    listed = run("webhooks", "list", "--json", env=env)
    assert listed.returncode == 0 and endpoint_id in listed.stdout and secret not in listed.stdout
    rotated = run("webhooks", "rotate", endpoint_id, env=env)
    assert rotated.returncode == 0 and "whsec_" in rotated.stdout and secret not in rotated.stdout
    assert run("webhooks", "deliveries", endpoint_id, env=env).returncode == 0
    wrong = run("webhooks", "add", "ftp://example.com/x", env=env)
    assert wrong.returncode == 2 and "not an http(s) URL" in wrong.stderr
    unknown = run("webhooks", "add", "http://127.0.0.1:9/x", "--event", "video.done", env=env)
    assert unknown.returncode == 2 and "video.done" in unknown.stderr
    assert run("webhooks", "remove", endpoint_id, env=env).returncode == 0
    assert endpoint_id not in run("webhooks", "list", env=env).stdout
    gone = run("webhooks", "remove", endpoint_id, env=env)
    assert gone.returncode == 2 and endpoint_id in gone.stderr
