"""A quality report: every check with its verdict, a score and a message a person can act on, and where in the clip
it found the problem. It is what the API answers as `quality`, what `veo31 check --json` prints, and what is stored
with a generation."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field


class CheckKind(enum.StrEnum):
    DECODES = "decodes"
    DURATION = "duration"
    RESOLUTION = "resolution"
    ASPECT = "aspect"
    FRAME_RATE = "frame_rate"
    AUDIO = "audio"
    BLACK = "black"
    FROZEN = "frozen"
    FLICKER = "flicker"
    LETTERBOX = "letterbox"
    PRODUCT = "product"  # the product in the photos is recognisable, over enough of the clip
    COLOUR = "colour"  # its colour is the photos'
    DETAIL = "detail"  # aligned with the photo, its label, logo and outline are the photo's
    LABEL = "label"  # the words on it read as the photo's
    FIRST_FRAME = "first_frame"  # the clip opens on the first photo (first_frame and first_last modes)
    LAST_FRAME = "last_frame"  # and ends on the last (first_last)
    JUDGE = "judge"  # a vision model's verdict, beside the local checks (when one is configured)


def margin_score(off: float, allowed: float) -> float:
    """A check's score from how far off it is: 1 when exactly right, 0.5 at the limit, 0 at twice the limit."""
    return max(0.0, 1.0 - off / (2 * allowed)) if allowed > 0 else float(off == 0)


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: CheckKind
    passed: bool
    score: float = Field(ge=0.0, le=1.0, description="1 is as good as it gets; the threshold is the check's own")
    message: str = Field(description="what was found, in words a person can act on")
    at_seconds: tuple[float, float] | None = Field(default=None, description="where in the clip, when it is a stretch")


class QualityReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    passed: bool
    score: float = Field(ge=0.0, le=1.0)
    checks: list[Check]
    frame: str | None = Field(
        default=None, description="a picture of the reference beside the worst frame (a link, or a data: URL)"
    )

    @classmethod
    def of(cls, checks: Sequence[Check], frame: str | None = None) -> QualityReport:
        """Passed when every check passed; the score is the weakest check's (one bad defect is not averaged away)."""
        return cls(
            passed=all(check.passed for check in checks),
            score=round(min((check.score for check in checks), default=1.0), 3),
            checks=list(checks),
            frame=frame,
        )

    def with_check(self, check: Check) -> QualityReport:
        return QualityReport.of([*self.checks, check], self.frame)

    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]
