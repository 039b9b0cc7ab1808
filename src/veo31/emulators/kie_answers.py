"""What the Kie emulator's endpoints share: a refusal raised from deep in a handler, and reading a request's JSON
and callback URL as Kie does."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

PROCESSING_1080P = "1080P is processing. It should be ready in 1-2 minutes. Please check back shortly."
PROCESSING_4K = "4k is processing. It should be ready in 5-10 minutes. Please check back shortly."


class Refusal(Exception):
    """An answer with a non-200 code, raised from deep in a handler."""

    def __init__(self, code: int, msg: str, data: Any = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.data = code, msg, data


def seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def callback_url_of(body: dict[str, Any]) -> str | None:
    url = body.get("callBackUrl")
    if url is None or url == "":
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise Refusal(422, "callBackUrl must be an http or https URL")
    return url


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise Refusal(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refusal(400, "The request body must be a JSON object")
    return body


def sniff(content: bytes) -> str:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"
