"""The gate on one clip, as the API, the CLI and (next) the pipeline ask for it: what may be asked, checked like any
request, and `check_video`, which runs wherever it is called — a media process for the API, the CLI's own process.

The report holds the technical checks (`technical`) and the product's fidelity to its photos (`fidelity`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from veo31.domain import MAX_REFERENCE_IMAGES
from veo31.errors import ConfigurationError, InputError
from veo31.media.intake import normalise_image
from veo31.quality.fidelity import FidelityLimits, fidelity_checks, prepare_reference
from veo31.quality.frame import data_url, side_by_side, worst_moment
from veo31.quality.report import QualityReport
from veo31.quality.signals import read_clip
from veo31.quality.technical import Asked, Thresholds, technical_checks

MAX_SECONDS = 300.0  # a product clip is seconds long; a longer file is not one, and would hold a media process
MAX_VIDEO_BYTES = 200 * 1024 * 1024


class CheckRequest(BaseModel):
    """What the clip was asked to be; every field optional (in the words of the form and of `veo31 check`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration: float | None = Field(default=None, gt=0, le=MAX_SECONDS, description="seconds")
    resolution: str | None = Field(default=None, description="720p, 1080p, 4k or WxH")
    aspect: Literal["16:9", "9:16"] | None = None
    fps: float | None = Field(default=None, gt=0, le=240)
    audio: bool | None = Field(default=None, description="true: sound was asked for; false: none was")
    mode: Literal["text", "first_frame", "first_last", "reference"] | None = None

    @field_validator("resolution")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"720p|1080p|4k|[1-9][0-9]{1,4}x[1-9][0-9]{1,4}", value.lower()):
            raise ValueError(f"{value[:20]!r} is no resolution: use 720p, 1080p, 4k, or a size such as 1280x720")
        return value.lower() if value else value

    def asked(self) -> Asked:
        return Asked(self.duration, self.resolution, self.aspect, self.fps, self.audio)


def check_references(images: Sequence[bytes]) -> list[bytes]:
    """The reference photos, each decoded and normalised (a file that is no photo is refused, naming it)."""
    if not images:
        raise InputError("send 1–3 reference photos of the product to check the video against", field="images")
    if len(images) > MAX_REFERENCE_IMAGES:
        raise InputError(f"at most {MAX_REFERENCE_IMAGES} reference photos, got {len(images)}", field="images")
    return [normalise_image(image, label=f"photo {index + 1}").content for index, image in enumerate(images)]


@dataclass(frozen=True)
class GateLimits:
    technical: Thresholds = field(default_factory=Thresholds)
    fidelity: FidelityLimits = field(default_factory=FidelityLimits)


def limits_from(overrides: Mapping[str, float]) -> GateLimits:
    """The thresholds with `VEO31_QUALITY_THRESHOLDS` applied; an unknown name is refused, naming the setting."""
    technical = {item.name for item in fields(Thresholds)}
    fidelity = {item.name for item in fields(FidelityLimits)}
    unknown = sorted(set(overrides) - technical - fidelity)
    if unknown:
        raise ConfigurationError(
            f"VEO31_QUALITY_THRESHOLDS names {', '.join(unknown)}, which is no threshold; the thresholds are "
            f"{', '.join(sorted(technical | fidelity))}"
        )
    return GateLimits(
        replace(Thresholds(), **{name: value for name, value in overrides.items() if name in technical}),
        replace(FidelityLimits(), **{name: value for name, value in overrides.items() if name in fidelity}),
    )


def check_video(
    path: str, request: CheckRequest, references: Sequence[bytes], limits: GateLimits | None = None
) -> QualityReport:
    """The report on the clip at `path` against the (normalised) reference photos — a module-level call, so a
    media process can run it."""
    limits = limits or GateLimits()
    clip = read_clip(path, max_seconds=MAX_SECONDS)
    photos = [prepare_reference(content, index) for index, content in enumerate(references)]
    checks = [
        *technical_checks(clip, request.asked(), limits.technical),
        *fidelity_checks(clip, photos, request.mode, limits.fidelity),
    ]
    picture = side_by_side(photos[0].rgb, clip, worst_moment(clip, checks)) if photos and clip.stills else None
    return QualityReport.of(checks, data_url(picture) if picture else None)
