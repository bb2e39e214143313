"""The public URL a provider called, which its signature is checked against; what a request the table could not
take is kept as, and how its replays back off."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from shopdesk.channels import twilio
from shopdesk.logic.webhooks import IngestRetry, KeptRequest, _twilio_group, public_url, replay_delay
from shopdesk.privacy.settings import PrivacyPolicy, PrivacySettings


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


class _Sent:
    def __init__(self) -> None:
        self.sent: list[tuple[dict, str, str]] = []

    def send(self, body, *, group, dedup_id):
        self.sent.append((body, group, dedup_id))


class _Cached:
    """Privacy settings as a function holds them: ``cached`` reads nothing."""

    def __init__(self, policy: PrivacyPolicy | None) -> None:
        self.policy = policy

    def cached(self) -> PrivacyPolicy | None:
        return self.policy


def _keep(body: str, policy: PrivacyPolicy | None) -> tuple[dict, str]:
    queue = _Sent()
    retry = IngestRetry(queue, _Cached(policy))      # type: ignore[arg-type]
    retry.keep(KeptRequest(provider="twilio", route="message", url="https://d/webhooks/twilio", body=body,
                           received_at="2026-05-01T09:00:00.000Z"), "g")
    [(kept, _, dedup_id)] = queue.sent
    return kept, dedup_id


def test_a_kept_form_masks_what_was_written_and_keeps_ids_addresses_and_media_as_sent():
    # a WhatsApp number that would pass for a card number (Luhn-valid, a Visa prefix) is an address: kept
    fields = {"MessageSid": "SM4242424242424242", "From": "whatsapp:+491511234567891", "To": "whatsapp:+14155550100",
              "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/Media/ME4242424242424242",
              "Body": "card 4242424242424242", "ButtonText": "NL91ABNA0417164300"}
    kept, _ = _keep(urlencode(fields), None)        # nothing read yet: the masking every shop has
    form = dict(twilio.parse_form(kept["body"]))
    assert form == {**fields, "Body": "card [card •••• 4242]", "ButtonText": "[IBAN •••• 4300]"}
    assert kept["masked"] == ["card", "IBAN"]


def test_a_kept_form_with_nothing_to_mask_is_kept_as_it_came():
    body = "MessageSid=SM1&From=%2B31612345678&To=%2B14155550100&Body=Where+is+my%20parcel%3F"
    kept, _ = _keep(body, None)
    assert (kept["body"], kept["masked"]) == (body, [])


def test_the_same_request_kept_under_other_settings_is_deduplicated_as_one():
    body = urlencode({"MessageSid": "SM1", "From": "+31612345678", "Body": "BSN 123456789, card 4242424242424242"})
    shop = PrivacyPolicy.of(PrivacySettings(masking_patterns=[{"name": "BSN", "pattern": r"BSN \d{9}"}]))
    (plain, one), (theirs, same) = _keep(body, None), _keep(body, shop)
    assert "123456789" in dict(twilio.parse_form(plain["body"]))["Body"]
    assert dict(twilio.parse_form(theirs["body"]))["Body"] == "[BSN •••• 6789], card [card •••• 4242]"
    assert theirs["masked"] == ["card", "BSN"] and one == same
