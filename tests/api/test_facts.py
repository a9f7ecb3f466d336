"""Wire facts written once in ``nbclaude._api``: the model table, the request limits and the
request fields, and the fake stating the same ones."""

from __future__ import annotations

import pytest
from anthropic.types import MessageCountTokensParams
from anthropic.types.beta import MessageCountTokensParams as BetaMessageCountTokensParams

from nbclaude._api import fields, limits
from nbclaude._api.limits import LIMITS
from nbclaude._api.models import (
    MODELS,
    generation,
    model_spec,
    supports_prefill,
    thinking_mode,
)
from nbclaude.testing import _batch_request, _fake, _media, _validate

#: SDK parameters sent as headers, not in the body.
SDK_HEADER_PARAMS = {"betas", "user_profile_id", "workspace_id"}


def sdk_body_fields(params: type) -> set[str]:
    return set(params.__annotations__) - SDK_HEADER_PARAMS


# -- models --------------------------------------------------------------------------------


def test_the_table_is_read_only_and_keyed_by_id() -> None:
    assert all(key == spec.id for key, spec in MODELS.items())
    with pytest.raises(TypeError):
        MODELS["claude-new"] = MODELS["claude-opus-5"]  # type: ignore[index]


def test_every_function_agrees_with_the_table() -> None:
    for key, spec in MODELS.items():
        assert model_spec(key) is spec
        if spec.snapshot is not None:
            assert model_spec(spec.snapshot) is spec
            assert spec.snapshot.startswith(f"{key}-")
        assert generation(key) == spec.generation
        assert supports_prefill(key) is spec.prefill
        assert thinking_mode(key) == spec.thinking


def test_release_dates_match_the_generation_rule() -> None:
    """``supports_prefill`` dates unknown models by ``created_at``: the 4.6 generation (no
    prefill) starts on 2026-02-01."""
    for spec in MODELS.values():
        assert (spec.released >= "2026-02-01") == (spec.generation >= 4.6), spec.id
        listed = [{"id": "claude-unknown", "created_at": spec.released + "T00:00:00Z"}]
        assert supports_prefill("claude-unknown", listed) is spec.prefill


# -- limits and fields ---------------------------------------------------------------------


def test_limits_by_name_are_the_constants() -> None:
    assert LIMITS == {
        "max_images": limits.MAX_IMAGES,
        "many_images": limits.MANY_IMAGES,
        "many_images_edge": limits.MANY_IMAGES_EDGE,
        "max_image_edge": limits.MAX_IMAGE_EDGE,
        "max_image_base64": limits.MAX_IMAGE_BASE64,
        "max_body_bytes": limits.MAX_BODY_BYTES,
        "native_edge": limits.NATIVE_EDGE,
        "native_pixels": limits.NATIVE_PIXELS,
    }


def test_the_fake_states_the_same_limits_and_fields() -> None:
    assert _validate.MAX_BODY_BYTES == limits.MAX_BODY_BYTES
    assert _media.MAX_IMAGE_BASE64 == limits.MAX_IMAGE_BASE64
    assert _media.MAX_MEDIA == limits.MAX_IMAGES
    assert _media.IMAGE_MEDIA_TYPES == fields.IMAGE_MEDIA_TYPES
    assert _batch_request.MAX_BATCH_REQUESTS == limits.MAX_BATCH_REQUESTS
    assert _batch_request.MAX_BATCH_BYTES == limits.MAX_BATCH_BYTES
    assert _fake.API_VERSIONS == fields.API_VERSIONS
    from nbclaude._client import client

    assert client.API_VERSION == fields.API_VERSION == fields.API_VERSIONS[0]


def test_count_tokens_fields_are_the_sdks() -> None:
    """What ``/v1/messages/count_tokens`` accepts (the SDK's ``MessageCountTokensParams``):
    ``mcp_servers`` and ``context_management`` only with the beta API."""
    ga = sdk_body_fields(MessageCountTokensParams)
    beta = sdk_body_fields(BetaMessageCountTokensParams)
    assert ga.issuperset(fields.COUNT_TOKENS_FIELDS)
    assert fields.COUNT_TOKENS_FIELDS <= fields.MESSAGES_FIELDS
    assert {"max_tokens", "stream", "mcp_servers", "context_management"}.isdisjoint(ga)
    assert {"mcp_servers", "context_management"} <= beta & fields.BETA_FIELDS
    assert not fields.BETA_FIELDS & (fields.MESSAGES_FIELDS | fields.COUNT_TOKENS_FIELDS)


def test_every_sdk_request_field_is_accepted() -> None:
    """What the official SDK 2.17 can send (issue #15: ``thread`` was refused by the fake,
    ``speed`` / ``diagnostics`` only taken as beta). Sampling fields stay accepted: the SDK
    dropped them, the API still takes them on the models that allow them."""
    from anthropic.types import message_create_params as ga
    from anthropic.types.beta import message_create_params as beta

    assert sdk_body_fields(ga.MessageCreateParamsBase) <= fields.MESSAGES_FIELDS
    assert sdk_body_fields(beta.MessageCreateParamsBase) <= (
        fields.MESSAGES_FIELDS | fields.BETA_FIELDS
    )
    assert {"thread", "compaction", "billing_policy"} <= fields.BETA_FIELDS
    assert fields.THREADS_BETA == "message-threads-2026-08-12"


def test_the_table_knows_what_the_sdks_know_about_lifecycles() -> None:
    """The SDK's DEPRECATED_MODELS dates are the table's retirement dates; models the SDK's
    ``Model`` literal dropped are retired in the table."""
    import datetime as dt
    import re
    import typing

    from anthropic._data import DEPRECATED_MODELS
    from anthropic.types.model import Model

    from nbclaude._api.models import lifecycle

    checked = 0
    for model, when in DEPRECATED_MODELS.items():  # "January 22nd, 2027"
        spec = model_spec(model)
        if spec is None:
            continue
        day = dt.datetime.strptime(re.sub(r"(\d)(st|nd|rd|th)", r"\1", when), "%B %d, %Y")
        assert spec.retires == day.date().isoformat(), model
        checked += 1
    assert checked >= 2  # claude-opus-4-5 and its snapshot
    listed = set(typing.get_args(typing.get_args(Model)[0]))
    for key, spec in MODELS.items():
        if (
            key not in listed
            and spec.snapshot not in listed
            and not key.startswith("claude-mythos")
        ):
            assert lifecycle(key, today="2026-12-04") == "retired", key
