"""The public URL a provider called, which its signature is checked against; what a request the table could not
take is kept as, and how its replays back off."""

from __future__ import annotations

import pytest

from shopdesk.channels import twilio
from shopdesk.logic.webhooks import IngestRetry, KeptRequest, _twilio_group, public_url, replay_delay


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


# ------------------------------------------------------------------------------ kept for a replay (Twilio)

def test_a_failed_replay_backs_off_from_five_seconds_to_fifteen_minutes_for_about_four_hours():
    delays = [replay_delay(n) for n in range(1, 24)]       # the 24th receive's failure goes to the dead-letter queue
    assert delays[:4] == [5, 10, 20, 40] and max(delays) == 900
    assert 3.5 * 3600 < sum(delays) < 4.5 * 3600


def test_a_kept_request_is_grouped_by_its_customer_without_naming_them():
    sent: list[tuple[dict, str, str]] = []

    class Queue:
        def send(self, body, *, group, dedup_id):
            sent.append((body, group, dedup_id))

    form = "MessageSid=SM1&From=%2B31612345678&To=%2B14155550100&Body=hi"
    retry = IngestRetry(Queue())          # type: ignore[arg-type]
    for body in (form, form, form.replace("SM1", "SM2")):
        kept = KeptRequest(provider="twilio", route="message", url="https://d/webhooks/twilio", body=body,
                           received_at="2026-05-01T09:00:00.000Z")
        retry.keep(kept, _twilio_group(twilio.parse_form(body), "message"))
    (_, first, one), (_, again, same), (_, other, two) = sent
    assert first == again == other and "31612345678" not in first      # one customer's, in order; no number
    assert one == same and one != two                                   # the same request deduplicated
