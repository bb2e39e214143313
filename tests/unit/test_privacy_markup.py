"""A mail's HTML part masked as a reader sees it: a card whose groups are joined by &nbsp;, character references or
tags is masked in the mail written again, and HTML with nothing to mask is left byte for byte."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from shopdesk.privacy.markup import HtmlNotMasked, mask_html
from shopdesk.privacy.masking import MailNotRewritten, compile_patterns, mask, mask_mail

CARD = "4000 0566 5566 5556"


def _masked(text: str) -> str:
    return mask(text).text or ""


def _mail(html: str, cte: str | None = None, plain: str | None = "Please refund to 4000 0566 5566 5556\n") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Ada <ada@customer.example>", "support@shop.example", "refund"
    if plain is not None:
        msg.set_content(plain)
        msg.add_alternative(html, subtype="html", cte=cte)
    else:
        msg.set_content(html, subtype="html", cte=cte)
    return bytes(msg)


def _html_part(raw: bytes) -> str:
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    return mail.get_body(("html",)).get_content()


@pytest.mark.parametrize("html,expected", [
    ('<div dir="ltr">Please refund to 4000&nbsp;0566&nbsp;5566&nbsp;5556</div>',
     '<div dir="ltr">Please refund to [card •••• 5556]</div>'),
    ("<p>Refund to 4000&#32;0566&#32;5566&#32;5556 please</p>", "<p>Refund to [card •••• 5556] please</p>"),
    ("<p>Refund to 4000&#160;0566&#160;5566&#160;5556 please</p>", "<p>Refund to [card •••• 5556] please</p>"),
    ("<p>Refund to 4000&#x20;0566&#X20;5566&#xA0;5556 please</p>", "<p>Refund to [card •••• 5556] please</p>"),
    ("<p>Refund to 4000&#32;0566&nbsp;5566&#x20;5556 please</p>", "<p>Refund to [card •••• 5556] please</p>"),
    ("<p>Refund to 4000<span></span> 0566 5566 5556 please</p>", "<p>Refund to [card •••• 5556] please</p>"),
    ("<p>Refund to 4000 <b>0566</b> 5566 5556 please</p>", "<p>Refund to [card •••• 5556] please</p>"),
    ("<p>my card is <b>4000056655665556</b> &amp; &lt;thanks&gt;</p>",
     "<p>my card is <b>[card •••• 5556]</b> &amp; &lt;thanks&gt;</p>"),
    ('<p title="card 4000 0566 5566 5556" class="x">Hi</p><a href="tel:4000056655665556">call</a>',
     '<p title="card [card •••• 5556]" class="x">Hi</p><a href="tel:[card •••• 5556]">call</a>'),
    ('<img alt="4000&nbsp;0566&nbsp;5566&nbsp;5556" src="cid:a"/>', '<img alt="[card •••• 5556]" src="cid:a" />'),
])
def test_a_card_in_html_is_masked_as_a_reader_sees_it_and_the_rest_of_the_markup_kept(html, expected):
    assert mask_html(html, _masked) == expected


@pytest.mark.parametrize("html", [
    '<!DOCTYPE html>\n<html><head><style>p{margin:0}</style></head><body>\n<div dir="ltr">Order #1001, call&nbsp;'
    '+31&nbsp;6&nbsp;5550&nbsp;1234<br>\n<a href="https://shop.example/o?id=1001&amp;x=2">track</a>'
    "<!-- a comment --></div></body></html>\n",
    "<P CLASS=x>Unquoted  and UPPER case &copy &#169; 12/29</P><br/>",
    "<p>Order 4198</p><p>415 555 3537</p>",
    # numbers in blocks one after the other whose digits, read together, pass as a card
    "<ul>\n<li>6750 0138</li>\n<li>6962 4330</li>\n<li>6587 0517</li>\n</ul>",
    "<p>Home 6745 9660</p><p>Work 6074 8893</p>",
    "<table><tr><td>22.11.2026</td><td>26.11.2026</td></tr></table>",
    "<div>Orders:<br>54107147<br>55355715</div>",
    "<ul><li>4628</li><li>5342</li><li>5832</li><li>2785</li><li>9122</li></ul>",       # any four in a row pass
    "<table><tr><td>6651 5557</td></tr><tr><td>6695 6371</td></tr><tr><td>6916 7174</td></tr></table>",
    "<blockquote><p>Orders:</p><p>6729</p><p>4565</p><p>1613</p><p>7040</p><p>6570</p></blockquote>",
])
def test_html_with_nothing_to_mask_is_left_byte_for_byte(html):
    assert mask_html(html, _masked) is html


@pytest.mark.parametrize("html,expected", [
    ("<p>4111 1111</p><p>1111 1111</p>", "<p>[card •••• 1111]</p>"),
    ("4111 1111<br>1111 1111", "[card •••• 1111]"),
    ("<p>4111&nbsp;1111<br/>\n1111&nbsp;1111 thanks</p>", "<p>[card •••• 1111] thanks</p>"),
    ('<div dir="ltr">My card: 4111 1111</div>\n  <div>1111 1111</div>\n<div>Ada</div>',
     '<div dir="ltr">My card: [card •••• 1111]</div>\n<div>Ada</div>'),
    ("<table><tr><td>4111 1111</td>\n<td>1111 1111</td></tr></table>",
     "<table><tr><td>[card •••• 1111]</td></tr></table>"),
    # over three blocks or more, and after an order number on its first line
    ("<p>4111</p><p>1111</p><p>1111</p><p>1111</p>", "<p>[card •••• 1111]</p>"),
    ("<div>My card: 4111 1111<br>1111<br>1111</div><div>Ada</div>",
     "<div>My card: [card •••• 1111]</div><div>Ada</div>"),
    ("<p>Order 1001 4111 1111</p><p>1111 1111</p>", "<p>Order 1001 [card •••• 1111]</p>"),
])
def test_a_card_split_over_two_blocks_of_html_is_masked(html, expected):
    assert mask_html(html, _masked) == expected


def test_a_mail_with_a_card_split_over_two_lines_is_written_again_masked_in_both_parts():
    result = mask_mail(_mail("<p>Please refund to 4111 1111</p><p>1111 1111</p>",
                             plain="Please refund to 4111 1111 1111\n1111, thanks\n"))
    assert result is not None and result[1] == ("card",)
    mail = BytesParser(policy=policy.default).parsebytes(result[0])
    assert mail.get_body(("plain",)).get_content() == "Please refund to [card •••• 1111], thanks\n"
    assert _html_part(result[0]) == "<p>Please refund to [card •••• 1111]</p>\n"


def test_a_card_in_a_comment_or_a_style_is_masked_too():
    html = "<style>/* 4000 0566 5566 5556 */</style><p>Hi</p><!-- 4000 0566 5566 5556 -->"
    assert mask_html(html, _masked) == "<style>/* [card •••• 5556] */</style><p>Hi</p><!-- [card •••• 5556] -->"


def test_html_that_cannot_be_mapped_back_is_refused():
    # a masking whose text does not read back from the markup: "a⏎b" made "a⏎" (a line break is read between texts)
    with pytest.raises(HtmlNotMasked):
        mask_html("<p>a<br>b</p>", lambda text: text.replace("b", ""))


@pytest.mark.parametrize("cte", ["quoted-printable", "base64", None])
@pytest.mark.parametrize("html", [
    '<div dir="ltr">Please refund to 4000&nbsp;0566&nbsp;5566&nbsp;5556</div>',
    "<p>Refund to 4000&#32;0566&#160;5566&#x20;5556 please</p>",
    "<p>Refund to 4000<span></span> 0566 5566 5556 please</p>",
])
def test_the_html_part_of_a_mail_written_again_holds_the_card_masked(html, cte):
    for plain in ("Please refund to 4000 0566 5566 5556\n", None):
        result = mask_mail(_mail(html, cte, plain))
        assert result is not None and result[1] == ("card",)
        part = _html_part(result[0])
        assert "[card •••• 5556]" in part
        assert _masked(part) == part and "0566" not in part and "0566" not in result[0].decode("ascii", "replace")


def test_a_mail_whose_html_is_unchanged_keeps_its_html_part_as_it_was():
    html = '<div dir="ltr">Order #1001&nbsp;is late</div>'
    result = mask_mail(_mail(html, "quoted-printable"))
    assert result is not None
    assert _html_part(result[0]) == _html_part(_mail(html, "quoted-printable"))
    assert mask_mail(_mail(html, "quoted-printable", plain="Order #1001 is late\n")) is None


def test_a_mail_whose_html_cannot_be_masked_is_not_written_again(monkeypatch):
    from shopdesk.privacy import markup

    def refuse(source: str) -> tuple[object, str, list[tuple[int, int]]]:
        raise HtmlNotMasked("unreadable")
    monkeypatch.setattr(markup, "_read", refuse)
    with pytest.raises(MailNotRewritten):
        mask_mail(_mail("<p>Refund to 4000<span></span> 0566 5566 5556</p>"))


def test_a_label_quoted_from_an_earlier_reply_stays_and_the_new_card_is_masked_after_it():
    html = "<blockquote>card [card •••• 1111] ok</blockquote><p>new one: 4000&nbsp;0566&nbsp;5566&nbsp;5556</p>"
    assert mask_html(html, _masked) == ("<blockquote>card [card •••• 1111] ok</blockquote>"
                                        "<p>new one: [card •••• 5556]</p>")


@pytest.mark.parametrize("name", ["ref [internal]", "[ref]", "a]b", "]ref[", "a<b>[c]&d"])
def test_an_html_mail_masked_by_a_pattern_with_brackets_in_its_name_is_written_again_not_deleted(name):
    # Given a shop's pattern whose name holds brackets, and a match whose last four hold one too
    patterns = compile_patterns([(name, r"REF-\d{6}"), ("id", r"ID\[\d{6}\]")])
    html = "<p>Our ref REF-123456, <b>ID[654321]</b> and card 4000&nbsp;0566&nbsp;5566&nbsp;5556</p>"
    # When the mail is masked
    result = mask_mail(_mail(html, plain="Our ref REF-123456\n"), patterns)
    # Then its HTML part is written again with each label in place, the rest of the markup kept
    assert result is not None and set(result[1]) == {name, "id", "card"}
    assert _html_part(result[0]) == (f"<p>Our ref [{name} •••• 3456], <b>[id •••• 321]]</b> and card "
                                     "[card •••• 5556]</p>\n".replace(name, name.replace("&", "&amp;")
                                                                    .replace("<", "&lt;").replace(">", "&gt;")))


def test_a_long_html_part_is_masked_in_one_pass():
    # the masked text is lined up with the HTML's text label by label, not by a general diff (quadratic on this)
    html = "<p>" + "4 " * 25000 + "4000&nbsp;0566&nbsp;5566&nbsp;5556</p>" + "<p>hello 12</p>" * 3000
    result = mask_html(html, _masked)
    assert result.count("[card •••• 5556]") == 1 and "0566" not in result
