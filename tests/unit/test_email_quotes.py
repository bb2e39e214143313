"""Quoted history under replies, HTML to text, and the auto-reply loop guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopdesk.channels.email import html_to_text, parse_email, split_quoted

FIXTURES = Path(__file__).parent / "fixtures" / "email"
SHOP = ["support@shop.example"]


def parse_file(name: str):  # type: ignore[no-untyped-def]
    return parse_email((FIXTURES / name).read_bytes(), shop_addresses=SHOP).message


# ------------------------------------------------------------------------------- replies in files

def test_gmail_reply_with_wrapped_attribution() -> None:
    message = parse_file("reply_gmail.eml")
    assert message.text == "Thanks, Tuesday works for me.\n\nAnna"
    assert message.email.quoted_text.startswith("On Mon, 11 Mar 2024 at 09:00, Shop Support <\nsupport@")
    assert "> can we deliver on Tuesday?" in message.email.quoted_text


def test_apple_reply_with_quoted_attribution_and_format_flowed() -> None:
    message = parse_file("reply_apple.eml")
    assert message.text == "Yes please, leave it with the neighbour.\n\nSent from my iPhone"
    assert message.email.quoted_text.startswith("> On 11 Mar 2024, at 09:00, Shop Support")


def test_outlook_reply_with_header_block() -> None:
    message = parse_file("reply_outlook.eml")
    assert message.text == "Hi,\n\nthe label works, thank you.\n\nBest regards\nCarla"
    assert message.email.quoted_text.startswith("________________________________\nFrom: Shop Support")


def test_german_reply() -> None:
    message = parse_file("reply_german.eml")
    assert message.text == "Danke, das passt."
    assert message.email.quoted_text.startswith("Am Mo., 11. März 2024 um 09:00 Uhr schrieb Shop Support")


def test_html_gmail_reply_blockquote() -> None:
    message = parse_file("html_gmail_reply.eml")
    assert message.text == "Size L, please."
    assert message.email.quoted_text == ("On Mon, 11 Mar 2024 at 09:00, Shop Support <support@shop.example> wrote:\n"
                                         "> Which size do you need?")


# ------------------------------------------------------------------------------- attribution styles

QUOTE = "\n\n> earlier message\n> second line\n"


@pytest.mark.parametrize("attribution", [
    "On Mon, Mar 11, 2024 at 9:00 AM Shop Support <support@shop.example> wrote:",
    "On 11 Mar 2024, at 09:00, Shop Support <support@shop.example> wrote:",
    "Am 11.03.2024 um 09:00 schrieb Shop Support <support@shop.example>:",
    "Am Mo., 11. März 2024 um 09:00 Uhr schrieb Shop Support <support@shop.example>:",
    "El lun, 11 mar 2024 a las 9:00, Shop Support (<support@shop.example>) escribió:",
    "Em seg., 11 de mar. de 2024 às 09:00, Shop Support <support@shop.example> escreveu:",
    "Shop Support <support@shop.example>, 11 Mar 2024 Pzt, 09:00 tarihinde şunu yazd\u0131:",
    "Le lun. 11 mars 2024 à 09:00, Shop Support <support@shop.example> a écrit :",
    "Il giorno lun 11 mar 2024 alle ore 09:00 Shop Support <support@shop.example> ha scritto:",
    "Op ma 11 mrt 2024 om 09:00 schreef Shop Support <support@shop.example>:",
])
def test_attribution_lines_in_many_languages(attribution: str) -> None:
    text, quoted = split_quoted("Thanks, that helps.\n\n" + attribution + QUOTE)
    assert text == "Thanks, that helps."
    assert quoted.startswith(attribution)


@pytest.mark.parametrize("block", [
    "-----Original Message-----\nFrom: Shop <support@shop.example>\nSent: Monday\nTo: me\nSubject: x\n\nold",
    "-----Ursprüngliche Nachricht-----\nVon: Shop <support@shop.example>\nGesendet: Montag\nAn: ich\n\nalt",
    "-----Mensaje original-----\nDe: Shop\nEnviado el: lunes\nPara: yo\nAsunto: x\n\nviejo",
    "Von: Shop Support <support@shop.example>\nGesendet: Montag, 11. März 2024 09:00\nAn: Dieter\n"
    "Betreff: Lieferung\n\nalt",
    "From: Shop Support <support@shop.example>\nDate: Monday, 11 March 2024\nTo: Me\nSubject: x\n\nold",
    "*From:* Shop Support <support@shop.example>\n*Sent:* Monday\n*To:* Me\n*Subject:* x\n\nold",
    "De : Shop Support <support@shop.example>\nEnvoyé : lundi 11 mars 2024 09:00\nÀ : Moi\nObjet : x\n\nvieux",
    "Kimden: Shop Support <support@shop.example>\nGönderildi: 11 Mart 2024 Pazartesi 09:00\nKime: Ben\n"
    "Konu: x\n\neski",
])
def test_outlook_style_blocks(block: str) -> None:
    text, quoted = split_quoted("New text here.\n\n" + block)
    assert text == "New text here."
    assert quoted == block


def test_signature_stays() -> None:
    text, quoted = split_quoted("Thanks!\n\n-- \nAnna\nACME Ltd\n\nOn Mon, 11 Mar 2024, Shop wrote:\n> hi")
    assert text == "Thanks!\n\n-- \nAnna\nACME Ltd"
    assert quoted == "On Mon, 11 Mar 2024, Shop wrote:\n> hi"


def test_trailing_quote_block_without_attribution() -> None:
    text, quoted = split_quoted("Sure.\n\n> did you get it?\n> thanks")
    assert (text, quoted) == ("Sure.", "> did you get it?\n> thanks")


def test_bottom_posting_keeps_everything() -> None:
    body = "On Mon, 11 Mar 2024, Shop wrote:\n> Which size?\n\nSize L please."
    assert split_quoted(body) == (body, None)


def test_inline_answers_are_kept() -> None:
    body = "> Which size?\nL\n> Which colour?\nRed"
    assert split_quoted(body) == (body, None)


def test_forward_without_comment_is_kept() -> None:
    body = "---------- Forwarded message ---------\nFrom: Shop <orders@shop.example>\nDate: Mon\n" \
           "Subject: Your order\nTo: me\n\nOrder 123 confirmed"
    assert split_quoted(body) == (body, None)


def test_plain_text_mentioning_wrote_is_not_cut() -> None:
    body = "On Monday I wrote: the parcel is late.\nPlease check."
    assert split_quoted(body) == (body, None)


# ------------------------------------------------------------------------------- HTML

@pytest.mark.parametrize(("markup", "expected"), [
    ("<p>a</p><p>b</p>", "a\n\nb"),
    ("a<br>b<br><br>c", "a\nb\n\nc"),
    ("<ul><li>one</li><li>two<ul><li>deep</li></ul></li></ul>", "- one\n- two\n  - deep"),
    ("<ol><li>x</li><li>y</li></ol>", "1. x\n2. y"),
    ('<a href="https://x.example/a">the link</a>', "the link (https://x.example/a)"),
    ('<a href="https://x.example/a">https://x.example/a</a>', "https://x.example/a"),
    ('<a href="mailto:a@x.example">a@x.example</a>', "a@x.example"),
    ('<a href="mailto:a@x.example">write us</a>', "write us (a@x.example)"),
    ('<a href="#top">top</a>', "top"),
    ("<script>var x = 1;</script><style>.a{}</style>visible", "visible"),
    ("&lt;b&gt; &amp; &eacute; &#8364; &#x263A;&nbsp;x", "<b> & é € ☺ x"),
    ("<pre>  keep\n    spacing</pre>", "keep\n    spacing"),
    ("<blockquote>quoted <b>text</b></blockquote>after", "> quoted text\nafter"),
    ("<div>unclosed <blockquote>still", "unclosed\n> still"),
    ("<p>broken <![if !supportLists]>x<![endif]> markup", "broken x markup"),
    ("<img src='cid:1' alt='Logo'> text", "Logo text"),
    ("<html><head><title>t</title><meta charset=utf-8><body>unclosed head", "unclosed head"),
    ("<head><title>never closed<body>body text", "body text"),
    ("", ""),
])
def test_html_to_text(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


# ------------------------------------------------------------------------------- loop guard

def _auto(headers: str, subject: str = "Your order") -> bool:
    raw = (f"From: someone@example.com\r\nTo: support@shop.example\r\nSubject: {subject}\r\n{headers}"
           f"Message-ID: <x@example.com>\r\n\r\nbody\r\n").encode()
    return parse_email(raw, shop_addresses=SHOP).message.email.auto_submitted


@pytest.mark.parametrize("headers", [
    "Auto-Submitted: auto-replied\r\n",
    "Auto-Submitted: auto-generated\r\n",
    "Auto-Submitted: auto-notified; owner-email=x@example.com\r\n",
    "X-Autoreply: yes\r\n",
    "X-Autorespond: Out of office\r\n",
    "Precedence: bulk\r\n",
    "Precedence: junk\r\n",
    "Precedence: list\r\n",
    "Precedence: auto_reply\r\n",
    "X-Auto-Response-Suppress: All\r\n",
    "X-Auto-Response-Suppress: DR, OOF\r\n",
    "X-Auto-Response-Suppress: AutoReply\r\n",
    "Return-Path: <>\r\n",
])
def test_auto_reply_headers(headers: str) -> None:
    assert _auto(headers) is True


@pytest.mark.parametrize("subject", [
    "Out of Office: Your order",
    "Out of Office AutoReply: Your order",
    "Automatic reply: Your order",
    "Auto: Your order",
    "[Auto-Reply] Your order",
    "Autoreply: Your order",
    "Abwesenheitsnotiz: Ihre Bestellung",
    "Automatische Antwort: Ihre Bestellung",
    "Respuesta automática: Su pedido",
    "Resposta automática: Seu pedido",
    "Otomatik yan\u0131t: Siparişiniz",
    "Réponse automatique : Votre commande",
    "=?utf-8?Q?Respuesta_autom=C3=A1tica:_Su_pedido?=",
])
def test_out_of_office_subjects(subject: str) -> None:
    assert _auto("", subject) is True


@pytest.mark.parametrize(("headers", "subject"), [
    ("Auto-Submitted: no\r\n", "Your order"),
    ("Precedence: first-class\r\n", "Your order"),
    ("X-Auto-Response-Suppress: DR\r\n", "Your order"),
    ("", "Auto insurance for my order?"),
    ("", "Re: Out of office chair delivery"),
    ("", "Where is my order?"),
])
def test_human_messages_are_not_auto(headers: str, subject: str) -> None:
    assert _auto(headers, subject) is False


def test_outlook_out_of_office_fixture() -> None:
    message = parse_file("autoreply_outlook_oof.eml")
    assert message.email.auto_submitted is True
    assert message.text == "I am out of the office until Monday."


def test_mailer_daemon_is_auto() -> None:
    raw = b"From: MAILER-DAEMON@mx.example.net\r\nTo: support@shop.example\r\nSubject: failure\r\n\r\nx\r\n"
    assert parse_email(raw).message.email.auto_submitted is True


# ------------------------------------------------------------------------------- forwards and Outlook HTML

def test_forward_subject_keeps_the_forwarded_outlook_block() -> None:
    raw = (b"From: a@example.com\r\nTo: support@shop.example\r\nSubject: FW: Your order\r\n\r\n"
           b"See below.\r\n\r\n________________________________\r\nFrom: Shop <orders@shop.example>\r\n"
           b"Sent: Monday\r\nTo: a@example.com\r\nSubject: Your order\r\n\r\nOrder 123 confirmed\r\n")
    message = parse_email(raw, shop_addresses=SHOP).message
    assert message.text.endswith("Order 123 confirmed") and message.email.quoted_text is None


def test_apple_forward_marker_keeps_everything() -> None:
    body = "Look at this.\n\nBegin forwarded message:\n\nFrom: Shop <orders@shop.example>\nDate: Monday\n" \
           "To: me\nSubject: Your order\n\nOrder 123 confirmed"
    assert split_quoted(body) == (body, None)


def test_outlook_html_reply() -> None:
    raw = b"""From: Carla <carla@example.com>\r\nTo: support@shop.example\r\nSubject: RE: Label\r
Content-Type: text/html; charset=utf-8\r
\r
<html><body><div><p>Works, thanks.</p></div>
<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p><b>From:</b> Shop Support &lt;support@shop.example&gt;<br><b>Sent:</b> Monday, March 11, 2024 9:00 AM<br>
<b>To:</b> Carla &lt;carla@example.com&gt;<br><b>Subject:</b> Label</p></div>
<p>Hello Carla, here is your label.</p></body></html>\r
"""
    message = parse_email(raw, shop_addresses=SHOP).message
    assert message.text == "Works, thanks."
    assert message.email.quoted_text.startswith("From: Shop Support <support@shop.example>\nSent: Monday")
    assert message.email.quoted_text.endswith("Hello Carla, here is your label.")
