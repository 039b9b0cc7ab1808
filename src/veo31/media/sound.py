"""Sound as arrays: 2 × n float32 samples at 48 kHz stereo, measured (EBU R128) and put through FFmpeg's filters —
for the sound a deliverable is given and the music the local renderer makes."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from veo31.media.encode import AUDIO_RATE
from veo31.media.loudness import SILENCE_LUFS, Meter

CHUNK = 1024  # samples per frame pushed through a filter


def loudness(sound: np.ndarray) -> float:
    """Integrated loudness (LUFS) of 2 × n samples at 48 kHz."""
    meter = Meter()
    for frame in frames_of(sound):
        meter.push(frame)
    return meter.result().integrated or SILENCE_LUFS


def frames_of(sound: np.ndarray) -> list[av.AudioFrame]:
    made = []
    for start in range(0, sound.shape[1], CHUNK):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(sound[:, start : start + CHUNK]), "fltp", "stereo")
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        frame.time_base = Fraction(1, AUDIO_RATE)
        made.append(frame)
    return made


def filtered(inputs: list[np.ndarray], chain: list[tuple[str, str]]) -> np.ndarray:
    """Sounds (2 × n, 48 kHz) through a chain of FFmpeg filters (name, arguments), the first taking one input per
    sound; the chain's output as 2 × n."""
    graph = av.filter.Graph()
    sources = [
        graph.add_abuffer(format="fltp", sample_rate=AUDIO_RATE, layout="stereo", time_base=Fraction(1, AUDIO_RATE))
        for _ in inputs
    ]
    (name, arguments), *rest = chain
    node = graph.add(name, arguments)
    for index, source in enumerate(sources):
        source.link_to(node, 0, index)
    for name, arguments in rest:
        following = graph.add(name, arguments)
        node.link_to(following)
        node = following
    formatted = graph.add("aformat", "sample_fmts=fltp:channel_layouts=stereo")
    sink = graph.add("abuffersink")
    node.link_to(formatted)
    formatted.link_to(sink)
    graph.configure()
    pulled: list[np.ndarray] = []
    for frames in zip(*(frames_of(sound) for sound in inputs), strict=False):
        for source, frame in zip(sources, frames, strict=True):
            source.push(frame)
        pulled.extend(_drained(sink))
    for source in sources:
        source.push(None)
    pulled.extend(_drained(sink))
    return np.concatenate(pulled, axis=1) if pulled else np.zeros((2, 0), np.float32)


def _drained(sink: av.filter.context.FilterContext) -> list[np.ndarray]:
    made = []
    while True:
        try:
            made.append(sink.pull().to_ndarray())
        except (av.BlockingIOError, av.EOFError):
            return made
