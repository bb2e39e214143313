"""The public URL a provider called, which its signature is checked against."""

from __future__ import annotations

import pytest

from shopdesk.logic.webhooks import public_url


@pytest.mark.parametrize("base", ["https://desk.example.com", "https://desk.example.com/"])
def test_configured_base_wins_over_the_domain_api_gateway_saw(base):
    url = public_url(base, "abc123.execute-api.us-east-1.amazonaws.com", "/webhooks/twilio", "")
    assert url == "https://desk.example.com/webhooks/twilio"


def test_configured_base_with_a_path_prefix_keeps_it():
    assert public_url("https://example.com/shop/", "d", "/webhooks/twilio", "") == \
        "https://example.com/shop/webhooks/twilio"


def test_without_a_base_the_api_gateway_domain_is_used_over_https():
    url = public_url("", "abc123.execute-api.us-east-1.amazonaws.com", "/webhooks/twilio/status", "")
    assert url == "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/twilio/status"


def test_query_string_is_kept_as_sent():
    url = public_url("https://desk.example.com", "d", "/webhooks/twilio", "bodySHA256=ab12&x=a%20b")
    assert url == "https://desk.example.com/webhooks/twilio?bodySHA256=ab12&x=a%20b"


def test_no_query_string_means_no_question_mark():
    assert "?" not in public_url("https://desk.example.com", "d", "/webhooks/twilio", "")
