"""A quiet musical bed for the local renderer's videos, made offline: a four-chord progression (C maj7, A min7,
F maj7, G add9) at 92 beats a minute — a soft pad, a plucked arpeggio in eighth notes panned a little left and right,
a round bass note on each bar — faded in and out and mixed to a social video's loudness (−14 LUFS, true peak under
−1 dBTP, FFmpeg's limiter as the guard). The same notes every time: a render is reproducible."""

from __future__ import annotations

import numpy as np

from veo31.media.encode import AUDIO_RATE
from veo31.media.sound import filtered, loudness

TARGET_LUFS = -14.0
LIMIT = 10 ** (-2.0 / 20)  # a sample ceiling 2 dB under full scale: the true peak stays under −1 dBTP
BEAT = 60 / 92
# Each bar's chord as MIDI notes (the bass note first).
PROGRESSION = ((36, 60, 64, 67, 71), (33, 57, 60, 64, 67), (29, 53, 57, 60, 64), (31, 55, 59, 62, 69))
FADE_IN, FADE_OUT = 0.5, 1.5


def bed(seconds: float) -> np.ndarray:
    """`seconds` of the bed, 2 × n float32 at 48 kHz."""
    total = max(1, int(seconds * AUDIO_RATE))
    sound = np.zeros((2, total), np.float32)
    bar = 4 * BEAT
    for number in range(int(seconds / bar) + 1):
        start = number * bar
        bass, *chord = PROGRESSION[number % len(PROGRESSION)]
        _add(sound, start, _pad(chord, bar), pan=0.0)
        _add(sound, start, 0.5 * _pluck(bass + 12, 1.6, harmonics=(1.0, 0.25)), pan=0.0)
        for step in range(8):  # eighth notes up and down the chord
            note = chord[(0, 1, 2, 3, 2, 1, 2, 3)[step]] + 12
            _add(sound, start + step * BEAT / 2, 0.22 * _pluck(note, 0.9), pan=-0.3 if step % 2 else 0.3)
    _fade(sound)
    level = loudness(sound)
    gain = 10 ** ((TARGET_LUFS - level) / 20)
    limited = filtered([sound * gain], [("alimiter", f"limit={LIMIT:.4f}:attack=1:release=60:level=disabled")])
    return np.ascontiguousarray(limited[:, :total])


def _hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _pluck(note: int, seconds: float, harmonics: tuple[float, ...] = (1.0, 0.35, 0.12)) -> np.ndarray:
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    tone = sum(level * np.sin(2 * np.pi * _hz(note) * (number + 1) * t) for number, level in enumerate(harmonics))
    envelope = np.minimum(1.0, t / 0.005) * np.exp(-t / (seconds / 3))
    return (tone * envelope).astype(np.float32)


def _pad(chord: list[int], seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    tone = sum(np.sin(2 * np.pi * _hz(note) * t) + 0.2 * np.sin(4 * np.pi * _hz(note) * t) for note in chord)
    envelope = np.minimum(1.0, t / 0.4) * np.minimum(1.0, (seconds - t) / 0.4)  # swells in, eases out at the bar
    return (0.05 * tone * envelope).astype(np.float32)


def _add(sound: np.ndarray, start: float, voice: np.ndarray, pan: float) -> None:
    first = int(start * AUDIO_RATE)
    if first >= sound.shape[1]:
        return
    piece = voice[: sound.shape[1] - first]
    sound[0, first : first + len(piece)] += piece * (1 - pan) / 2 * 2
    sound[1, first : first + len(piece)] += piece * (1 + pan) / 2 * 2


def _fade(sound: np.ndarray) -> None:
    total = sound.shape[1]
    fade_in, fade_out = min(total, int(FADE_IN * AUDIO_RATE)), min(total, int(FADE_OUT * AUDIO_RATE))
    sound[:, :fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    sound[:, total - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)
