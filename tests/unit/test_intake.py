"""Image intake: type by content, EXIF orientation applied, metadata stripped, content-hashed; the SSRF rules."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from veo31.errors import InvalidMediaError
from veo31.media.intake import AddressPolicy, is_public_address, normalise_image


def photo(kind: str = "JPEG", size: tuple[int, int] = (300, 200), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 3, size[1]))  # a red stripe on the left
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format=kind, exif=exif.tobytes())
    return buffer.getvalue()


def test_exif_orientation_is_applied_and_metadata_dropped() -> None:
    rotated = normalise_image(photo(orientation=6))  # "rotate 90° clockwise to display"
    assert (rotated.width, rotated.height) == (200, 300)
    with Image.open(io.BytesIO(rotated.content)) as result:
        assert result.getexif() == {} and "exif" not in result.info
        assert result.getpixel((100, 10))[0] > 200 and result.getpixel((100, 290))[1] > 200, "red is now on top"


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_type_by_content_not_name(kind: str) -> None:
    normalised = normalise_image(photo(kind), label="holiday.gif")
    assert normalised.mime_type == {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[kind]
    assert len(normalised.sha256) == 64


def test_same_pixels_same_hash_different_metadata() -> None:
    first = normalise_image(photo(orientation=1))
    second = normalise_image(photo())
    assert first.sha256 == second.sha256


def test_cmyk_jpeg_becomes_rgb() -> None:
    buffer = io.BytesIO()
    Image.new("CMYK", (100, 100), (0, 255, 255, 0)).save(buffer, format="JPEG")
    with Image.open(io.BytesIO(normalise_image(buffer.getvalue()).content)) as result:
        assert result.mode == "RGB"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("100.64.0.1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_allowed_private_networks() -> None:
    import ipaddress

    policy = AddressPolicy(False, (ipaddress.ip_network("10.20.0.0/16"),))
    assert policy.permits("10.20.3.4") and not policy.permits("10.21.0.1") and policy.permits("1.1.1.1")
    assert AddressPolicy(True).permits("127.0.0.1")


def test_refusals_name_the_problem() -> None:
    with pytest.raises(InvalidMediaError, match="is empty"):
        normalise_image(b"")
    with pytest.raises(InvalidMediaError, match="not a readable"):
        normalise_image(b"GIF89a not really")
