"""Sign a webhook the way a provider would, to call the local stack by hand (README walkthrough).

    .venv/bin/python -m local.sign twilio http://127.0.0.1:3000/webhooks/twilio 'MessageSid=SM1&From=...'

prints the X-Twilio-Signature for that URL and form body, with the auth token the local stack
uses (TWILIO_AUTH_TOKEN, or its documented fake default).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "shopdesk"))

from local.settings import secret_values
from shopdesk.channels import twilio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sign", description=__doc__.split("\n\n")[0])
    parser.add_argument("provider", choices=["twilio"])
    parser.add_argument("url", help="the public URL the provider calls (PUBLIC_BASE_URL + path)")
    parser.add_argument("body", help="the form-encoded request body")
    parser.add_argument("--token", help="auth token (default: the local stack's)")
    args = parser.parse_args(argv)
    token = args.token or (secret_values("TwilioSecret") or {})["auth_token"]
    print(twilio.sign(args.url, twilio.parse_form(args.body), token))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
