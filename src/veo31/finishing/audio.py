"""A deliverable's sound: the clip's own, with the shop's music (if its brand kit has some) mixed under it and ducked
while the clip's sound plays — FFmpeg's `sidechaincompress` — then brought to the preset's loudness with one measured
gain (EBU R128, so the sound keeps its dynamics) and a limiter under the true-peak ceiling, as 48 kHz stereo.
A silent clip without music stays silent; one without a sound track gets silence."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np

from veo31.errors import InputError, InvalidMediaError
from veo31.finishing.presets import Preset
from veo31.media.encode import AUDIO_RATE
from veo31.media.loudness import SILENCE_LUFS
from veo31.media.sound import filtered, frames_of, loudness

# The limiter works on samples; the peaks between them, and AAC's own, land higher: aim under the ceiling.
LIMITER_HEADROOM_DB = 1.0
MUSIC_UNDER_LU = 10.0  # where the clip has sound, the music sits this far under it (before ducking)
FADE_IN_SECONDS, FADE_OUT_SECONDS = 0.3, 1.5
MAX_MUSIC_SECONDS = 600  # a deliverable is at most a minute; a longer file is a mistake, not a bed
MUSIC_EXTENSIONS = {"mp3": "mp3", "mov": "m4a", "wav": "wav", "ogg": "ogg", "flac": "flac", "matroska": "mka"}
# Ducking: the music pressed down hard and at once when the clip's sound starts, and let back up slowly, so it does
# not pump between words.
DUCKING = "threshold=0.02:ratio=6:attack=20:release=400"


def check_music(content: bytes) -> str:
    """A music file checked as a brand kit's: a sound track that decodes, up to MAX_MUSIC_SECONDS; its extension."""
    try:
        with av.open(io.BytesIO(content)) as container:
            if not container.streams.audio:
                raise InputError("the music file has no sound in it", field="music")
            seconds = (container.duration or 0) / 1_000_000
            kind = container.format.name.split(",")[0]
            for _ in zip(range(50), container.decode(container.streams.audio[0]), strict=False):
                pass  # its first frames decode: the file is what it says
    except av.FFmpegError:
        raise InputError(
            "the music file cannot be read: send an MP3, M4A/AAC, WAV, OGG or FLAC", field="music"
        ) from None
    if seconds > MAX_MUSIC_SECONDS:
        raise InputError(
            f"the music is {seconds / 60:.0f} minutes long; up to {MAX_MUSIC_SECONDS // 60} minutes", field="music"
        )
    return MUSIC_EXTENSIONS.get(kind, "bin")


class Soundtrack:
    """The sound of the deliverables made from one video: its own sound and the kit's music read once, mixed once
    per length, and brought to each preset's loudness (presets of one length and target share the result)."""

    def __init__(self, source: Path | str, music: bytes | None = None) -> None:
        self.source, self.music = source, music
        self._read: tuple[np.ndarray, np.ndarray | None] | None = None
        self._made: dict[tuple[int, float, float], np.ndarray] = {}

    def for_preset(self, samples: int, preset: Preset) -> np.ndarray:
        """`samples` of sound (2 × samples float32, 48 kHz) mixed to `preset`'s loudness."""
        key = (samples, preset.loudness_lufs, preset.true_peak_db)
        if key not in self._made:
            self._made[key] = _levelled(self._mixed(samples), samples, preset)
        return self._made[key]

    def _mixed(self, samples: int) -> np.ndarray:
        if self._read is None:
            music = decoded(io.BytesIO(self.music), "the brand kit's music") if self.music else None
            self._read = decoded(self.source), music
        sound, music = self._read
        sound = _sized(sound, samples)
        return with_music(sound, fitted(music, samples)) if music is not None else sound


def _levelled(sound: np.ndarray, samples: int, preset: Preset) -> np.ndarray:
    """One measured gain to the preset's loudness and a limiter under its true-peak ceiling; silence stays silent."""
    level = loudness(sound)
    if level <= SILENCE_LUFS + 1:
        return sound
    gain = max(-30.0, min(30.0, preset.loudness_lufs - level))
    limit = 10 ** ((preset.true_peak_db - LIMITER_HEADROOM_DB) / 20)
    chain = [("volume", f"{gain:.2f}dB"), ("alimiter", f"limit={limit:.4f}:attack=1:release=50:level=disabled")]
    return filtered([sound], chain)[:, :samples]


def with_music(sound: np.ndarray, music: np.ndarray) -> np.ndarray:
    """The music under the clip's sound, ducked while that plays; the music alone where the clip is silent."""
    clip_level, music_level = loudness(sound), loudness(music)
    if music_level <= SILENCE_LUFS + 1:
        return sound
    if clip_level <= SILENCE_LUFS + 1:
        return music
    under = 10 ** ((clip_level - MUSIC_UNDER_LU - music_level) / 20)
    ducked = filtered([music * under, sound], [("sidechaincompress", DUCKING)])
    return sound + ducked[:, : sound.shape[1]]


def fitted(music: np.ndarray, samples: int) -> np.ndarray:
    """The music looped or cut to `samples`, faded in and out (a cut mid-bar would end on a click)."""
    if music.shape[1] == 0:
        return np.zeros((2, samples), np.float32)
    repeats = -(-samples // music.shape[1])
    made = np.tile(music, (1, repeats))[:, :samples].copy()
    fade_in = min(samples, int(FADE_IN_SECONDS * AUDIO_RATE))
    fade_out = min(samples, int(FADE_OUT_SECONDS * AUDIO_RATE))
    made[:, :fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    made[:, samples - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    return made


def decoded(source: Path | str | io.BytesIO, what: str = "the video's sound") -> np.ndarray:
    """A file's first sound track as 2 × n float32 at 48 kHz; nothing (0 samples) when it has none."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    chunks: list[np.ndarray] = []
    try:
        with av.open(source if isinstance(source, io.BytesIO) else str(source)) as container:
            if container.streams.audio:
                for frame in container.decode(container.streams.audio[0]):
                    chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
                chunks.extend(out.to_ndarray() for out in resampler.resample(None))
    except av.FFmpegError as error:
        raise InvalidMediaError(f"{what} cannot be read: {error}") from None
    return np.concatenate(chunks, axis=1).astype(np.float32) if chunks else np.zeros((2, 0), np.float32)


def _sized(sound: np.ndarray, samples: int) -> np.ndarray:
    """Cut to `samples`, or padded with silence to it."""
    if sound.shape[1] < samples:
        return np.pad(sound, ((0, 0), (0, samples - sound.shape[1])))
    return sound[:, :samples]


def encoded(sound: np.ndarray, container: av.container.OutputContainer, stream: av.AudioStream) -> None:
    """Write `sound` to an AAC stream of the container."""
    for frame in frames_of(sound):
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
