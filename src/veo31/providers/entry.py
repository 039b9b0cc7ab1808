"""Everything about a provider besides its client, declared in one place: one `ProviderEntry` per provider.

The registry is a tuple of entries; routing, the queues, prices, `/v1/providers`, the page and `veo31 doctor` read
them, so a new provider is one package that declares its entry (and, outside this package, one module named in
`VEO31_PROVIDER_PLUGINS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from veo31.config import Settings
from veo31.domain import Capabilities, Cost
from veo31.providers.base import Provider

FREE = Cost(0.0, "free: rendered on this machine")


@dataclass(frozen=True)
class QueueLimits:
    worker: int  # generations in flight on one worker
    fleet: int | None  # generations in flight across all workers (DBOS counts them in the shared database)
    starts: int  # new submissions per `period` seconds, across all workers
    period: float


def fleet_limits(worker: int, fleet: int, starts: int, period: float) -> QueueLimits:
    """A fleet cap of 0 means none; one worker never holds more than the whole fleet may (DBOS insists)."""
    if not fleet:
        return QueueLimits(worker, None, starts, period)
    return QueueLimits(min(worker, fleet), fleet, starts, period)


@dataclass(frozen=True)
class DoctorCheck:
    """One line of `veo31 doctor`: is the provider usable as configured, and what was seen."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class PriceQuery:
    model_tier: str
    duration_seconds: int
    resolution: str


@dataclass(frozen=True)
class ProviderEntry:
    name: str  # as people ask for it (`provider=`) and as it is stored
    label: str  # as people read it
    capabilities: Capabilities
    factory: Callable[[Settings], Provider]  # one client, with its connection pool, for the life of the process
    configured: Callable[[Settings], bool]
    setup_hint: str  # what to set for `configured` to hold, in the settings' own names
    queue_limits: Callable[[Settings], QueueLimits]
    estimate: Callable[[PriceQuery, Settings], Cost]  # at list price, before submitting
    doctor: Callable[[Settings], Awaitable[DoctorCheck]]  # free calls only; asked only when configured
    # Where a person checks whether an unconfirmed submission made (and charged) a task.
    account_logs: str = "the provider's logs"
