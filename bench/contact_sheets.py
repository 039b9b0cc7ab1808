"""Contact sheets of the local renderer: six frames each of its 16:9, 9:16 and 4:5 videos from the test photos, in
the flat look (the offline videos made before the studio look: photos panned whole over a blurred fill) and the
studio look (the product lifted off its backdrop, framed to fill the frame, parallax, a light sweep, an end card),
one sheet per look and shape, and the loudness of each video's sound.

    python bench/contact_sheets.py [--out bench/contact-sheets]

Look at them side by side: `flat-9x16.png` beside `studio-9x16.png`, and so on."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import av
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from veo31.media.loudness import measure  # noqa: E402
from veo31.media.render import Look, RenderSpec, render_video  # noqa: E402

PHOTOS = [ROOT / "tests" / "fixtures" / name for name in ("product-on-white.jpg", "product-in-scene.jpg")]
SHAPES = {"16x9": (1280, 720), "9x16": (720, 1280), "4x5": (864, 1080)}
FRAMES = 6
TILE_HEIGHT = 360


def sheet(video: Path, title: str) -> Image.Image:
    """Six frames spread over the clip (the last one inside its end), side by side, under a title."""
    with av.open(str(video)) as container:
        pictures = [frame.to_image() for frame in container.decode(video=0)]
    picks = [round(i * (len(pictures) - 1) / (FRAMES - 1)) for i in range(FRAMES)]
    tiles = [
        pictures[i].resize((round(TILE_HEIGHT * pictures[i].width / pictures[i].height), TILE_HEIGHT)) for i in picks
    ]
    gap = 8
    board = Image.new(
        "RGB", (sum(t.width for t in tiles) + gap * (FRAMES + 1), TILE_HEIGHT + 2 * gap + 28), (30, 30, 34)
    )
    draw = ImageDraw.Draw(board)
    draw.text((gap, 6), title, fill=(235, 235, 235))
    x = gap
    for index, tile in zip(picks, tiles, strict=True):
        board.paste(tile, (x, 28 + gap))
        draw.text((x + 4, 32 + gap), f"{index / 30:.1f} s", fill=(255, 255, 0))
        x += tile.width + gap
    return board


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "contact-sheets")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photos = [path.read_bytes() for path in PHOTOS]
    with tempfile.TemporaryDirectory(prefix="veo31-sheets-") as folder:
        for look in (Look.FLAT, Look.STUDIO):
            for shape, (width, height) in SHAPES.items():
                spec = RenderSpec(width, height, fps=30, duration=8, title="Red Bottle", look=look)
                video = render_video(photos, spec, Path(folder) / f"{look}-{shape}.mp4")
                level = measure(video)
                title = f"{look} look, {shape.replace('x', ':')} ({width}x{height}), sound {level.integrated:.1f} LUFS"
                target = args.out / f"{look}-{shape}.png"
                sheet(video, title).save(target)
                print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  {title}")


if __name__ == "__main__":
    main()
