"""Reference images made safe: fetched through an SSRF guard, checked by content, normalised, hashed.

The fetch refuses anything but http(s), resolves the host itself and refuses private, loopback, link-local and
other non-public addresses (unless `allow_private`), connects to the address it checked (so a second DNS
answer cannot swap it), re-checks every redirect, and stops at a size and a time limit. The image is then
decoded by Pillow — its type decided by its bytes, never by a name or header — with the decompression-bomb
guard on, turned upright from its EXIF orientation and re-encoded without any metadata.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import ipaddress
import os
import re
import socket
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from veo31.errors import ImageFetchError, InvalidMediaError, UnsafeUrlError

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2000
USERINFO = re.compile(r"//[^/?#@]*@")
MIN_SIDE = 64
MAX_PIXELS = 40_000_000  # about 7300 × 5500; larger is refused as a possible decompression bomb
# References are kept at most 4K on their longer side: no provider makes a larger video, and a bound here keeps
# every later decode (analysis, the renderer, uploads to a provider) bounded too.
MAX_SIDE = 3840
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
USER_AGENT = "veo31-intake"


@dataclass(frozen=True)
class NormalisedImage:
    content: bytes
    mime_type: str
    width: int
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[self.mime_type]


async def fetch_reference(
    url: str,
    *,
    allow_private: bool = False,
    allowed_networks: Sequence[str] = (),
    max_bytes: int = 20 * 1024 * 1024,
    time_limit: float = 15.0,
    transport: httpx.AsyncBaseTransport | None = None,
    accept: str = "image/*",
    field: str = "image_urls",
) -> bytes:
    """Download a reference (an image, or with `accept` a video) by URL through the SSRF guard; at most
    `max_bytes`, within `time_limit` s. Errors name `field`."""
    try:
        async with asyncio.timeout(time_limit):
            async with httpx.AsyncClient(
                follow_redirects=False, transport=transport, timeout=time_limit, verify=tls_context()
            ) as client:
                policy = AddressPolicy(
                    allow_private, tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
                )
                return await _fetch(client, url, policy=policy, max_bytes=max_bytes, accept=accept)
    except TimeoutError:
        raise ImageFetchError(f"{_short(url)} took longer than {time_limit:g} s to download", field=field) from None
    except (ImageFetchError, UnsafeUrlError) as error:
        error.field = field
        raise


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every guarded fetch: httpx makes a new one per client otherwise (reading the CA bundle,
    the largest cost of fetching a catalogue's images, bench/catalogue.py)."""
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved addresses a fetch may connect to: public ones, plus any private network allowed by name."""

    allow_private: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def permits(self, address: str) -> bool:
        if self.allow_private or is_public_address(address):
            return True
        ip = ipaddress.ip_address(address.split("%")[0])
        return any(ip in network for network in self.allowed_networks)


async def _fetch(client: httpx.AsyncClient, url: str, *, policy: AddressPolicy, max_bytes: int, accept: str) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        target = checked_url(url)
        address = await checked_address(target, policy)
        pinned = target.copy_with(host=address)
        headers = {"Host": target.netloc.decode("ascii"), "User-Agent": USER_AGENT, "Accept": accept}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            async with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(str(target), response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise ImageFetchError(
                        f"{_short(str(target))} answered HTTP {response.status_code}", field="image_urls"
                    )
                return await _read_capped(response, max_bytes, str(target))
        except httpx.HTTPError as exc:
            raise ImageFetchError(
                f"could not download {_short(str(target))} ({type(exc).__name__})", field="image_urls"
            ) from None
    raise ImageFetchError(f"{_short(url)} redirects more than {MAX_REDIRECTS} times", field="image_urls")


async def _read_capped(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ImageFetchError(f"{_short(url)} is larger than {max_bytes // (1024 * 1024)} MB", field="image_urls")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ImageFetchError(f"{_short(url)} is larger than {max_bytes // (1024 * 1024)} MB", field="image_urls")
        chunks.append(chunk)
    return b"".join(chunks)


async def checked_address(url: httpx.URL, policy: AddressPolicy) -> str:
    """Resolve the URL's host and return an address to connect to, refusing any the policy does not permit."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(url.host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ImageFetchError(f"the host {url.host} does not resolve", field="image_urls") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not policy.permits(address):
            raise UnsafeUrlError(
                f"{url.host} resolves to a non-public address ({address}); veo31 only fetches public URLs. "
                "To fetch from this machine or your own network, set VEO31_ALLOW_PRIVATE_URLS=true, or list the "
                "network in VEO31_ALLOWED_PRIVATE_NETWORKS (such as 10.0.0.0/8)",
                field="image_urls",
            )
    return addresses[0]


# Not global, though Python's table says so: IPv6 site-local (deprecated, still routed inside some networks) and
# the 6to4 relay anycast block.
NOT_PUBLIC = (ipaddress.ip_network("fec0::/10"), ipaddress.ip_network("192.88.99.0/24"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: str) -> bool:
    """Public, and so is every IPv4 address it carries inside (mapped, 6to4, IPv4-compatible, NAT64): a 6to4
    address such as 2002:7f00:1::1 reaches 127.0.0.1 where a relay is near."""
    ip = ipaddress.ip_address(address.split("%")[0])
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        addresses += [inner for inner in (ip.ipv4_mapped, ip.sixtofour) if inner is not None]
        if ip in IPV4_COMPATIBLE or ip in NAT64:
            addresses.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(_public(one) for one in addresses)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if any(ip in network for network in NOT_PUBLIC if network.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def checked_url(url: str, field: str = "image_urls") -> httpx.URL:
    """`url` parsed as an http(s) URL we may fetch, without its user name and password (never kept or sent on);
    anything else is an `UnsafeUrlError` naming `field`."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError(f"a URL may be at most {MAX_URL_LENGTH} characters; this one has {len(url)}", field=field)
    if not _is_http(url):
        raise UnsafeUrlError(f"{_short(url)} is not an http(s) URL", field=field)
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decodes an international name: idna's errors are ValueErrors
    except (httpx.InvalidURL, ValueError):
        raise UnsafeUrlError(f"{_short(url)} is not a valid URL", field=field) from None
    if not host:
        raise UnsafeUrlError(f"{_short(url)} has no host name", field=field)
    return parsed.copy_with(username=None, password=None) if parsed.userinfo else parsed


def without_credentials(url: str) -> str:
    """The URL as it may be stored and shown: a user name and password in it are dropped."""
    return str(checked_url(url))


def normalise_image(data: bytes, *, label: str = "image") -> NormalisedImage:
    """Decode `data` as JPEG, PNG or WebP, turn it upright, strip its metadata, and hash the result."""
    if not data:
        raise InvalidMediaError(f"{label} is empty", field="images")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                kind = opened.format
                if kind not in FORMATS:
                    raise InvalidMediaError(
                        f"{label} is {kind or 'not an image'}; send JPEG, PNG or WebP", field="images"
                    )
                if opened.width * opened.height > MAX_PIXELS:
                    raise InvalidMediaError(
                        f"{label} is {opened.width}×{opened.height} pixels, more than "
                        f"{MAX_PIXELS // 1_000_000} megapixels",
                        field="images",
                    )
                image = _decoded(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidMediaError(
            f"{label} has more than {MAX_PIXELS // 1_000_000} megapixels; refused as a possible decompression bomb",
            field="images",
        ) from None
    except UnidentifiedImageError:
        raise InvalidMediaError(f"{label} is not a readable JPEG, PNG or WebP image", field="images") from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidMediaError(f"{label} is damaged or truncated", field="images") from None
    if min(image.size) < MIN_SIDE:
        raise InvalidMediaError(
            f"{label} is {image.width}×{image.height}; at least {MIN_SIDE} px a side is needed", field="images"
        )
    content = _encode(image, kind)
    return NormalisedImage(content, FORMATS[kind], image.width, image.height, hashlib.sha256(content).hexdigest())


def _decoded(opened: Image.Image) -> Image.Image:
    """The image decoded, upright, at most MAX_SIDE on its longer side. A JPEG is decoded at a reduced scale (its
    DCT allows 1/2, 1/4, 1/8) whenever that still leaves at least half of MAX_SIDE, so its full size never
    reaches memory; PNG and WebP decoders have no such scale and are bounded by MAX_PIXELS."""
    if opened.format == "JPEG":
        opened.draft("RGB", (MAX_SIDE // 2, MAX_SIDE // 2))
    opened.load()
    image = ImageOps.exif_transpose(opened)
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def _encode(image: Image.Image, kind: str) -> bytes:
    """Re-encode with no EXIF, XMP, ICC text or comments: only pixels leave intake."""
    if kind == "JPEG":
        return encoded(image.convert("RGB"), format="JPEG", quality=95)
    if kind == "WEBP":
        return encoded(image.convert("RGBA" if "A" in image.getbands() else "RGB"), format="WEBP", quality=95)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    return encoded(image, format="PNG")


def encoded(image: Image.Image, **options: object) -> bytes:
    """`image` encoded, into a file that lives in memory where the system has one (Linux): Pillow encodes into a
    file with the interpreter's lock released, but into a BytesIO holding it — every request the server answers
    meanwhile would wait for the whole encode. The bytes are the same either way (a product's sync key hashes them)."""
    try:
        descriptor = os.memfd_create("veo31-image")
    except (AttributeError, OSError):  # not Linux, or a sandbox that refuses it: the encode holds the lock
        buffer = io.BytesIO()
        image.save(buffer, **options)
        return buffer.getvalue()
    with open(descriptor, "w+b") as file:
        image.save(file, **options)
        file.seek(0)
        return file.read()


def _is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _short(url: str) -> str:
    url = USERINFO.sub("//", url, count=1)  # a password in a URL is never echoed back
    return url if len(url) <= 80 else url[:77] + "…"
