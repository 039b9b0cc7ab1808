"""The judge: when a vision model is configured (`VEO31_LLM_*`), the reference photos and a few frames of the clip go
to it and a structured verdict comes back — the same product or not, and what differs. It is reported beside the
local checks, never instead of them; a model that cannot be asked, or answers out of shape, is a note (a passed
check saying so), not a failed check.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import av
import openai
from pydantic import BaseModel, ConfigDict, ValidationError

from veo31.analysis.llm import data_url, describe, openai_client, strict_schema
from veo31.config import Settings
from veo31.media.poster import frame_image
from veo31.quality.report import Check, CheckKind

log = logging.getLogger("veo31.quality")

FRAMES = 3
SYSTEM = (
    "You check product videos. The first images are reference photos of one product; the images after them are "
    "frames of a video that must show exactly that product. Camera moves, zoom, new viewpoints and light changes "
    "are fine. Say whether the video shows the same product, and list what differs on the product itself: its "
    "colour, label text, logo, shape, parts. Be brief and concrete."
)


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    same_product: bool
    differences: list[str]
    summary: str


def sample_frames(path: Path | str, count: int = FRAMES, width: int = 512) -> list[bytes]:
    """`count` frames spread over the clip (its first, its last, evenly between), as JPEG — in one decode, keeping
    only the frames it picks."""
    with av.open(str(path)) as container:
        duration = container.duration / 1_000_000 if container.duration else 0.0
        moments = [duration * index / max(1, count - 1) for index in range(count - 1)]
        picks, last = [], None
        for frame in container.decode(video=0):
            if len(picks) < len(moments) and (frame.time or 0.0) >= moments[len(picks)]:
                picks.append(frame_image(frame))
            last = frame
        if last is not None:
            picks.append(frame_image(last))
    out = []
    for image in picks:
        image.thumbnail((width, width))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


async def judge(settings: Settings, references: Sequence[bytes], frames: Sequence[bytes]) -> Check:
    text = f"{len(references)} reference photo(s), then {len(frames)} frame(s) of the video."
    parts: list[dict[str, object]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": data_url(image)}} for image in [*references, *frames]]
    client = openai_client(settings)
    try:
        response = await client.chat.completions.create(
            model=settings.llm_model,
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": parts}],  # type: ignore[list-item]
            response_format=strict_schema(Verdict, "product_check"),  # type: ignore[arg-type]
            temperature=0.0,
        )
        verdict = Verdict.model_validate(json.loads(response.choices[0].message.content or ""))
    except openai.APIError as error:
        return _note(f"the judge model could not be asked ({describe(error)})")
    except (ValueError, ValidationError):
        return _note("the judge model answered out of shape; its verdict is left out")
    finally:
        await client.close()
    differences = "; ".join(verdict.differences) or verdict.summary
    if verdict.same_product:
        message = f"the judge model ({settings.llm_model}) sees the same product" + (
            f" ({differences})" if verdict.differences else ""
        )
        return Check(kind=CheckKind.JUDGE, passed=True, score=1.0, message=message)
    return Check(
        kind=CheckKind.JUDGE,
        passed=False,
        score=0.0,
        message=f"the judge model ({settings.llm_model}) sees another product: {differences}",
    )


def _note(message: str) -> Check:
    log.warning("quality judge: %s", message)
    return Check(kind=CheckKind.JUDGE, passed=True, score=1.0, message=message)
