"""/v1/checks: the quality report on a video made anywhere, against the product's reference photos — multipart
(`video`, `images`, and optionally what the clip was asked to be). Nothing is stored; the checking runs in a media
process, so the API keeps answering meanwhile."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from veo31.api.deps import ServiceDep, SettingsDep, TokenDep
from veo31.api.routes.generations import describe, read_upload
from veo31.errors import InputError
from veo31.quality.gate import CheckRequest
from veo31.quality.report import QualityReport

router = APIRouter(prefix="/v1/checks", tags=["quality"], dependencies=[TokenDep])

FIELDS: dict[str, Any] = {
    "video": {"type": "string", "format": "binary", "description": "the clip to check (MP4, WebM, MOV; ≤ 200 MB)"},
    "images": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "1–3 photos"},
    "duration": {"type": "number", "description": "seconds it was asked to last"},
    "resolution": {"type": "string", "description": "720p, 1080p, 4k or WxH"},
    "aspect": {"type": "string", "enum": ["16:9", "9:16"]},
    "fps": {"type": "number"},
    "audio": {"type": "boolean", "description": "true: sound was asked for; false: none was"},
    "mode": {"type": "string", "enum": ["text", "first_frame", "first_last", "reference"]},
}
CHECK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["video", "images"], "properties": FIELDS}}
        },
    }
}


@router.post("", response_model=QualityReport, openapi_extra=CHECK_BODY)
async def check_video(request: Request, service: ServiceDep, settings: SettingsDep) -> QualityReport:
    """Every check with its verdict and a message a person can act on; `passed` when all passed."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise InputError("send multipart/form-data: the clip as 'video' and 1–3 photos as 'images'", field="video")
    fields: dict[str, str] = {}
    images: list[bytes] = []
    video: UploadFile | None = None
    async with request.form(max_files=5, max_fields=10, max_part_size=64 * 1024) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name == "video" and video is None:
                    video = value
                elif name == "images":
                    images.append((await read_upload(value, settings.max_image_bytes)).content)
                else:
                    raise InputError(f"unexpected file {name!r}; send one 'video' and 1–3 'images'", field=name)
            elif name in FIELDS and value != "":
                fields[name] = value
            elif value != "":
                raise InputError(f"unknown field {name!r}; the fields are {', '.join(FIELDS)}", field=name)
        if video is None:
            raise InputError("send the clip to check as 'video'", field="video")
        try:
            asked = CheckRequest.model_validate(fields)
        except ValidationError as exc:
            raise InputError(describe(exc)) from None
        return await service.check(video.file, images, asked)
