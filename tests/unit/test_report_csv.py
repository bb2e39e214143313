"""The reports' CSV (``analytics.reports.as_csv``, the desk's one CSV writer): text a spreadsheet would run as a
formula is written as text, read back with a real CSV reader."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from shopdesk.analytics.reports import as_csv


def _cells(rows: list[dict[str, object]]) -> list[str]:
    [_, *read] = list(csv.reader(io.StringIO(as_csv(rows))))
    return [cell for row in read for cell in row]


@pytest.mark.parametrize("text", [
    '=HYPERLINK("https://evil.example/c","The courier note")',
    '  =HYPERLINK("https://evil.example/c","The courier note")',        # spaces first
    "\u00a0=1+1",                                                          # a no-break space first
    "\u3000+1+1",                                                          # an ideographic space first
    "\u200b=1+1",                                                          # a zero-width space first
    "\ufeff@SUM(1+1)",                                                     # a byte order mark first
    "\n=1+1",                                                              # a line break first
    " \t -2+3+cmd|' /C calc'!A0",
    "\t=HYPERLINK(\"https://evil.example/c\")",
    "\r=HYPERLINK(\"https://evil.example/c\")",
    "\x00=1+1",
])
def test_a_cell_whose_first_character_past_any_spacing_starts_a_formula_is_quoted(text: str) -> None:
    # Given a customer's comment that a spreadsheet would run once it skips what comes before the formula
    # When it is written as CSV and read back
    [cell] = _cells([{"comment": text}])
    # Then it is the whole text behind a quote: shown, never run
    assert cell == "'" + text


def test_a_negative_number_written_as_text_is_quoted_and_numbers_stay_numbers() -> None:
    # a text "-5" starts as a formula does, with or without spaces first (as it was before spaces were looked past);
    # numbers are numbers, a spreadsheet's to read
    assert _cells([{"a": "-5", "b": "  -5", "c": -5, "d": Decimal("-2.5"), "e": 0.25}]) == [
        "'-5", "'  -5", "-5", "-2.5", "0.25"]


@pytest.mark.parametrize("text", ["  hello", "a=b", "I paid 5 + 5", "'=already text", "", "\u00a0", "email@shop"])
def test_text_that_does_not_start_a_formula_is_written_as_it_is(text: str) -> None:
    assert _cells([{"comment": text}]) == [text]
