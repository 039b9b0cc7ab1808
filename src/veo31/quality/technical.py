"""The technical checks, for every provider: the clip is what was asked (length, size, aspect, rate, sound) and shows
something (no black or frozen stretch, no flicker, no bars nobody asked for).

What was asked is optional, field by field: without it a check that needs it is not made, and the rest — black,
frozen, flicker, bars, silence where a track exists — still are. Thresholds come from `Thresholds`, so the
settings can move them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veo31.quality.report import Check, CheckKind, margin_score
from veo31.quality.signals import ClipSignals

RESOLUTIONS = {"720p": 720, "1080p": 1080, "4k": 2160}
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16}


@dataclass(frozen=True)
class Asked:
    """What the request asked for; None where it did not say."""

    duration: float | None = None
    resolution: str | None = None  # 720p, 1080p, 4k, or WxH
    aspect: str | None = None  # 16:9 or 9:16
    fps: float | None = None
    audio: bool | None = None


@dataclass(frozen=True)
class Thresholds:
    duration_seconds: float = 0.5  # a clip may be this much shorter or longer than asked
    fps: float = 0.5
    aspect: float = 0.02  # relative
    black_luma: float = 16.0  # a frame darker than this on average (and nearly all of it) is black
    black_seconds: float = 0.5  # a fade may be black this long
    frozen_level: float = 2.0  # grey levels nearly every pixel of the same picture stays within, re-encoded
    frozen_difference: float = 0.2  # and its mean change
    frozen_drift: float = 1.0  # mean grey levels a frozen stretch's first and last frames may differ by
    frozen_seconds: float = 2.0  # a product shot may rightly hold still a moment (an eased start, a pause on the label)
    flicker_step: float = 6.0  # grey levels a whole frame jumps up then down (or down then up) to count
    flicker_share: float = 0.08  # of the clip's frames caught in such jumps
    bar_luma: float = 20.0
    bar_share: float = 0.04  # of the height (or width) per bar
    silent_lufs: float = -50.0


def technical_checks(clip: ClipSignals, asked: Asked, limits: Thresholds | None = None) -> list[Check]:
    limits = limits or Thresholds()
    checks = [Check(kind=CheckKind.DECODES, passed=True, score=1.0, message=_decoded(clip))]
    if asked.duration is not None:
        checks.append(_duration(clip, asked.duration, limits))
    if asked.resolution is not None:
        checks.append(_resolution(clip, asked.resolution, asked.aspect))
    if asked.aspect is not None:
        checks.append(_aspect(clip, asked.aspect, limits))
    if asked.fps is not None:
        checks.append(_frame_rate(clip, asked.fps, limits))
    audio = _audio(clip, asked.audio, limits)
    if audio is not None:
        checks.append(audio)
    black = _black_frames(clip, limits)
    checks += [_black(clip, black, limits), _frozen(clip, black, limits), _flicker(clip, limits)]
    checks.append(_letterbox(clip, black, limits))
    return checks


def _decoded(clip: ClipSignals) -> str:
    return f"{clip.frames} frames decoded: {clip.width}×{clip.height}, {clip.duration:.2f} s, {clip.fps:g} fps"


def _duration(clip: ClipSignals, asked: float, limits: Thresholds) -> Check:
    off = abs(clip.duration - asked)
    passed = off <= limits.duration_seconds
    message = f"{clip.duration:.2f} s long" + ("" if passed else f" where {asked:g} s was asked")
    return Check(
        kind=CheckKind.DURATION, passed=passed, score=margin_score(off, limits.duration_seconds), message=message
    )


def target_size(resolution: str, aspect: str | None) -> tuple[int, int] | None:
    """(width, height) a resolution means: `WxH` as given; `720p` etc. as its short side at the aspect asked."""
    if "x" in resolution.lower():
        width, _, height = resolution.lower().partition("x")
        return int(width), int(height)
    short = RESOLUTIONS.get(resolution.lower())
    if short is None:
        return None
    long = round(short * 16 / 9)
    return (short, long) if aspect == "9:16" else (long, short)


def _resolution(clip: ClipSignals, resolution: str, aspect: str | None) -> Check:
    target = target_size(resolution, aspect)
    size = f"{clip.width}×{clip.height}"
    if target is None:
        return Check(kind=CheckKind.RESOLUTION, passed=True, score=1.0, message=f"{size} ({resolution} is not a size)")
    if aspect is None:  # either orientation of the asked size is what was asked
        matches = sorted((clip.width, clip.height)) == sorted(target)
    else:
        matches = (clip.width, clip.height) == target
    message = size if matches else f"{size} where {target[0]}×{target[1]} ({resolution}) was asked"
    pixels = clip.width * clip.height / (target[0] * target[1])
    return Check(
        kind=CheckKind.RESOLUTION, passed=matches, score=1.0 if matches else min(1.0, pixels) / 2, message=message
    )


def _aspect(clip: ClipSignals, aspect: str, limits: Thresholds) -> Check:
    wanted = ASPECTS.get(aspect)
    ratio = clip.width / clip.height
    if wanted is None:
        return Check(kind=CheckKind.ASPECT, passed=True, score=1.0, message=f"{ratio:.3f} ({aspect} is not known)")
    off = abs(ratio - wanted) / wanted
    passed = off <= limits.aspect
    shown = "16:9" if ratio > 1 else "9:16" if abs(ratio - 9 / 16) / (9 / 16) <= limits.aspect else f"{ratio:.2f}:1"
    message = f"{aspect} as asked" if passed else f"{shown} where {aspect} was asked"
    return Check(kind=CheckKind.ASPECT, passed=passed, score=margin_score(off, limits.aspect), message=message)


def _frame_rate(clip: ClipSignals, fps: float, limits: Thresholds) -> Check:
    off = abs(clip.fps - fps)
    passed = off <= limits.fps
    message = f"{clip.fps:g} fps" + ("" if passed else f" where {fps:g} fps was asked")
    return Check(kind=CheckKind.FRAME_RATE, passed=passed, score=margin_score(off, limits.fps), message=message)


def _audio(clip: ClipSignals, asked: bool | None, limits: Thresholds) -> Check | None:
    if asked is False or (asked is None and not clip.has_audio):
        return None  # no sound was asked for, and none is there to judge
    if not clip.has_audio:
        return Check(kind=CheckKind.AUDIO, passed=False, score=0.0, message="no audio track, where sound was asked")
    loudness = clip.loudness if clip.loudness is not None else -70.0
    passed = loudness > limits.silent_lufs
    if passed:
        message = f"sound at {loudness:.1f} LUFS (integrated, EBU R128)"
    else:
        message = f"the audio track is silent ({loudness:.1f} LUFS, below {limits.silent_lufs:g})"
    score = min(1.0, max(0.0, (loudness + 70.0) / (2 * (limits.silent_lufs + 70.0))))
    return Check(kind=CheckKind.AUDIO, passed=passed, score=score, message=message)


def _black_frames(clip: ClipSignals, limits: Thresholds) -> np.ndarray:
    means = clip.luma.reshape(clip.frames, -1).mean(axis=1)
    bright = np.percentile(clip.luma.reshape(clip.frames, -1), 98, axis=1)
    return (means < limits.black_luma) & (bright < 2 * limits.black_luma)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges where `flags` holds."""
    runs, start = [], None
    for index, flag in enumerate(flags):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(flags)))
    return runs


def _span(clip: ClipSignals, start: int, end: int) -> tuple[float, float]:
    step = 1 / clip.fps if clip.fps else 0.0
    return round(float(clip.times[start]), 2), round(float(clip.times[end - 1]) + step, 2)


def _longest(clip: ClipSignals, flags: np.ndarray) -> tuple[float, tuple[float, float] | None]:
    spans = [_span(clip, start, end) for start, end in _runs(flags)]
    if not spans:
        return 0.0, None
    worst = max(spans, key=lambda span: span[1] - span[0])
    return worst[1] - worst[0], worst


def _black(clip: ClipSignals, black: np.ndarray, limits: Thresholds) -> Check:
    seconds, where = _longest(clip, black)
    passed = seconds <= limits.black_seconds
    if where is None:
        message = "no black frames"
    elif passed:
        message = f"black for {seconds:.1f} s at {where[0]:.1f} s (a fade)"
    else:
        message = f"black for {seconds:.1f} s ({where[0]:.1f}–{where[1]:.1f} s)"
    score = margin_score(max(0.0, seconds), limits.black_seconds) if seconds else 1.0
    return Check(
        kind=CheckKind.BLACK, passed=passed, score=score, message=message, at_seconds=None if passed else where
    )


def _frozen(clip: ClipSignals, black: np.ndarray, limits: Thresholds) -> Check:
    if clip.frames < 2:
        return Check(kind=CheckKind.FROZEN, passed=True, score=1.0, message="a single frame: nothing to compare")
    change = np.abs(np.diff(clip.luma.astype(np.int16), axis=0)).reshape(clip.frames - 1, -1)
    # The same picture: hardly any pixel changed (a slow move over a plain backdrop still moves the product's
    # edges by many levels) and not all of them a little (a light that slowly changes).
    still = (np.percentile(change, 99.5, axis=1) <= limits.frozen_level) & (
        change.mean(axis=1) < limits.frozen_difference
    )
    same = np.concatenate([[False], still]) & ~black
    # A run of n identical frames after the first holds the picture for n + 1 frames.
    held = same.copy()
    held[:-1] |= same[1:]
    luma = clip.luma.astype(np.int16)
    for start, end in _runs(held):
        # A stretch whose ends differ moved after all, too slowly to show from one frame to the next (a light
        # that changes over seconds): not frozen.
        if np.abs(luma[end - 1] - luma[start]).mean() >= limits.frozen_drift:
            held[start:end] = False
    seconds, where = _longest(clip, held)
    passed = seconds < limits.frozen_seconds
    message = (
        "the picture keeps moving"
        if where is None or passed
        else (f"the picture is frozen for {seconds:.1f} s ({where[0]:.1f}–{where[1]:.1f} s)")
    )
    score = 1.0 if where is None else margin_score(seconds, limits.frozen_seconds)
    return Check(
        kind=CheckKind.FROZEN, passed=passed, score=score, message=message, at_seconds=None if passed else where
    )


def _flicker(clip: ClipSignals, limits: Thresholds) -> Check:
    means = clip.luma.reshape(clip.frames, -1).mean(axis=1)
    steps = np.diff(means)
    if len(steps) < 2:
        return Check(kind=CheckKind.FLICKER, passed=True, score=1.0, message="too short to flicker")
    big = np.abs(steps) >= limits.flicker_step
    reversal = big[:-1] & big[1:] & (np.sign(steps[:-1]) != np.sign(steps[1:]))
    caught = np.zeros(clip.frames, dtype=bool)
    caught[1:-1] |= reversal
    share = float(caught.mean())
    passed = share <= limits.flicker_share
    seconds, where = _longest(clip, caught)
    message = "steady light" if passed else f"the light flickers in {share:.0%} of the frames"
    if not passed and where is not None:
        message += f" (worst {where[0]:.1f}–{where[1]:.1f} s)"
    return Check(
        kind=CheckKind.FLICKER,
        passed=passed,
        score=margin_score(share, limits.flicker_share),
        message=message,
        at_seconds=None if passed else where,
    )


def _letterbox(clip: ClipSignals, black: np.ndarray, limits: Thresholds) -> Check:
    shown = clip.luma[~black]
    if len(shown) == 0:
        return Check(kind=CheckKind.LETTERBOX, passed=True, score=1.0, message="no picture to look for bars in")
    rows = shown.max(axis=0).mean(axis=1)  # the brightest any frame gets, row by row
    columns = shown.max(axis=0).mean(axis=0)
    bars = {"top": _edge(rows, limits), "bottom": _edge(rows[::-1], limits)}
    sides = {"left": _edge(columns, limits), "right": _edge(columns[::-1], limits)}
    found = []
    for name, share in {**bars, **sides}.items():
        if share >= limits.bar_share:
            found.append(f"{name} {share:.0%}")
    passed = not found
    message = "no bars" if passed else f"black bars nobody asked for: {', '.join(found)} of the picture"
    worst = max([*bars.values(), *sides.values()])
    return Check(kind=CheckKind.LETTERBOX, passed=passed, score=margin_score(worst, limits.bar_share), message=message)


def _edge(profile: np.ndarray, limits: Thresholds) -> float:
    """How much of the picture, from this edge in, is dark in every frame."""
    dark = 0
    for value in profile:
        if value >= limits.bar_luma:
            break
        dark += 1
    return dark / len(profile)
