"""The fake's ``GET /v1/models`` and ``GET /v1/models/{id}`` (docs/api.md §7), answered from a
:class:`ModelRegistry` (``_models.py``): pages newest first, the lifecycle filter of SDK 2.17
(``lifecycle[]=active|deprecated|retired``; retired models only when asked for)."""

from __future__ import annotations

from nbclaude._api.limits import MAX_PAGE_LIMIT

from ._incoming import Incoming
from ._models import ModelRegistry
from ._plans import Plan, json_plan
from ._request import FakeAPIError

__all__ = ["get_model", "list_models"]

_STAGES = ("active", "deprecated", "retired")


def list_models(registry: ModelRegistry, req: Incoming) -> Plan:
    """One page of ``GET /v1/models``."""
    query = req.query
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        # CONSTRUCTED
        raise FakeAPIError(
            400, "invalid_request_error", f"limit: Input should be between 1 and {MAX_PAGE_LIMIT}"
        )
    stages = req.query_list("lifecycle") or ["active", "deprecated"]
    if any(stage not in _STAGES for stage in stages):
        # CONSTRUCTED (pydantic style)
        raise FakeAPIError(
            400,
            "invalid_request_error",
            "lifecycle: Input should be 'active', 'deprecated' or 'retired'",
        )
    page = registry.page(
        limit, after_id=query.get("after_id"), before_id=query.get("before_id"), lifecycles=stages
    )
    return json_plan(200, page)


def get_model(registry: ModelRegistry, req: Incoming) -> Plan:
    """``GET /v1/models/{id}``: any model the registry knows, retired ones included (the
    catalogue keeps them as the record of their retirement)."""
    model_id = req.path.rstrip("/").rsplit("/", 1)[-1]
    entry = registry.get(model_id)
    if entry is None:
        raise FakeAPIError(404, "not_found_error", f"model: {model_id}")  # docs/api.md §5
    return json_plan(200, entry.info(registry.today()))
