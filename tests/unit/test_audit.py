"""scripts/audit.py: what counts as a finding, what is ignored, and 'not checked' told apart from 'clean'."""

from __future__ import annotations

import json
import subprocess

import pytest
from scripts import audit


def _fake_run(stdout: dict | str):
    def run(*args, **kwargs):
        return subprocess.CompletedProcess(args, 0, json.dumps(stdout) if isinstance(stdout, dict) else stdout, "")
    return run


def test_a_python_vulnerability_is_a_finding_unless_ignored(monkeypatch):
    report = {"dependencies": [
        {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "PYSEC-2024-1", "aliases": ["CVE-2024-22195"],
                                                           "fix_versions": ["3.1.3"]}]},
        {"name": "boto3", "version": "1.44.5", "vulns": []}]}
    monkeypatch.setattr(subprocess, "run", _fake_run(report))
    findings, unreachable = audit.python_audit(set())
    assert unreachable is None and findings == ["jinja2 3.1.2: PYSEC-2024-1 (fixed in 3.1.3)"]
    assert audit.python_audit({"CVE-2024-22195"}) == ([], None)


def test_an_unreachable_advisory_api_is_not_a_clean_bill(monkeypatch):
    report = {"dependencies": [{"name": "boto3", "version": "1.44.5", "skip_reason": "Dependency not found on PyPI"}]}
    monkeypatch.setattr(subprocess, "run", _fake_run(report))
    findings, unreachable = audit.python_audit(set())
    assert findings == [] and "unreachable" in unreachable


def test_npm_counts_high_and_critical_only(monkeypatch):
    report = {"vulnerabilities": {
        "vite": {"severity": "high", "via": [{"url": "https://github.com/advisories/GHSA-aaaa"}]},
        "nanoid": {"severity": "moderate", "via": [{"url": "https://github.com/advisories/GHSA-bbbb"}]},
        "esbuild": {"severity": "critical", "via": ["vite"]}}}
    monkeypatch.setattr(subprocess, "run", _fake_run(report))
    findings, unreachable = audit.npm_audit(set())
    assert unreachable is None and len(findings) == 2 and findings[0].startswith("vite: high (GHSA-aaaa)")
    assert [f for f in audit.npm_audit({"GHSA-aaaa"})[0] if f.startswith("vite")] == []


def test_npm_without_its_advisory_endpoint_says_so(monkeypatch):
    monkeypatch.setattr(subprocess, "run", _fake_run({"message": "405 Method Not Allowed", "statusCode": 405}))
    assert audit.npm_audit(set()) == ([], "npm's advisory endpoint was unreachable (405 Method Not Allowed)")


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_strict_fails_when_nothing_could_be_checked(monkeypatch, strict, code):
    monkeypatch.setattr(audit, "python_audit", lambda skip: ([], "unreachable"))
    monkeypatch.setattr(audit, "npm_audit", lambda skip: ([], None))
    monkeypatch.setattr("sys.argv", ["audit", *(["--strict"] if strict else [])])
    with pytest.raises(SystemExit) as stop:
        audit.main()
    assert stop.value.code == code


def test_a_finding_fails_the_audit(monkeypatch):
    monkeypatch.setattr(audit, "python_audit", lambda skip: (["x 1: PYSEC-1 (fixed in 2)"], None))
    monkeypatch.setattr(audit, "npm_audit", lambda skip: ([], None))
    monkeypatch.setattr("sys.argv", ["audit"])
    with pytest.raises(SystemExit) as stop:
        audit.main()
    assert stop.value.code == 1
