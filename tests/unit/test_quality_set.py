"""The gate on its labelled evaluation set (tests/quality_set.py), every clip decoded and checked as the API and the
CLI check it: no good clip fails, every bad one fails, and by one of the checks made for its defect — with a message
that names what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.products import Product, jpeg, photo
from tests.quality_set import Camera, Case, build, film, still
from veo31.quality.gate import CheckRequest, check_references, check_video
from veo31.quality.report import QualityReport


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Case, QualityReport]]:
    cases = build(tmp_path_factory.mktemp("quality-set"))
    return [(case, check_video(str(case.clip), case.asked, check_references([case.reference()]))) for case in cases]


def test_no_good_clip_fails(judged: list[tuple[Case, QualityReport]]) -> None:
    failing = {case.name: [c.message for c in report.failures()] for case, report in judged if case.good}
    assert {name: messages for name, messages in failing.items() if messages} == {}
    assert len(failing) >= 7, "pans, a push-in, a roll, a turn, a light change, a low bitrate, another scene"


def test_every_bad_clip_fails_by_a_check_made_for_its_defect(judged: list[tuple[Case, QualityReport]]) -> None:
    missed = {}
    for case, report in judged:
        if case.good:
            continue
        caught = {check.kind.value for check in report.failures()}
        if not caught & set(case.fails):
            missed[case.name] = sorted(caught)
    assert missed == {}
    kinds = {case.defect for case, _ in judged if not case.good}
    assert len(kinds) == 10, kinds  # hue, label, logo, shape, another product, missing, black, frozen, silent, size


def test_the_messages_say_what_differs(judged: list[tuple[Case, QualityReport]]) -> None:
    said = {case.name: " | ".join(c.message for c in report.failures()) for case, report in judged}
    assert "hue is turned" in said["hue"]
    assert "the label reads 'BRWE' where the photo says 'BREW'" in said["label"]
    assert "differs from photo 1" in said["logo"] and "middle centre" in said["logo"]
    assert "recognisable in only" in said["missing"]
    assert "frozen" in said["frozen"] and "silent" in said["silent"]


def test_a_first_frame_clip_must_open_on_its_photo(tmp_path: Path) -> None:
    base = Product()
    opens = film(tmp_path / "opens.mp4", still(base), Camera(height=lambda t: 675 - 150 * t))  # 16:9 of the photo
    elsewhere = film(
        tmp_path / "elsewhere.mp4", still(base), Camera(centre=lambda t: (900.0, 200.0), height=lambda t: 400)
    )
    asked = CheckRequest(mode="first_frame")
    references = check_references([jpeg(photo(base))])
    good = check_video(str(opens), asked, references)
    bad = check_video(str(elsewhere), asked, references)
    assert [c.passed for c in good.checks if c.kind.value == "first_frame"] == [True]
    assert [c.message for c in bad.checks if c.kind.value == "first_frame"][0].startswith("the clip does not open")
