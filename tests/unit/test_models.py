"""Domain model orderings the rest of the code relies on."""

from __future__ import annotations

import pytest

from shopdesk.models import Priority, delivery_rank


def test_delivery_statuses_rank_in_the_order_they_happen():
    assert delivery_rank("queued") < delivery_rank("sent") < delivery_rank("delivered") < delivery_rank("read")
    assert delivery_rank("queued") < delivery_rank("accepted") < delivery_rank("sending") < delivery_rank("sent")


@pytest.mark.parametrize("failure", ["failed", "undelivered"])
def test_failures_outrank_delivered_so_a_late_bounce_counts_and_a_late_sent_cannot_undo_them(failure):
    assert delivery_rank(failure) > delivery_rank("delivered")
    assert delivery_rank(failure) > delivery_rank("sent")
    assert delivery_rank(failure) < delivery_rank("read")


def test_unknown_status_ranks_lowest():
    assert delivery_rank("teleported") == delivery_rank("queued") == 0


def test_priority_rank_orders_urgent_first():
    assert [p.rank for p in (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)] == [0, 1, 2, 3]
    assert sorted(Priority, key=lambda p: p.rank) == [Priority.URGENT, Priority.HIGH, Priority.NORMAL,
                                                      Priority.LOW]


def test_the_languages_settings_may_name_are_those_every_automatic_text_is_written_in():
    from shopdesk.bot import phrases
    from shopdesk.csat import texts
    from shopdesk.logic import expectations
    from shopdesk.models.admin import CUSTOMER_LANGUAGES
    from shopdesk.understanding import LANGUAGES
    assert set(CUSTOMER_LANGUAGES) == set(LANGUAGES) == set(texts.LANGUAGES)
    assert set(CUSTOMER_LANGUAGES) <= set(expectations.default_templates()) and \
        set(CUSTOMER_LANGUAGES) <= set(phrases.PHRASES)
