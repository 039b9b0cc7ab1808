"""Sending a stored blob to a browser with HTTP Range, whichever store holds it.

The data folder's files go out as files (Starlette handles Range). From S3 the bytes are either streamed through
veo31 — one ranged GET to S3 per request, chunks read in a thread so the event loop never waits on the bucket — or
the browser is redirected to a short-lived presigned link and S3 answers the Range itself (VEO31_S3_DELIVERY).
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from veo31.config import Settings
from veo31.store.blobs import BlobStore

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CACHE = "private, max-age=31536000, immutable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(start, end) inclusive for one satisfiable range; None to send it all (no header, several ranges or a
    malformed one — RFC 9110 lets a server ignore those); "unsatisfiable" when it starts past the end."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


def content_disposition(filename: str | None, inline: bool) -> str:
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename*=utf-8''{quote(filename)}" if filename else kind


async def blob_response(
    blobs: BlobStore,
    settings: Settings,
    key: str,
    *,
    range_header: str | None,
    media_type: str,
    filename: str | None = None,
    inline: bool = True,
) -> Response:
    path = await asyncio.to_thread(blobs.local_file, key)
    if path is not None:
        return FileResponse(
            path,
            media_type=media_type,
            filename=filename,
            content_disposition_type="inline" if inline else "attachment",
            headers={"Cache-Control": CACHE},
        )
    if settings.s3_delivery == "redirect":
        url = await asyncio.to_thread(
            blobs.presigned_url,
            key,
            seconds=settings.s3_presign_seconds,
            filename=filename,
            inline=inline,
            media_type=media_type,
        )
        # The link expires, so the redirect itself must not be cached for longer than it works.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    return await _stream(blobs, key, range_header, media_type, content_disposition(filename, inline))


async def _stream(blobs: BlobStore, key: str, range_header: str | None, media_type: str, disposition: str) -> Response:
    size = await asyncio.to_thread(blobs.size, key)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": CACHE, "Content-Disposition": disposition}
    wanted = byte_range(range_header, size)
    if wanted == "unsatisfiable":
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if size == 0:
        return Response(b"", media_type=media_type, headers=headers)
    start, end = wanted if isinstance(wanted, tuple) else (0, size - 1)
    chunks = await asyncio.to_thread(blobs.read_range, key, start, end)
    headers["Content-Length"] = str(end - start + 1)
    if isinstance(wanted, tuple):
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(chunks, status_code=206 if wanted else 200, media_type=media_type, headers=headers)
