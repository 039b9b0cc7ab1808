"""Reading Kie.ai task status from whatever shape it arrives in. Pure functions, no I/O, never raise.

The documented shape is record-info's `data.successFlag` with `data.response.resultUrls` (spec §5); callbacks
carry `data.info.resultUrls` (§6); Kie's own quickstart reads `data.resultUrls`. URL lists may come as real
lists or as JSON-encoded strings. On top of that the old system tolerated, and its users' scripts still send
us, looser shapes: `video_url` at the root or under `data`, `result.video_url`, `result.videoUrl`,
`result.video`, a bare `url`, and as a last resort any `.mp4` link found anywhere in the body. A body none of
these fit reads as `unknown`, with the body kept in `raw` for diagnosis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from veo31.domain import Cost, ProviderState, ProviderStatus
from veo31.providers.kie.errors import as_int, envelope_code, map_kie_error, map_kie_task_failure

_MP4_LINK = re.compile(r"https?://[^\s\"'<>\[\],]+?\.mp4(?:\?[^\s\"'<>\[\],]*)?", re.IGNORECASE)
_KIE_FILE_LINK = re.compile(r"https?://(?:tempfile|file)\.aiquickdraw\.com/[^\s\"'<>\[\],]+", re.IGNORECASE)
_SCAN_BUDGET = 5_000  # nodes visited at most while scanning a body for a link

_DONE = {"completed", "complete", "success", "succeeded", "successful", "done", "finished", "ready"}
_RUNNING = {
    "processing",
    "pending",
    "running",
    "generating",
    "queued",
    "queuing",
    "waiting",
    "submitted",
    "in_progress",
    "in-progress",
    "started",
    "created",
}
_FAILED = {"failed", "failure", "fail", "error", "errored", "canceled", "cancelled", "rejected", "expired"}

# Kie prints times as "YYYY-MM-DD HH:MM:SS" without a zone; its servers run on China time (spec §5.1).
KIE_TIMEZONE = timezone(timedelta(hours=8))


def as_url_list(value: Any) -> tuple[str, ...]:
    """A URL field as a tuple of URLs: a real list, a JSON-encoded list, '[a, b]' without quotes, or one URL."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in ("null", "none", "[]"):
            return ()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError:
                return tuple(part.strip(" \"'") for part in text.strip("[]").split(",") if _is_link(part.strip(" \"'")))
            return as_url_list(decoded) if isinstance(decoded, list) else ()
        return (text,) if _is_link(text) else ()
    if isinstance(value, list | tuple):
        return tuple(item.strip() for item in value if isinstance(item, str) and _is_link(item.strip()))
    return ()


def _is_link(text: str) -> bool:
    return text.startswith(("http://", "https://")) and len(text) > 8 and not any(c.isspace() for c in text)


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _first_str(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip() and value.strip().lower() != "null":
            return value.strip()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def task_id_of(body: Any) -> str | None:
    """The task id wherever Kie put it: `data.taskId`, `data.task_id`, or at the top level."""
    return _first_str(
        _get(body, "data", "taskId"),
        _get(body, "data", "task_id"),
        _get(body, "taskId"),
        _get(body, "task_id"),
        _get(body, "data", "response", "taskId"),
    )


def parse_kie_time(value: Any) -> datetime | None:
    """A Kie timestamp: epoch milliseconds (or seconds) as a number, or 'YYYY-MM-DD HH:MM:SS' in China time."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is not None:
        seconds = number / 1000 if number > 10**11 else number
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=KIE_TIMEZONE)
        except ValueError:
            return None
    return None


def extract_video_url(body: Any) -> str | None:
    """The first video URL in a body of any known shape, documented ones first, then the old system's."""
    documented = _documented_urls(body)
    if documented:
        return documented[0]
    for path in _LEGACY_PATHS:
        candidate = _get(body, *path)
        if isinstance(candidate, str) and _is_link(candidate.strip()):
            return candidate.strip()
    return scan_for_video_link(body)


_LEGACY_PATHS: tuple[tuple[str, ...], ...] = (
    ("video_url",),
    ("videoUrl",),
    ("data", "video_url"),
    ("data", "videoUrl"),
    ("result", "video_url"),
    ("result", "videoUrl"),
    ("result", "video"),
    ("data", "result", "video_url"),
    ("data", "result", "videoUrl"),
    ("data", "result", "video"),
    ("url",),
    ("data", "url"),
)


def _documented_urls(body: Any) -> tuple[str, ...]:
    for path in (
        ("data", "response", "resultUrls"),
        ("data", "info", "resultUrls"),
        ("data", "resultUrls"),
        ("data", "info", "result_urls"),
        ("data", "result_urls"),
        ("resultUrls",),
    ):
        urls = as_url_list(_get(body, *path))
        if urls:
            return urls
    return ()


def scan_for_video_link(body: Any) -> str | None:
    """Last resort: the first .mp4 (or Kie result-host) link anywhere in the body, breadth first."""
    queue: list[Any] = [body]
    visited = 0
    while queue and visited < _SCAN_BUDGET:
        node = queue.pop(0)
        visited += 1
        if isinstance(node, str):
            match = _MP4_LINK.search(node) or _KIE_FILE_LINK.search(node)
            if match:
                return match.group(0)
        elif isinstance(node, Mapping):
            queue.extend(node.values())
        elif isinstance(node, list | tuple):
            queue.extend(node)
    return None


def read_kie_status(body: Any, *, credit_usd: float | None = None) -> ProviderStatus:
    """A Kie status body (record-info, a callback, or a legacy shape) as a `ProviderStatus`. Never raises.

    With `credit_usd` (what one credit costs), the credits a record says were consumed become its reported cost."""
    task_id = task_id_of(body)
    data = _get(body, "data")
    code = envelope_code(body)
    if code is not None and code != 200:
        return ProviderStatus(ProviderState.FAILED, task_id=task_id, error=map_kie_error(None, body), raw=body)
    if isinstance(data, Mapping) and "successFlag" in data:
        return _read_record(data, task_id, body, credit_usd)
    if isinstance(_get(data, "info"), Mapping):
        return _read_callback_success(data, task_id, body)
    return _read_legacy(body, task_id)


def _read_record(data: Mapping[str, Any], task_id: str | None, body: Any, credit_usd: float | None) -> ProviderStatus:
    flag = as_int(data.get("successFlag"))
    told = _record_details(data, credit_usd)
    if flag == 0:
        return ProviderStatus(ProviderState.GENERATING, task_id=task_id, raw=body, **told)
    if flag == 1:
        response = data.get("response") if isinstance(data.get("response"), Mapping) else {}
        urls = as_url_list(response.get("resultUrls")) or as_url_list(data.get("resultUrls"))
        full = as_url_list(response.get("fullResultUrls"))
        if not urls and not full:
            return ProviderStatus(ProviderState.UNKNOWN, task_id=task_id, raw=body, **told)
        return ProviderStatus(
            ProviderState.SUCCEEDED,
            task_id=task_id,
            video_urls=urls,
            full_video_urls=full,
            origin_urls=as_url_list(response.get("originUrls")),
            resolution=_first_str(response.get("resolution")),
            raw=body,
            media_ids=as_str_list(response.get("mediaIds")),
            **told,
        )
    error = map_kie_task_failure(data.get("errorCode"), data.get("errorMessage"), flag)
    return ProviderStatus(ProviderState.FAILED, task_id=task_id, error=error, raw=body, **told)


def as_str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def _record_details(data: Mapping[str, Any], credit_usd: float | None) -> dict[str, Any]:
    """What a record tells beside its state: when, by which model, at what cost, from which prompt."""
    told: dict[str, Any] = {
        "created_at": parse_kie_time(data.get("createTime")),
        "completed_at": parse_kie_time(data.get("completeTime")),
    }
    if isinstance(data.get("fallbackFlag"), bool):
        told["fallback"] = data["fallbackFlag"]
    consumed = data.get("creditsConsumed")
    if (
        credit_usd is not None
        and isinstance(consumed, int | float)
        and not isinstance(consumed, bool)
        and consumed >= 0
    ):
        told["reported_cost"] = Cost(round(consumed * credit_usd, 4), f"Kie.ai reported {consumed:g} credits")
    params = data.get("paramJson")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            params = None
    if isinstance(params, Mapping) and params.get("prompt") is not None:
        told["sent_prompt"] = str(params["prompt"])
    return told


def _read_callback_success(data: Mapping[str, Any], task_id: str | None, body: Any) -> ProviderStatus:
    info = data["info"]
    urls = as_url_list(info.get("resultUrls")) or as_url_list(info.get("result_urls"))
    if not urls:
        return ProviderStatus(ProviderState.UNKNOWN, task_id=task_id, raw=body)
    return ProviderStatus(
        ProviderState.SUCCEEDED,
        task_id=task_id,
        video_urls=urls,
        origin_urls=as_url_list(info.get("originUrls")),
        full_video_urls=as_url_list(info.get("fullResultUrls")),
        resolution=_first_str(info.get("resolution")),
        raw=body,
    )


def _read_legacy(body: Any, task_id: str | None) -> ProviderStatus:
    status_word = _first_str(
        _get(body, "status"), _get(body, "data", "status"), _get(body, "state"), _get(body, "data", "state")
    )
    word = status_word.lower() if status_word else None
    url = extract_video_url(body)
    if word in _FAILED:
        message = (
            _first_str(_get(body, "error"), _get(body, "message"), _get(body, "msg"), _get(body, "data", "error"))
            or f"status {status_word}"
        )
        error = map_kie_task_failure(None, message, 3)
        return ProviderStatus(ProviderState.FAILED, task_id=task_id, error=error, raw=body)
    if word in _RUNNING:
        return ProviderStatus(ProviderState.GENERATING, task_id=task_id, raw=body)
    if url is not None:
        return ProviderStatus(ProviderState.SUCCEEDED, task_id=task_id, video_urls=(url,), raw=body)
    return ProviderStatus(ProviderState.UNKNOWN, task_id=task_id, raw=body)
