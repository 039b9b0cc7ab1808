"""A provider's callback, once its URL's token matched a generation: a knock on the door that wakes the
generation's workflow — its content is a hint, never the verdict (the workflow asks the provider's status)."""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS

from veo31.errors import NotFoundError
from veo31.pipeline.runtime import Runtime
from veo31.pipeline.workflow import WAKE
from veo31.providers.base import CallsBack
from veo31.store.generations import CallbackTarget

log = logging.getLogger("veo31.service")


async def wake(runtime: Runtime, generation: CallbackTarget, payload: Any) -> bool:
    """Wake the generation's workflow with the callback's hint; False when it is ignored (another task's, or the
    generation ended)."""
    client = runtime.provider(generation.provider or "")
    if not isinstance(client, CallsBack):
        raise NotFoundError("no generation expects this callback")  # nothing was given a callback URL to call
    hint = client.parse_callback(payload)
    if hint.task_id and generation.provider_task_id and hint.task_id != generation.provider_task_id:
        log.warning("callback for %s names task %s, not its own; ignored", generation.id, hint.task_id)
        return False
    if generation.status.terminal:
        return False
    await DBOS.send_async(generation.id, {"hint": hint.state.value, "task_id": hint.task_id}, WAKE)
    return True
