"""Loudness as EBU R128 measures it, by FFmpeg's `ebur128` filter: a clip's integrated loudness (LUFS) and its
true peak (dBTP) — what the quality gate checks and the finishing mixes to."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

SILENCE_LUFS = -70.0  # what the R128 gate reports for silence (nothing above its absolute gate)


@dataclass(frozen=True)
class Loudness:
    has_audio: bool
    integrated: float | None  # LUFS; SILENCE_LUFS for silence, None without a track
    true_peak: float | None  # dBTP


def measure(path: Path | str) -> Loudness:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return Loudness(False, None, None)
        meter = Meter()
        for frame in container.decode(container.streams.audio[0]):
            meter.push(frame)
        return meter.result()


class Meter:
    """Frames in, one at a time; `result()` once they are all in."""

    def __init__(self) -> None:
        self.graph: av.filter.Graph | None = None
        self.integrated = SILENCE_LUFS
        self.peak = 0.0

    def push(self, frame: av.AudioFrame) -> None:
        if self.graph is None:
            self.graph = _r128_graph(frame)
        frame.pts = None  # the filter counts samples itself; a stream's odd first pts must not confuse it
        self.graph.push(frame)
        self._drain()

    def result(self) -> Loudness:
        if self.graph is not None:
            self.graph.push(None)
            self._drain()
        integrated = self.integrated if math.isfinite(self.integrated) else SILENCE_LUFS
        peak = 20 * math.log10(self.peak) if self.peak > 0 else None
        return Loudness(True, integrated, round(peak, 2) if peak is not None else None)

    def _drain(self) -> None:
        assert self.graph is not None
        while True:
            try:
                out = self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            if (value := out.metadata.get("lavfi.r128.I")) is not None:
                self.integrated = float(value)
            if (peak := out.metadata.get("lavfi.r128.true_peak")) is not None:
                self.peak = max(self.peak, float(peak))


def _r128_graph(frame: av.AudioFrame) -> av.filter.Graph:
    graph = av.filter.Graph()
    source = graph.add_abuffer(
        format=frame.format.name,
        sample_rate=frame.sample_rate,
        layout=frame.layout.name,
        time_base=Fraction(1, frame.sample_rate),
    )
    meter = graph.add("ebur128", "metadata=1:peak=true")
    sink = graph.add("abuffersink")
    source.link_to(meter)
    meter.link_to(sink)
    graph.configure()
    return graph
