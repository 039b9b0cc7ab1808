"""/v1/batches: a catalogue run. Post a store's product export (Shopify, WooCommerce, Google Merchant Center, or
veo31's CSV) as `file`, with any request field to apply to every product; follow its counts and cost, cancel it,
retry its failed products, and take its results as CSV or JSON with stable links and the quality verdict."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from veo31.api.deps import ServiceDep, SettingsDep, TokenDep, base_url, signed_query
from veo31.config import Settings
from veo31.domain import GenerationSpec
from veo31.errors import InputError
from veo31.pipeline.batches import BatchView, format_label
from veo31.pipeline.links import quality_verdict
from veo31.store.batches import BatchState, ItemView

router = APIRouter(prefix="/v1/batches", tags=["batches"], dependencies=[TokenDep])
MAX_EXPORT_BYTES = 100 * 1024 * 1024
SPEC_FIELDS = frozenset(GenerationSpec.model_fields)
RESULT_COLUMNS = [
    "row",
    "product_id",
    "title",
    "status",
    "generation_id",
    "video_url",
    "poster_url",
    "quality",
    "quality_reasons",
    "error",
    "cost_usd",
]


class SkippedRow(BaseModel):
    row: int = Field(description="the row of the file it starts on (the header is row 0)")
    reason: str


class BatchPublic(BaseModel):
    id: str
    format: str = Field(description="the export's format as detected from its header")
    format_label: str
    file_name: str | None
    state: str = Field(description="running (products still being started), started, or canceled")
    finished: bool = Field(description="every product settled: made, held for review, failed or canceled")
    products: int
    skipped: list[SkippedRow]
    counts: dict[str, int] = Field(description="products by status; `queued` also counts those not started yet")
    spent_usd: float
    estimated_to_finish_usd: float
    created_at: datetime
    links: dict[str, str]


def shown(request: Request, settings: Settings, seen: BatchView) -> BatchPublic:
    batch = seen.batch
    root = f"{base_url(request, settings)}/v1/batches/{batch.id}"
    return BatchPublic(
        id=batch.id,
        format=batch.format,
        format_label=format_label(batch.format),
        file_name=batch.file_name,
        state=batch.state.value,
        finished=seen.finished,
        products=seen.products,
        skipped=[SkippedRow(**item) for item in batch.skipped],
        counts=seen.tally.counts,
        spent_usd=seen.tally.spent_usd,
        estimated_to_finish_usd=seen.estimated_usd,
        created_at=batch.created_at,
        links={
            "self": root,
            "products": f"{root}/products",
            "results_csv": f"{root}/results.csv",
            "results_json": f"{root}/results.json",
            "cancel": f"{root}/cancel",
            "retry": f"{root}/retry",
        },
    )


@router.post(
    "",
    status_code=201,
    response_model=BatchPublic,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary", "description": "the product export"},
                            **{name: {"type": "string"} for name in sorted(SPEC_FIELDS)},
                        },
                    }
                }
            },
        }
    },
)
async def create_batch(request: Request, service: ServiceDep, settings: SettingsDep) -> BatchPublic:
    """Read the export (its format from its header), store its products and start them, each once."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InputError("send the export as a file: multipart/form-data with a `file` part", field="file")
    async with request.form(max_files=1, max_fields=len(SPEC_FIELDS) + 5) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError("choose the product export to upload (the `file` part)", field="file")
        content = await upload.read(MAX_EXPORT_BYTES + 1)
        if len(content) > MAX_EXPORT_BYTES:
            raise InputError(
                f"the export is larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MB: split it", field="file"
            )
        spec = spec_fields({key: value for key, value in form.multi_items() if key != "file"})
        name = (upload.filename or "")[:300] or None
    return shown(request, settings, await service.batches.create(content, spec, name))


def spec_fields(given: dict[str, Any]) -> dict[str, Any]:
    """The request fields every product shares: known names only, blanks left out."""
    unknown = sorted(key for key in given if key not in SPEC_FIELDS)
    if unknown:
        raise InputError(
            f"{unknown[0]} is no request field; a batch takes the file and any of: {', '.join(sorted(SPEC_FIELDS))}",
            field=unknown[0],
        )
    return {key: value for key, value in given.items() if isinstance(value, str) and value.strip()}


class BatchList(BaseModel):
    items: list[BatchPublic]


@router.get("", response_model=BatchList)
async def list_batches(
    request: Request, service: ServiceDep, settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> BatchList:
    return BatchList(items=[shown(request, settings, seen) for seen in await service.batches.recent(limit)])


@router.get("/{batch_id}", response_model=BatchPublic)
async def get_batch(batch_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> BatchPublic:
    return shown(request, settings, await service.batches.get(batch_id))


@router.post("/{batch_id}/cancel", response_model=BatchPublic)
async def cancel_batch(batch_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> BatchPublic:
    """Start no more of its products, and cancel those under way (a video made is kept)."""
    return shown(request, settings, await service.batches.cancel(batch_id))


@router.post("/{batch_id}/retry", response_model=BatchPublic)
async def retry_batch(batch_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> BatchPublic:
    """A new generation for each failed or canceled product, another go for each that could not start."""
    return shown(request, settings, await service.batches.retry(batch_id))


class ProductPage(BaseModel):
    items: list[dict[str, Any]]
    next_after: int | None = Field(description="pass as `after` for the next page; null on the last")


@router.get("/{batch_id}/products", response_model=ProductPage)
async def batch_products(
    batch_id: str,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    after: Annotated[int, Query(ge=0, description="the last row of the page before")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ProductPage:
    """A page of the batch's products in the file's order, as the results show them."""
    stopped = (await service.batches.get(batch_id)).batch.state is BatchState.CANCELED
    views = await service.batches.products(batch_id, after, limit)
    rows = [result_row(request, settings, item, stopped) for item in views]
    return ProductPage(items=rows, next_after=views[-1].item.row if len(views) == limit else None)


@router.get("/{batch_id}/results.json")
async def results_json(batch_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> dict[str, Any]:
    seen = await service.batches.get(batch_id)
    views = await service.batches.products(batch_id)
    stopped = seen.batch.state is BatchState.CANCELED
    return {
        "batch": shown(request, settings, seen).model_dump(mode="json"),
        "products": [result_row(request, settings, item, stopped) for item in views],
    }


@router.get("/{batch_id}/results.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def results_csv(batch_id: str, request: Request, service: ServiceDep, settings: SettingsDep) -> Response:
    stopped = (await service.batches.get(batch_id)).batch.state is BatchState.CANCELED
    views = await service.batches.products(batch_id)
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=RESULT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for item in views:
        writer.writerow(result_row(request, settings, item, stopped))
    return Response(
        sink.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="veo31-batch-{batch_id}.csv"'},
    )


def result_row(request: Request, settings: Settings, seen: ItemView, stopped: bool = False) -> dict[str, Any]:
    """One product's line: what it is, what became of it, our stable links (never the provider's, which expire)
    and the quality gate's verdict. In a batch that was `stopped`, a product never started is canceled."""
    item = seen.item
    status = seen.status or ("failed" if item.error else "canceled" if stopped else "queued")
    has_video = bool(seen.video_key) and status in ("completed", "needs_review")
    root = f"{base_url(request, settings)}/v1/generations/{item.generation_id}"
    query = signed_query(request, settings, item.generation_id) if item.generation_id else ""
    verdict = quality_verdict(seen.quality)
    failed = status in ("failed", "canceled")
    return {
        "row": item.row,
        "product_id": item.product_id,
        "title": item.title,
        "status": status,
        "generation_id": item.generation_id or "",
        "video_url": f"{root}/video{query}" if has_video else "",
        "poster_url": f"{root}/poster.jpg{query}" if has_video else "",
        "quality": ("passed" if verdict["passed"] else "failed") if verdict else "",
        "quality_reasons": "; ".join(verdict["reasons"]) if verdict else "",
        "error": item.error or (seen.error_message or "" if failed else ""),
        "cost_usd": seen.cost_usd if seen.cost_usd is not None else "",
    }
