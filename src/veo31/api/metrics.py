"""Prometheus metrics read from the database on each scrape, so every API process reports the same totals."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class GenerationsCollector(Collector):
    def __init__(self, counts: Callable[[], list[tuple[str, str, int]]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "veo31_generations", "generations by status and provider", labels=["status", "provider"]
        )
        for status, provider, count in self.counts():
            family.add_metric([status, provider], count)
        yield family
