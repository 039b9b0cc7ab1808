"""Use-case templates: spec (+ optional analysis notes) → a Veo 3.1 prompt and a negative prompt. Pure functions.

Each template follows Google's Veo prompting guidance — subject, action, camera, lighting, style, audio — and
keeps the negative prompt apart, describing what to avoid rather than writing "no …". The user's extra text is
appended as the old system did.
"""

from __future__ import annotations

from dataclasses import dataclass

from veo31.analysis.result import Analysis
from veo31.domain import GenerationSpec

# Google counts about 1,024 tokens for a Veo prompt; ~4 characters a token keeps us well inside it.
MAX_PROMPT_CHARS = 3000


@dataclass(frozen=True)
class Template:
    action: str
    camera: str
    lighting: str
    style: str
    audio: str
    avoid: str


COMMON_AVOID = "text overlays, watermarks, warped or melting product shape, extra hands, duplicated objects, blur"

TEMPLATES: dict[str, Template] = {
    "product_video": Template(
        "{subject} stands on a clean surface and turns slowly to show its form, materials and details",
        "smooth slow dolly-in with a gentle arc, steady and cinematic",
        "soft studio key light with a subtle rim light, clean reflections",
        "premium commercial product film, sharp focus, true-to-life colours",
        "quiet modern ambient music, soft whoosh on the camera move",
        COMMON_AVOID,
    ),
    "hero_image": Template(
        "{subject} is revealed as the hero of the frame, almost still, with a slight parallax drift",
        "slow push-in from a low three-quarter angle, locked-off horizon",
        "dramatic key light with deep soft shadows and a glowing backlight",
        "striking advertising hero shot, shallow depth of field",
        "low cinematic swell",
        COMMON_AVOID + ", busy background",
    ),
    "gemstone_closeup": Template(
        "{subject} rotates a few degrees so its facets catch and scatter light into sparkles",
        "macro close-up with a very slow orbit, razor-thin focus pulling across the facets",
        "pinpoint spotlights creating caustics and brilliant highlights on a dark velvet backdrop",
        "luxury jewellery macro cinematography, crisp detail",
        "delicate chimes and a soft shimmer",
        COMMON_AVOID + ", dull or cloudy stones, fingerprints",
    ),
    "luxury_brand": Template(
        "{subject} is presented with calm confidence, light gliding across its surfaces",
        "elegant slow tracking shot, perfectly level, ending on a composed close-up",
        "low-key lighting with polished highlights and rich contrast",
        "high-end luxury brand film, minimal, refined, editorial",
        "understated piano with a warm room tone",
        COMMON_AVOID + ", cheap-looking plastic sheen, clutter",
    ),
    "general": Template(
        "{subject} is shown clearly with natural, gentle motion in the scene",
        "steady medium shot with a slow pan",
        "natural balanced lighting",
        "clean realistic video",
        "soft ambient background sound",
        COMMON_AVOID,
    ),
    "lifestyle": Template(
        "{subject} in use in a bright, lived-in home setting, a hand reaching in naturally",
        "handheld-feel gentle follow shot at eye level",
        "warm natural window light, golden and soft",
        "authentic lifestyle commercial, relaxed and inviting",
        "light acoustic music and quiet room sounds",
        COMMON_AVOID + ", distorted faces, awkward hands",
    ),
    "unboxing": Template(
        "hands open a box and lift out {subject}, turning it toward the camera",
        "top-down view easing into a close three-quarter angle",
        "even soft daylight on a neutral tabletop",
        "satisfying unboxing video, tactile and clear",
        "crisp paper and cardboard sounds, a soft click",
        COMMON_AVOID + ", torn packaging, extra fingers",
    ),
    "social_vertical": Template(
        "{subject} pops into the vertical frame with a lively, rhythmic reveal",
        "dynamic vertical framing, quick push-in then a smooth tilt to show the whole product",
        "bright high-key lighting with punchy colour",
        "scroll-stopping social media ad, energetic but clean",
        "upbeat short music loop with a whoosh on the reveal",
        COMMON_AVOID + ", product cropped out of the frame",
    ),
    "turntable_360": Template(
        "{subject} spins a full 360 degrees on a turntable at a constant, slow speed",
        "locked-off camera at product height, centred, no camera movement",
        "even soft-box lighting from both sides on a seamless backdrop",
        "clean e-commerce 360 spin, consistent exposure",
        "gentle mechanical hum of the turntable",
        COMMON_AVOID + ", wobbling or drifting turntable, changing background",
    ),
}


@dataclass(frozen=True)
class WrittenPrompt:
    prompt: str
    negative_prompt: str
    writer: str = "template"


def write_prompt(spec: GenerationSpec, *, image_count: int, analysis: Analysis | None = None) -> WrittenPrompt:
    """The prompt for `spec`: its own prompt when it brings one, else the use case's template, filled in from the
    analysis of the references (their colours, surfaces, setting, light, and a reference video's camera move)."""
    if spec.prompt:  # the person's own (perhaps edited) prompt goes out as written, with only what they added
        return WrittenPrompt(
            fit(_with_extra(spec.prompt, spec.extra_prompt)), spec.negative_prompt or "", writer="user"
        )
    negative = spec.negative_prompt or TEMPLATES[spec.use_case].avoid
    template = TEMPLATES[spec.use_case]
    subject = _subject(spec, image_count)
    followed = analysis.video.camera_words() if analysis is not None and analysis.video is not None else None
    camera = followed or template.camera
    parts = [
        _sentence(template.action.format(subject=subject)),
        f"Camera: {camera}.",
        f"Lighting: {template.lighting}.",
        f"Style: {template.style}, {spec.aspect_ratio} framing.",
        f"Audio: {template.audio}.",
    ]
    if image_count:
        parts.insert(
            1, "Keep the product exactly as in the reference images: same shape, colours, materials and labels."
        )
    notes = scene_notes(analysis) if analysis is not None else None
    if notes:
        parts.append(f"Scene notes: {notes}.")
    return WrittenPrompt(fit(_with_extra(" ".join(parts), spec.extra_prompt)), negative)


def scene_notes(analysis: Analysis) -> str | None:
    """What the photos show that the prompt should keep: colours, surfaces, setting and light."""
    if not analysis.images:
        return None
    parts = []
    if analysis.colours:
        parts.append(f"the product is {_listed(analysis.colours[:3])}")
    if analysis.materials:
        parts.append(f"with {analysis.materials[0]}")
    parts.append(f"seen on {analysis.background_surfaces}")
    parts.append(f"reference light: {analysis.lighting}")
    parts.append(f"keep the {analysis.style_and_mood}")
    return "; ".join(parts)


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _sentence(text: str) -> str:
    """Upper-case the first letter only: `capitalize()` would lower-case "iPhone" in a product name."""
    return text[:1].upper() + text[1:] + "."


def _subject(spec: GenerationSpec, image_count: int) -> str:
    if spec.product_name:
        return f"the {spec.product_name.strip()}"
    return "the product from the reference images" if image_count else "the product"


def _with_extra(prompt: str, extra: str | None) -> str:
    if extra and extra.strip():
        return f"{prompt.strip()} {extra.strip()}"
    return prompt.strip()


def fit(prompt: str) -> str:
    """Cut a prompt to the provider's limit at a word boundary."""
    if len(prompt) <= MAX_PROMPT_CHARS:
        return prompt
    cut = prompt[:MAX_PROMPT_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;: ") + "…"
