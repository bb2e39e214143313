"""Typed settings, validated once from an environment mapping."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shopdesk.config import AgentApiSettings, CoreSettings, DispatcherSettings, EmailInboundSettings, InboundSettings
from shopdesk.models import Priority

TARGETS = {"urgent": 600, "high": 1800, "normal": 7200, "low": 43200}


def _env(**extra: str) -> dict[str, str]:
    return {"TABLE_NAME": "shopdesk-test", **extra}


def test_settings_come_from_a_dict_env_with_defaults():
    settings = CoreSettings.from_env(_env())
    assert settings.table_name == "shopdesk-test"
    assert settings.due_shards == 16
    assert settings.first_response_targets == {Priority.URGENT: 900, Priority.HIGH: 3600,
                                               Priority.NORMAL: 14400, Priority.LOW: 86400}


def test_numbers_in_the_env_are_parsed():
    assert CoreSettings.from_env(_env(SLA_DUE_SHARDS="4")).due_shards == 4


def test_unrelated_variables_are_ignored():
    assert CoreSettings.from_env(_env(PATH="/usr/bin", STAGE="dev")).table_name == "shopdesk-test"


def test_sla_targets_json_is_parsed_to_priority_keys():
    # Given the template's JSON string of priority -> seconds
    settings = CoreSettings.from_env(_env(SLA_FIRST_RESPONSE_TARGETS=json.dumps(TARGETS)))
    # Then every key is a Priority and every value an int
    assert settings.first_response_targets == {Priority(k): v for k, v in TARGETS.items()}
    assert all(isinstance(k, Priority) for k in settings.first_response_targets)
    assert settings.first_response_targets[Priority.URGENT] == 600


def test_sla_targets_missing_a_priority_are_refused():
    partial = {k: v for k, v in TARGETS.items() if k != "low"}
    with pytest.raises(ValidationError, match="low"):
        CoreSettings.from_env(_env(SLA_FIRST_RESPONSE_TARGETS=json.dumps(partial)))


@pytest.mark.parametrize("value", ["urgent=900", "{urgent: 900}", "", "[900, 3600]", '"900"'])
def test_sla_targets_that_are_not_a_json_object_are_refused(value):
    with pytest.raises(ValidationError):
        CoreSettings.from_env(_env(SLA_FIRST_RESPONSE_TARGETS=value))


def test_sla_targets_with_an_unknown_priority_are_refused():
    with pytest.raises(ValidationError):
        CoreSettings.from_env(_env(SLA_FIRST_RESPONSE_TARGETS=json.dumps({**TARGETS, "critical": 60})))


def test_sla_targets_that_are_not_numbers_are_refused():
    with pytest.raises(ValidationError):
        CoreSettings.from_env(_env(SLA_FIRST_RESPONSE_TARGETS=json.dumps({**TARGETS, "high": "soon"})))


@pytest.mark.parametrize("seconds", [0, -60])
def test_sla_target_that_is_not_positive_is_refused(seconds):
    env = _env(SLA_FIRST_RESPONSE_TARGETS=json.dumps({**TARGETS, "normal": seconds}))
    try:
        CoreSettings.from_env(env)
    except ValidationError:
        return
    raise AssertionError(f"a first-response target of {seconds}s was accepted")


@pytest.mark.parametrize("env", [{}, {"TABLE_NAME": ""}])
def test_missing_table_name_is_refused(env):
    with pytest.raises(ValidationError, match="TABLE_NAME"):
        CoreSettings.from_env(env)


@pytest.mark.parametrize("shards", ["0", "257", "many"])
def test_due_shards_out_of_range_are_refused(shards):
    with pytest.raises(ValidationError):
        CoreSettings.from_env(_env(SLA_DUE_SHARDS=shards))


def test_function_settings_require_their_own_variables():
    with pytest.raises(ValidationError, match="WORK_QUEUE_URL"):
        InboundSettings.from_env(_env(TWILIO_SECRET_ARN="arn:secret"))
    with pytest.raises(ValidationError, match="OUTBOUND_QUEUE_URL"):
        AgentApiSettings.from_env(_env(WORK_QUEUE_URL="https://q/work.fifo"))


def test_dispatcher_settings_defaults():
    settings = DispatcherSettings.from_env(_env(OUTBOUND_QUEUE_URL="https://q/out.fifo",
                                                TWILIO_SECRET_ARN="arn:secret"))
    assert (settings.max_attempts, settings.backoff_base_seconds) == (6, 5)
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.status_callback_base_url == ""


def test_settings_are_frozen():
    settings = CoreSettings.from_env(_env())
    with pytest.raises(ValidationError):
        settings.table_name = "other"


def test_shop_mail_is_the_default_address_then_the_receipt_rule_recipients():
    env = _env(OUTBOUND_QUEUE_URL="q", TWILIO_SECRET_ARN="arn", SES_FROM_ADDRESS="Shop <support@shop.example>",
               EMAIL_RECIPIENTS="shop.example, sales@brand.example,,")
    assert DispatcherSettings.from_env(env).shop_addresses == ["Shop <support@shop.example>", "shop.example",
                                                               "sales@brand.example"]
    assert DispatcherSettings.from_env(_env(OUTBOUND_QUEUE_URL="q", TWILIO_SECRET_ARN="arn")).shop_addresses == []


def test_contact_form_senders_must_be_addresses_the_shop_mail_names():
    env = _env(WORK_QUEUE_URL="q", MEDIA_BUCKET="b", SES_FROM_ADDRESS="support@shop.example",
               EMAIL_RECIPIENTS="shop.example, forms@brand.example")
    declared = EmailInboundSettings.from_env({**env,
                                              "CONTACT_FORM_SENDERS": " Forms@brand.example, support@shop.example"})
    assert declared.contact_form_addresses == ["forms@brand.example", "support@shop.example"]
    assert EmailInboundSettings.from_env(env).contact_form_addresses == []
    # an address only at a configured domain, a domain, another shop's address: not one the shop's mail names
    for stranger in ("web@shop.example", "shop.example", "forms@other.example"):
        with pytest.raises(ValidationError, match="CONTACT_FORM_SENDERS"):
            EmailInboundSettings.from_env({**env, "CONTACT_FORM_SENDERS": stranger})
