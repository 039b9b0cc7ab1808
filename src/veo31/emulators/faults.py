"""Fault injection for the emulators: what can go wrong, for which requests, and how often.

A fault is set for the rest of a run (`count: null`), for the next N matching requests (`count: N`), or for
one request by its `X-Emulator-Fault` header. Request faults shape the answer (429, 5xx, slow, a dropped
connection, broken JSON); task faults shape what happens to a generation the request creates (it fails, its
URLs come as a JSON string, its callback is duplicated, late or lost, its link has expired or its file is gone).
"""

from __future__ import annotations

import json
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

RequestFaultKind = Literal["rate_limit", "quota", "server_error", "maintenance", "error", "slow", "drop", "malformed"]
# Kie: fail … gone. Google: rai / rai_audio (done, no video, filter reasons), op_error (done with an error). Both:
# hue_shift (the result shows the product in another colour: a video the quality gate must catch).
TaskFaultKind = Literal[
    "fail",
    "string_urls",
    "callback_duplicate",
    "callback_late",
    "callback_lost",
    "expired_link",
    "gone",
    "rai",
    "rai_audio",
    "op_error",
    "hue_shift",
]
REQUEST_FAULTS: frozenset[str] = frozenset(RequestFaultKind.__args__)  # type: ignore[attr-defined]
TASK_FAULTS: frozenset[str] = frozenset(TaskFaultKind.__args__)  # type: ignore[attr-defined]
FAULT_HEADER = "X-Emulator-Fault"


class Fault(BaseModel):
    """One kind of trouble, for the requests (by endpoint name, `*` for all) it matches."""

    model_config = ConfigDict(extra="forbid")

    kind: RequestFaultKind | TaskFaultKind
    endpoint: str = Field(default="*", description="endpoint name such as generate or record-info; * for any")
    count: int | None = Field(default=1, ge=1, description="how many matching requests; null for the whole run")
    retry_after: float = Field(default=1.0, ge=0, description="rate_limit: the Retry-After header, seconds")
    seconds: float = Field(default=5.0, ge=0, description="slow: added delay; callback_late: callback delay")
    code: int = Field(default=500, description="error: Kie envelope code or Google HTTP status; op_error: rpc code")
    msg: str | None = Field(default=None, description="error / fail: the message to answer with")
    flag: Literal[2, 3] = Field(default=3, description="fail: the successFlag the task ends with")
    error_code: int = Field(default=501, description="fail: the task's errorCode")
    style: Literal["envelope", "http"] | None = Field(default=None, description="override the run's error style")

    def matches(self, endpoint: str) -> bool:
        if self.kind in TASK_FAULTS and self.endpoint == "*":
            return endpoint in ("generate", "extend", "predict")
        return self.endpoint in ("*", endpoint)


class FaultBook:
    """The faults in force; safe to use from the server's loop and a control request at once."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [fault.model_dump() for fault in self._faults]

    def take(self, endpoint: str, kinds: frozenset[str]) -> list[Fault]:
        """The faults of `kinds` that apply to this request, one use of each counted off."""
        taken: list[Fault] = []
        with self._lock:
            for fault in list(self._faults):
                if fault.kind not in kinds or not fault.matches(endpoint):
                    continue
                taken.append(fault)
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
        return taken


def faults_from_header(value: str | None) -> list[Fault]:
    """`X-Emulator-Fault: rate_limit`, `fail,callback_lost`, or a JSON object / list of Fault fields."""
    if not value or not value.strip():
        return []
    text = value.strip()
    try:
        if text.startswith(("{", "[")):
            decoded = json.loads(text)
            items = decoded if isinstance(decoded, list) else [decoded]
            return [Fault.model_validate(item) for item in items]
        return [Fault(kind=kind.strip()) for kind in text.split(",") if kind.strip()]  # type: ignore[arg-type]
    except (ValueError, ValidationError) as exc:
        raise ValueError(f"{FAULT_HEADER} is not a fault: {exc}") from None


_FAULTS = TypeAdapter(Fault | list[Fault])


def fault_routes(book: FaultBook) -> list[Route]:
    """`POST /_emulator/faults` (one fault or a list) and `DELETE /_emulator/faults`, for any emulator."""

    async def add(request: Request) -> Response:
        try:
            parsed = _FAULTS.validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        for fault in parsed if isinstance(parsed, list) else [parsed]:
            book.add(fault)
        return JSONResponse({"faults": book.describe()})

    async def clear(_: Request) -> Response:
        book.clear()
        return JSONResponse({"faults": []})

    return [Route("/_emulator/faults", add, methods=["POST"]), Route("/_emulator/faults", clear, methods=["DELETE"])]
