"""Sign a webhook the way a provider would, to call the local stack by hand (README walkthrough).

    .venv/bin/python -m local.sign twilio http://127.0.0.1:3000/webhooks/twilio 'MessageSid=SM1&From=...'
    .venv/bin/python -m local.sign meta @payload.json      # or the body itself, or - for stdin
    .venv/bin/python -m local.sign telegram
    .venv/bin/python -m local.sign shopify @order.json   # X-Shopify-Hmac-Sha256 (woocommerce: X-WC-Webhook-Signature)

print the X-Twilio-Signature for that URL and form body, the X-Hub-Signature-256 value
(``sha256=...``) for that exact body, and the X-Telegram-Bot-Api-Secret-Token value, with the
secrets the local stack uses (TWILIO_AUTH_TOKEN, META_APP_SECRET, TELEGRAM_SECRET_TOKEN, or their
documented fake defaults).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "shopdesk"))

from local.settings import secret_values
from shopdesk.channels import twilio


def _body(argument: str) -> bytes:
    """The body exactly as it will be sent: ``@file`` (bytes as stored), ``-`` (stdin) or the text."""
    if argument == "-":
        return sys.stdin.buffer.read()
    if argument.startswith("@"):
        return Path(argument[1:]).read_bytes()
    return argument.encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sign", description=__doc__.split("\n\n")[0])
    providers = parser.add_subparsers(dest="provider", required=True)
    for_twilio = providers.add_parser("twilio", help="X-Twilio-Signature")
    for_twilio.add_argument("url", help="the public URL the provider calls (PUBLIC_BASE_URL + path)")
    for_twilio.add_argument("body", help="the form-encoded request body")
    for_twilio.add_argument("--token", help="auth token (default: the local stack's)")
    for_meta = providers.add_parser("meta", help="X-Hub-Signature-256 (WhatsApp, Messenger, Instagram)")
    for_meta.add_argument("body", help="the raw body: text, @file or - for stdin")
    for_meta.add_argument("--secret", help="app secret (default: the local stack's)")
    providers.add_parser("telegram", help="X-Telegram-Bot-Api-Secret-Token")
    for platform, header in (("shopify", "X-Shopify-Hmac-Sha256"), ("woocommerce", "X-WC-Webhook-Signature")):
        for_platform = providers.add_parser(platform, help=header)
        for_platform.add_argument("body", help="the raw body: text, @file or - for stdin")
        for_platform.add_argument("--secret", help="webhook secret (default: the local stack's)")
    args = parser.parse_args(argv)
    if args.provider == "twilio":
        token = args.token or (secret_values("TwilioSecret") or {})["auth_token"]
        print(twilio.sign(args.url, twilio.parse_form(args.body), token))
    elif args.provider == "meta":
        secret = args.secret or (secret_values("MetaSecret") or {})["app_secret"]
        print("sha256=" + hmac.new(secret.encode(), _body(args.body), hashlib.sha256).hexdigest())
    elif args.provider == "shopify":
        secret = args.secret or (secret_values("ShopifySecret") or {})["client_secret"]
        print(base64.b64encode(hmac.new(secret.encode(), _body(args.body), hashlib.sha256).digest()).decode())
    elif args.provider == "woocommerce":
        secret = args.secret or (secret_values("WooCommerceSecret") or {})["webhook_secret"]
        print(base64.b64encode(hmac.new(secret.encode(), _body(args.body), hashlib.sha256).digest()).decode())
    else:
        print((secret_values("TelegramSecret") or {})["secret_token"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
