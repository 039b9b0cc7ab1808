"""`veo31 webhooks add|list|rotate|remove|deliveries|redeliver`: the endpoints that receive signed events
(Standard Webhooks). A secret is printed once — when the endpoint is added or its secret rotated."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from veo31.cli import app, out
from veo31.cli.generations import JsonOption, ServerOption, TokenOption, run
from veo31.cli.session import api_session

hooks = typer.Typer(help="Webhook endpoints: other systems told when a video is ready.", no_args_is_help=True)
app.add_typer(hooks, name="webhooks")
EVENTS = "generation.completed, generation.failed, generation.needs_review, deliverable.completed, batch.completed"


def _call(server: str | None, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    async def work() -> Any:
        async with api_session(server, token, quiet=True) as api:
            return await api.call(method, path, **kwargs)

    return run(work)


@hooks.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Where events are POSTed (http(s), a public address).")],
    event: Annotated[list[str] | None, typer.Option("--event", help=f"Repeatable: {EVENTS}.")] = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Register an endpoint (every event unless --event says which); its secret is printed now, and only now."""
    events = event or [name.strip() for name in EVENTS.split(",")]
    made = _call(server, token, "POST", "/v1/webhooks", json={"url": url, "events": events})
    if as_json:
        print(json.dumps(made, indent=2))
        return
    out.print(f"{made['id']} → {made['url']} ({', '.join(made['events'])})", highlight=False)
    out.print(f"secret: {made['secret']}  (keep it now: it is not shown again)", highlight=False)


@hooks.command("list")
def list_endpoints(as_json: JsonOption = False, server: ServerOption = None, token: TokenOption = None) -> None:
    """The endpoints (never their secrets)."""
    found = _call(server, token, "GET", "/v1/webhooks")["items"]
    if as_json:
        print(json.dumps(found, indent=2))
        return
    table = Table()
    for column in ("id", "url", "events"):
        table.add_column(column)
    for item in found:
        table.add_row(item["id"], item["url"], ", ".join(item["events"]))
    out.print(table)


@hooks.command("rotate")
def rotate(endpoint_id: str, server: ServerOption = None, token: TokenOption = None) -> None:
    """A new secret; the old one still signs until the printed time, so the receiver can switch."""
    rotated = _call(server, token, "POST", f"/v1/webhooks/{endpoint_id}/rotate")
    out.print(f"secret: {rotated['secret']}  (the previous one signs too until {rotated['previous_valid_until']})")


@hooks.command("remove")
def remove(endpoint_id: str, server: ServerOption = None, token: TokenOption = None) -> None:
    """No more events go to the endpoint."""
    _call(server, token, "DELETE", f"/v1/webhooks/{endpoint_id}")
    out.print(f"{endpoint_id} removed", highlight=False)


@hooks.command("deliveries")
def deliveries(
    endpoint_id: str, as_json: JsonOption = False, server: ServerOption = None, token: TokenOption = None
) -> None:
    """The endpoint's latest deliveries, each with its attempts."""
    found = _call(server, token, "GET", f"/v1/webhooks/{endpoint_id}/deliveries")["items"]
    if as_json:
        print(json.dumps(found, indent=2))
        return
    table = Table()
    for column in ("event", "type", "state", "attempts", "last answer"):
        table.add_column(column)
    for item in found:
        last = item["attempts"][-1] if item["attempts"] else {}
        said = last.get("error") or (f"HTTP {last['status_code']}" if last.get("status_code") else "")
        table.add_row(item["event_id"], item["event_type"] or "", item["state"], str(len(item["attempts"])), said)
    out.print(table)


@hooks.command("redeliver")
def redeliver(endpoint_id: str, event_id: str, server: ServerOption = None, token: TokenOption = None) -> None:
    """Send an event to the endpoint again now (the same webhook-id)."""
    _call(server, token, "POST", f"/v1/webhooks/{endpoint_id}/deliveries/{event_id}/redeliver")
    out.print(f"{event_id} is being sent to {endpoint_id} again", highlight=False)
