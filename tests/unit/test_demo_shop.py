"""The local demo shop signs its visitors' tokens the way the widget API checks them (local/shop.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local.shop import visitor_token
from shopdesk.channels import webchat
from shopdesk.errors import InvalidSignature

SECRET = "fake-webchat-visitor-secret"


def test_the_demo_shops_tokens_pass_the_widget_apis_check_and_name_the_visitor():
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    claims = {"visitor_id": "customer:ana@example.com", "exp": int(now.timestamp()) + 3600, "name": "Ana",
              "email": "ana@example.com"}
    visitor = webchat.verify_visitor_token(visitor_token(SECRET, claims), SECRET, now=now)
    assert (visitor.visitor_id, visitor.name, visitor.email) == ("customer:ana@example.com", "Ana", "ana@example.com")
    with pytest.raises(InvalidSignature):
        webchat.verify_visitor_token(visitor_token("another-secret-entirely", claims), SECRET, now=now)
