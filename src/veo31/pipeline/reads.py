"""What the service answers without changing anything: generations by id, prefix or task id, pages of them, their
renditions and deliverables, and what they cost — the awaited ones on the readers' threads (`Runtime.read`), so that
a person's read never queues behind the pipeline's writes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from veo31.domain import Generation, Status
from veo31.errors import InputError, NotFoundError
from veo31.pipeline.runtime import Runtime
from veo31.store import generations as store, listing

GENERATION_ID_LENGTH = 32
ID_PREFIX = re.compile(r"[0-9a-f]{4,31}")


class GenerationReads:
    """The service's reads (GenerationService gives them its runtime)."""

    @property
    def runtime(self) -> Runtime:
        raise NotImplementedError

    async def total_cost(self, status: Status | None = None) -> float:
        return await self.runtime.read(listing.spend_usd, self.runtime.engine, status)

    async def get(self, generation_id: str) -> Generation:
        return await self.runtime.read(store.get_generation, self.runtime.engine, generation_id)

    async def resolve(self, id_or_prefix: str) -> str:
        """A whole generation id from its first characters (at least 4), as git takes a commit's: the id itself
        when it is whole or when it is the start of exactly one; NotFoundError or, for several, InputError."""
        if len(id_or_prefix) >= GENERATION_ID_LENGTH or not ID_PREFIX.fullmatch(id_or_prefix):
            return id_or_prefix
        found = await self.runtime.read(store.ids_starting_with, self.runtime.engine, id_or_prefix)
        if len(found) > 1:
            raise InputError(
                f"{id_or_prefix} is the start of more than one generation's id; give more of its characters",
                field="generation id",
            )
        return found[0] if found else id_or_prefix

    async def list(
        self, *, status: Status | None = None, limit: int = 20, cursor: str | None = None, include_upgrades: bool = True
    ) -> tuple[list[Generation], str | None]:
        return await self.runtime.read(
            listing.list_generations,
            self.runtime.engine,
            status=status,
            limit=limit,
            cursor=cursor,
            include_upgrades=include_upgrades,
        )

    async def find(self, generation_or_task_id: str) -> Generation | None:
        """Our generation by its id, or by the id of its provider task."""
        try:
            return await self.get(generation_or_task_id)
        except NotFoundError:
            return await self.runtime.read(store.find_by_task_id, self.runtime.engine, generation_or_task_id)

    def counts(self) -> list[tuple[str, str, int]]:
        return listing.count_by_status(self.runtime.engine)

    async def deliverables_of(self, generation_ids: Sequence[str]) -> dict[str, list[Generation]]:
        return await self.runtime.read(store.deliverables_of, self.runtime.engine, generation_ids)

    async def view(self, generation_id: str) -> tuple[Generation, list[Generation], list[Generation]]:
        """A generation, its renditions and its deliverables, as a status read shows them."""
        return await self.runtime.read(store.get_with_children, self.runtime.engine, generation_id)

    async def upgrades_of(self, generation_ids: Sequence[str]) -> dict[str, list[Generation]]:
        return await self.runtime.read(store.upgrades_of, self.runtime.engine, generation_ids)
