"""Deliverables: the four video presets (instagram_feed, tiktok, square, landscape) made from one 8 s 1080p product
clip — tracked once, then cut and encoded four times from YUV planes, each with its sound mixed (the encoders two at
a time, one decode per pair, so their frame buffers fit a media process) — beside the floor: the same four H.264
encodes, same settings, of frames computed beforehand (read back raw from disk, no decode, no tracking, no cutting,
no sound). Each side runs in a process of its own, so its peak memory is its own.

Also the crop path's shake on a still product (output pixels per frame).

    python bench/deliver.py [--seconds 8]

Goals (the deliverables issue): ≤ 1.5× the floor's time, peak memory ≤ 500 MB; jitter ≤ 0.05 px per frame.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from veo31.finishing.deliver import deliver_many  # noqa: E402
from veo31.finishing.finder import find_product  # noqa: E402
from veo31.finishing.presets import PRESETS  # noqa: E402
from veo31.finishing.reframe import cut, fill_gaps, plan  # noqa: E402
from veo31.finishing.writers import ENCODER_THREADS  # noqa: E402
from veo31.media.planes import planes_of  # noqa: E402

VIDEO_PRESETS = ("instagram_feed", "tiktok", "square", "landscape")
FPS = 24


def source_clip(path: Path, seconds: int) -> None:
    """An 8 s 1920×1080 clip: a product standing still on a studio backdrop (lit from one side, with grain, so it
    encodes like a shot), the light breathing a little, with a soft sound."""
    rng = np.random.default_rng(7)
    backdrop = (np.linspace(236, 222, 1920)[None, :, None] * np.ones((1080, 1, 3))).astype(np.float32)
    backdrop += rng.normal(0, 2, backdrop.shape)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 1920, 1080, "yuv420p"
        video.options = {"crf": "18", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=48_000, layout="stereo")
        for index in range(FPS * seconds):
            picture = np.clip(backdrop * (0.99 + 0.01 * np.sin(index / 20)), 0, 255).astype(np.uint8)
            picture[330:780, 820:1100] = (190, 30, 40)  # the product
            picture[480:560, 835:1085] = (245, 244, 238)  # its label
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        t = np.arange(48_000 * seconds) / 48_000
        tone = (0.05 * np.sin(2 * np.pi * 196 * t)).astype(np.float32)
        samples = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
        samples.sample_rate, samples.pts = 48_000, 0
        container.mux(sound.encode(samples))
        container.mux(sound.encode(None))


def precompute(source: Path, folder: Path) -> None:
    """The floor's frames: each preset's cut frames, written raw (yuv420p) before the clock starts."""
    with av.open(str(source)) as container:
        frames = [(frame.to_ndarray(format="rgb24"), planes_of(frame)) for frame in container.decode(video=0)]
    boxes = fill_gaps([find_product(picture) for picture, _ in frames], None)
    for name in VIDEO_PRESETS:
        preset = PRESETS[name]
        windows = plan(boxes, (1920, 1080), preset, FPS, len(frames))
        with (folder / f"{name}.yuv").open("wb") as sink:
            for (_, planes), window in zip(frames, windows, strict=True):
                for plane in cut(planes, window, preset.width, preset.height):
                    sink.write(np.ascontiguousarray(plane).tobytes())


def floor(folder: Path) -> None:
    for name in VIDEO_PRESETS:
        preset = PRESETS[name]
        size = preset.width * preset.height * 3 // 2
        with (folder / f"{name}.yuv").open("rb") as raw, av.open(str(folder / f"floor-{name}.mp4"), "w") as out:
            video = out.add_stream("libx264", rate=FPS)
            video.width, video.height, video.pix_fmt = preset.width, preset.height, "yuv420p"
            video.codec_context.thread_count = ENCODER_THREADS
            video.options = {
                "crf": str(preset.crf),
                "profile": preset.profile,
                "preset": "veryfast",
            }
            index = 0
            while chunk := raw.read(size):
                planes = np.frombuffer(chunk, np.uint8).reshape(preset.height * 3 // 2, preset.width)
                frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
                frame.pts = index
                out.mux(video.encode(frame))
                index += 1
            out.mux(video.encode(None))


def ours(source: Path, folder: Path) -> float:
    made = deliver_many(source, [(PRESETS[name], folder / f"ours-{name}.mp4") for name in VIDEO_PRESETS])
    return max(item.jitter_px for item in made)


def side(name: str, folder: Path) -> None:
    """One side, in this (child) process: its wall time, CPU and peak memory as JSON."""
    started, cpu = time.perf_counter(), time.process_time()
    jitter = ours(folder / "source.mp4", folder) if name == "ours" else floor(folder)
    print(
        json.dumps(
            {
                "wall": time.perf_counter() - started,
                "cpu": time.process_time() - cpu,
                "peak_mb": peak_mb(),
                "jitter": jitter,
            }
        )
    )


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_side(name: str, folder: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--side", name, "--folder", str(folder)], capture_output=True, check=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--side", choices=["ours", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        side(args.side, args.folder)
        return
    with tempfile.TemporaryDirectory(prefix="veo31-bench-deliver-") as name:
        folder = Path(name)
        source_clip(folder / "source.mp4", args.seconds)
        precompute(folder / "source.mp4", folder)
        floor_run, our_run = run_side("floor", folder), run_side("ours", folder)
    print(f"\n4 video presets ({', '.join(VIDEO_PRESETS)}) from one {args.seconds} s 1920×1080 clip, 2 cores\n")
    print(f"  floor (precomputed frames, encode only)  {floor_run['wall']:6.1f} s   peak {floor_run['peak_mb']:.0f} MB")
    print(f"  veo31 deliver_many                        {our_run['wall']:6.1f} s   peak {our_run['peak_mb']:.0f} MB")
    print(f"  ratio veo31 / floor                       {our_run['wall'] / floor_run['wall']:6.2f}×   (goal ≤ 1.5×)")
    print(f"  CPU: floor {floor_run['cpu']:.1f} s, veo31 {our_run['cpu']:.1f} s")
    print(f"  peak memory (goal ≤ 500 MB): {our_run['peak_mb']:.0f} MB")
    print(f"  crop-path jitter on a still product: {our_run['jitter']:.4f} px per frame (goal ≤ 0.05)")


if __name__ == "__main__":
    main()
