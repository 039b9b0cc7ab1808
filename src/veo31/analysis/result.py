"""What an analysis says, whichever analyser made it: per-image notes, the camera motion of a reference video,
and the merged description (objects, materials, lighting, camera work, composition, background, style, mood)
that step 2 writes the prompt from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CameraMotion = Literal[
    "static",
    "pan left",
    "pan right",
    "tilt up",
    "tilt down",
    "push in",
    "pull out",
    "orbit-like",
    "handheld",
    "unknown",  # the frames gave too little texture to judge by
]
Pace = Literal["still", "slow", "moderate", "fast", "unknown"]


class Colour(BaseModel):
    name: str
    hex: str
    share: float = Field(ge=0, le=1)


class ImageNotes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    width: int
    height: int
    orientation: Literal["landscape", "portrait", "square"]
    colours: list[Colour]
    background: Literal["plain studio", "scene"]
    background_colour: str | None = None
    subject_box: tuple[float, float, float, float] = Field(description="x, y, width, height as shares of the frame")
    subject_fill: float = Field(ge=0, le=1, description="share of the frame the product fills")
    subject_position: str
    brightness: float = Field(description="mean lightness, 0–100")
    contrast: float = Field(description="spread of lightness, 0–100")
    lighting: str
    sharpness: float
    focus: Literal["sharp", "slightly soft", "blurry"]
    notes: str


class MotionSegment(BaseModel):
    start: float
    end: float
    motion: CameraMotion


class VideoNotes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration: float
    fps: float
    frames_analysed: int
    camera_motion: CameraMotion
    segments: list[MotionSegment]
    pace: Pace
    cuts: int
    notes: str

    def camera_words(self) -> str | None:
        """The camera move to ask for, in a prompt's words; None when it could not be judged (nothing to follow)."""
        if self.camera_motion == "unknown":
            return None
        if self.camera_motion == "static":
            return "a still, locked-off camera, as in the reference video"
        return f"{self.camera_motion} at a {self.pace} pace, as in the reference video"


class Analysis(BaseModel):
    """The merged description of 1–3 photos (and maybe a video) that a prompt is written from."""

    model_config = ConfigDict(extra="forbid")

    analyzer: Literal["local", "llm"]
    main_objects: list[str]
    materials: list[str]
    colours: list[str]
    lighting: str
    camera_work: str
    composition: str
    background_surfaces: str
    style_and_mood: str
    summary: str
    images: list[ImageNotes] = Field(default_factory=list)
    video: VideoNotes | None = None
    notes: list[str] = Field(default_factory=list, description="caveats, e.g. a fallback from the llm analyser")
