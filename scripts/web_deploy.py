"""``make deploy``'s last step: upload the web inbox (web/dist) and its runtime config.json to the web bucket.

One build serves every stage: ``config.json`` is written from the deployed stack's outputs (API URL,
WebSocket URL when the stack has one, the Cognito hosted UI domain and app client, the inbox's own URL
for the sign-in and sign-out redirects), and so is the Content-Security-Policy ``index.html`` carries (the same
origins, and the media bucket's). Hashed assets are cached for a year, ``index.html`` and
``config.json`` never; files of an earlier build are removed after the new ones are in place, and
CloudFront is told to drop what it holds of the two that keep their names.

    python -m scripts.web_deploy [--config-env prod] [--stack-name NAME] [--region REGION] [--dist web/dist]

Stack name and region default to samconfig.toml's for the config environment, as ``sam deploy`` uses them.
"""

from __future__ import annotations

import argparse
import html
import json
import mimetypes
import time
import tomllib
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3

REPO = Path(__file__).resolve().parents[1]
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
# The widget's script keeps its name (the shops' pages name it) and loads on every page of their sites: browsers
# may reuse it for five minutes, so a new version reaches every visitor within that.
WIDGET = "public, max-age=300"


def web_config(outputs: dict[str, str]) -> dict[str, Any]:
    """The inbox's config.json from the stack's outputs (the contract with the web app)."""
    inbox = outputs["InboxUrl"].rstrip("/") + "/"
    return {
        "apiUrl": outputs["ApiUrl"].rstrip("/"),
        "wsUrl": outputs.get("WebSocketUrl") or None,
        "auth": {
            "mode": "cognito",
            "domain": outputs["InboxAuthDomain"].rstrip("/"),
            "clientId": outputs["AgentUserPoolClientId"],
            "redirectUri": inbox,
            "logoutUri": inbox,
        },
    }


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def inbox_policy(*, api: str | None, socket: str | None, sign_in: str | None, media: Sequence[str]) -> str:
    """The inbox's Content-Security-Policy with its origins: the page's own, the API's, the live socket's, the
    sign-in domain's and the media bucket's (presigned images and uploads), and nothing else; no inline script or
    style. ``None``: served from the page's own origin (the local stack), or not used."""
    others = [origin(u) for u in (api, socket, sign_in) if u]
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "font-src 'self'",
        " ".join(["img-src 'self' data:", *media]),
        " ".join(["connect-src 'self'", *dict.fromkeys([*others, *media])]),
        "object-src 'none'", "base-uri 'none'", "form-action 'self'"])


def media_origins(bucket: str, region: str) -> list[str]:
    """Where boto3's presigned URLs for the bucket point (virtual-hosted: global in us-east-1, else regional)."""
    return [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com"]


def with_policy(page: bytes, policy: str) -> bytes:
    """``index.html`` with the policy as the first thing in its head (a <meta> governs only what follows it)."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}" />'.encode()
    head = page.find(b"<head>")
    if head < 0:
        raise ValueError("index.html has no <head>: nowhere to put its Content-Security-Policy")
    at = head + len(b"<head>")
    return page[:at] + b"\n    " + meta + page[at:]


def stack_policy(outputs: dict[str, str], region: str) -> str:
    """The deployed inbox's policy, from the stack's outputs (the same the app's config.json names)."""
    return inbox_policy(api=outputs["ApiUrl"], socket=outputs.get("WebSocketUrl"), sign_in=outputs["InboxAuthDomain"],
                        media=media_origins(outputs["MediaBucketName"], region))


def upload_plan(dist: Path) -> list[tuple[Path, str, str, str]]:
    """(file, key, content type, cache control) for every file of the build; index.html last, so a
    browser never gets a page whose assets are not uploaded yet."""
    plan = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file() and not p.name.startswith(".")):
        key = path.relative_to(dist).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        cache = IMMUTABLE if key.startswith("assets/") else WIDGET if key == "widget.js" else NO_CACHE
        plan.append((path, key, kind, cache))
    return sorted(plan, key=lambda row: row[1] == "index.html")


def samconfig_target(config_env: str, path: Path = REPO / "samconfig.toml") -> tuple[str | None, str | None]:
    """(stack name, region) that ``sam deploy --config-env`` uses."""
    env = tomllib.loads(path.read_text()).get(config_env, {}) if path.exists() else {}
    name = env.get("global", {}).get("parameters", {}).get("stack_name") or env.get("deploy", {}).get(
        "parameters", {}).get("stack_name")
    region = env.get("deploy", {}).get("parameters", {}).get("region") or env.get("global", {}).get(
        "parameters", {}).get("region")
    return name, region


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy(stack_name: str, region: str | None, dist: Path) -> None:
    if not (dist / "index.html").exists():
        raise SystemExit(f"{dist} has no build: run `make web` first")
    session = boto3.session.Session(region_name=region)
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    bucket = outputs["WebBucketName"]
    s3 = session.client("s3")
    before = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
              for o in page.get("Contents", [])}
    uploaded = set()
    policy = stack_policy(outputs, session.region_name or "us-east-1")
    for path, key, kind, cache in upload_plan(dist):
        body = with_policy(path.read_bytes(), policy) if key == "index.html" else path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=kind, CacheControl=cache)
        uploaded.add(key)
    config = json.dumps(web_config(outputs), indent=2).encode()
    s3.put_object(Bucket=bucket, Key="config.json", Body=config, ContentType="application/json",
                  CacheControl=NO_CACHE)
    uploaded.add("config.json")
    stale = sorted(before - uploaded)
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]]})
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["WebDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 2, "Items": ["/index.html", "/config.json"]},
                           "CallerReference": f"shopdesk-{int(time.time())}"})
    print(f"web inbox: {len(uploaded)} files in s3://{bucket}, {len(stale)} stale removed; open {outputs['InboxUrl']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.web_deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", default="default")
    parser.add_argument("--stack-name")
    parser.add_argument("--region")
    parser.add_argument("--dist", type=Path, default=REPO / "web" / "dist")
    args = parser.parse_args()
    name, region = samconfig_target(args.config_env)
    stack_name = args.stack_name or name
    if not stack_name:
        raise SystemExit(f"no stack_name for config env {args.config_env!r} in samconfig.toml: give --stack-name")
    deploy(stack_name, args.region or region, args.dist)


if __name__ == "__main__":
    main()
