"""The product's label text: the words of the photo read (OCR) and the same place read in the best view of the clip,
once aligned — a word missing or garbled, or a word from nowhere, is named ("the label reads 'BRWE' where the photo
says 'BREW'").

The OCR engine is RapidOCR's ONNX models, shipped inside their wheel (nothing is downloaded), on one thread: the
media processes already use every core. Only words large enough to read at the view's size are judged, so a clip
that shows the product smaller than the photo does is not blamed for small print it cannot hold.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from veo31.quality.report import Check, CheckKind

MIN_CONFIDENCE = 0.6
READABLE_PIXELS = 14  # a word's height in the view below which OCR cannot be asked to read it
_WORD = re.compile(r"[A-Za-z]{3,}|[0-9]{2,}")  # "250ml" and "250 ml" read alike: 250


@dataclass(frozen=True)
class Word:
    text: str
    height: float  # pixels, in the image it was read from


@functools.cache
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    one_thread = {
        f"{part}_{setting}": 1
        for part in ("det", "cls", "rec")
        for setting in ("intra_op_num_threads", "inter_op_num_threads")
    }
    # A label crop is small: looked at as it is ("max"), not enlarged to the engine's default size, which costs
    # several times the work for no better reading (docs/performance.md).
    return RapidOCR(det_limit_side_len=640, det_limit_type="max", **one_thread)


def read_words(rgb: np.ndarray) -> list[Word]:
    """The words (three letters and more, or numbers of two digits and more; upper-cased) an image shows, each with
    its height."""
    if rgb.shape[0] < 16 or rgb.shape[1] < 16:
        return []
    found, _ = _engine()(np.ascontiguousarray(rgb), use_cls=False)
    words = []
    for box, text, confidence in found or []:
        if float(confidence) < MIN_CONFIDENCE:
            continue
        corners = np.array(box, dtype=np.float32)
        height = float(np.linalg.norm(corners[3] - corners[0]))
        words += [Word(token.upper(), height) for token in _WORD.findall(str(text))]
    return words


def label_check(
    photo_rgb: np.ndarray,
    box: tuple[int, int, int, int],
    view_rgb: np.ndarray,
    homography: np.ndarray,
    scale: float,
    at: float,
) -> Check | None:
    """The label of the photo's product against the same place in one view (`homography` takes the photo to the
    view, `scale` is how many of the view's pixels one of the photo's becomes); None when the photo shows no words."""
    left, top, right, bottom = box
    photo_words = read_words(photo_rgb[top:bottom, left:right])
    if not photo_words:
        return None
    height, width = photo_rgb.shape[:2]
    aligned = cv2.warpPerspective(view_rgb, np.linalg.inv(homography), (width, height), flags=cv2.INTER_LINEAR)
    read = read_words(aligned[top:bottom, left:right])
    seen = {word.text for word in read}
    legible_seen = {word.text for word in read if word.height * scale >= READABLE_PIXELS}
    judged = [word.text for word in photo_words if word.height * scale >= READABLE_PIXELS]
    if not judged:
        return Check(
            kind=CheckKind.LABEL, passed=True, score=1.0, message="the label's words are too small in the clip to read"
        )
    wanted = set(judged)
    missing = [text for text in dict.fromkeys(judged) if text not in seen]
    everything = {word.text for word in photo_words}
    strangers = [text for text in sorted(legible_seen - everything) if not _near(text, everything)]
    problems = []
    for text in missing:
        misread = _closest(text, seen - wanted)
        problems.append(f"reads '{misread}' where the photo says '{text}'" if misread else f"lacks '{text}'")
    problems += [f"shows '{text}', which the photo does not" for text in strangers]
    passed = not problems
    message = (
        f"the label reads as in the photo ({', '.join(dict.fromkeys(judged))})"
        if passed
        else ("the label " + "; ".join(problems) + f" (best view at {at:.1f} s)")
    )
    share = 1.0 - len(missing) / len(wanted)
    return Check(
        kind=CheckKind.LABEL,
        passed=passed,
        score=round(share if not strangers else min(share, 0.4), 3),
        message=message,
        at_seconds=None if passed else (at, at),
    )


def _closest(text: str, candidates: set[str]) -> str | None:
    close = difflib.get_close_matches(text, sorted(candidates), n=1, cutoff=0.5)
    return close[0] if close else None


def _near(text: str, wanted: set[str]) -> bool:
    """A misreading of a word the photo has (told as such, not as a word from nowhere)."""
    return _closest(text, wanted) is not None
