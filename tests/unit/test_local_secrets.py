"""The local stack's secrets as the template declares them (local/provision.py ``Provisioner._secret``), and how
long a function keeps a secret it read (shopdesk.dal.secrets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local.provision import Provisioner
from local.settings import secret_values
from local.template import load_template
from tests.support import ROOT

RESOURCES = load_template(ROOT / "template.yaml")["Resources"]


class _SecretsManager:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    def create_secret(self, **request: Any) -> dict[str, str]:
        self.created.append(request)
        return {"ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{request['Name']}"}


class _Aws:
    def __init__(self) -> None:
        self.secretsmanager = _SecretsManager()

    def client(self, service: str) -> _SecretsManager:
        assert service == "secretsmanager"
        return self.secretsmanager


def test_the_local_stack_generates_the_hash_key_afresh_each_time_it_starts():
    # Given no value of it in the environment's table of secrets (so none in the repository)
    assert secret_values("HashKeySecret") is None
    props = RESOURCES["HashKeySecret"]["Properties"]
    keys = []
    # When two stacks provision it
    for _ in range(2):
        aws = _Aws()
        Provisioner({"Resources": RESOURCES}, Path(ROOT), aws, "http://127.0.0.1:9")._secret(
            "HashKeySecret", {**props, "Name": "shopdesk/local/hash-key"})
        [request] = aws.secretsmanager.created
        keys.append(json.loads(request["SecretString"])["hash_key"])
    # Then each holds a random key of its own, as long as the template asks
    assert keys[0] != keys[1] and all(len(key) >= 48 for key in keys)


def test_a_secret_is_read_once_and_cached_five_minutes_then_read_again(monkeypatch):
    # docs/security.md section 10: read once per cold start, cached five minutes (a rotation reaches every function
    # within that)
    from shopdesk.dal import secrets

    reads: list[str] = []

    class _Client:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:      # boto3 names it so
            reads.append(SecretId)
            return {"SecretString": json.dumps({"auth_token": f"token-{len(reads)}"})}

    now = [1000.0]
    monkeypatch.setattr(secrets, "client", lambda service: _Client())
    monkeypatch.setattr(secrets.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(secrets, "_cache", {})
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shopdesk/test/twilio"
    assert secrets.json_secret(arn) == {"auth_token": "token-1"}
    now[0] += 299
    assert secrets.json_secret(arn) == {"auth_token": "token-1"} and reads == [arn]
    now[0] += 2
    assert secrets.json_secret(arn) == {"auth_token": "token-2"} and reads == [arn, arn]
