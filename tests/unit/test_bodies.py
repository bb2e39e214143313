"""A body held to its model's fields (shopdesk.api.bodies): every unknown field named, wherever it is; the model's own
instance and schema otherwise."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from shopdesk.api.bodies import KnownFields
from shopdesk.models.admin import AgentSettings
from shopdesk.models.sla import SlaPolicy
from shopdesk.privacy.settings import PrivacySettings


def unknown(model: type, body: dict) -> set[tuple]:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(KnownFields[model]).validate_python(body)
    return {tuple(e["loc"]) for e in refused.value.errors() if e["type"] == "extra_forbidden"}


def test_each_unknown_field_is_named_at_the_top_and_inside_lists_maps_and_optional_objects():
    window = {"start": "09:00", "end": "17:00"}
    assert unknown(SlaPolicy, {"id": "p", "name": "P", "version": 3, "applies_to": {"tier": ["vip"]},
                               "targets": {"urgent": {"first_respons": 60}},
                               "business_hours": {"weekly": {"mon": [{**window, "note": "x"}]}}}) == \
        {("version",), ("targets", "urgent", "first_respons"), ("business_hours", "weekly", "mon", 0, "note"),
         ("applies_to", "tier")}
    assert unknown(PrivacySettings, {"retention": {"audit_day": 30},
                                     "masking_patterns": [{"name": "a", "pattern": "b", "flags": "i"}]}) == \
        {("retention", "audit_day"), ("masking_patterns", 0, "flags")}


def test_a_known_body_is_the_models_own_instance_with_its_validators_and_its_schema_is_the_models():
    settings = TypeAdapter(KnownFields[PrivacySettings]).validate_python({"retention": {"audit_days": 400}})
    assert type(settings) is PrivacySettings and type(settings.retention) is type(PrivacySettings().retention)
    assert TypeAdapter(KnownFields[AgentSettings]).validate_python({"team": "returns"}).teams == ["returns"]
    with pytest.raises(ValidationError, match="not both"):
        TypeAdapter(KnownFields[AgentSettings]).validate_python({"team": "a", "teams": ["b"]})
    assert TypeAdapter(KnownFields[SlaPolicy]).json_schema() == TypeAdapter(SlaPolicy).json_schema()


def test_the_model_itself_still_reads_an_item_with_fields_it_no_longer_has():
    stored = PrivacySettings.model_validate({"retention": {"audit_days": 400, "drafts_days": 3}, "legacy": True})
    assert stored.retention.audit_days == 400
