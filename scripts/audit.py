"""Known vulnerabilities in the pinned dependencies: pip-audit on the Python environment the tests and the
layer use, npm audit on the web inbox's lockfile. Fails on any known vulnerability of the Python packages
(PyPI's advisories carry no severity, so every one counts) and on npm advisories of high or critical
severity, unless the advisory is listed with a reason in ``scripts/audit-ignore.txt``.

When an advisory database cannot be reached (a network that serves the package indexes but not PyPI's JSON
API or npm's bulk advisory endpoint), the audit says so loudly and does not fail: it could not check, and a
failure would say "vulnerable" where the truth is "unknown". ``--strict`` turns that into a failure.

    python -m scripts.audit [--strict]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IGNORE = ROOT / "scripts" / "audit-ignore.txt"
NPM_LEVELS = ("high", "critical")


def ignored() -> set[str]:
    """Advisory ids (PYSEC-…, GHSA-…, CVE-…) accepted for now: one per line, '#' starts the reason."""
    if not IGNORE.exists():
        return set()
    return {line.split("#", 1)[0].strip() for line in IGNORE.read_text(encoding="utf-8").splitlines()
            if line.split("#", 1)[0].strip()}


def python_audit(skip: set[str]) -> tuple[list[str], str | None]:
    """(findings, why it could not check). pip-audit over the installed environment, PyPI's advisories."""
    run = subprocess.run([sys.executable, "-m", "pip_audit", "--local", "--format", "json",
                          "--progress-spinner", "off"], capture_output=True, text=True, check=False)
    try:
        report: dict[str, Any] = json.loads(run.stdout or "{}")
    except json.JSONDecodeError:
        return [], f"pip-audit gave no report: {run.stderr.strip()[-300:]}"
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    if dependencies and not audited:
        return [], f"PyPI's advisory API was unreachable for all {len(dependencies)} packages"
    findings = [f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['?'])})"
                for d in audited for v in d.get("vulns", []) if v["id"] not in skip
                and not set(v.get("aliases", [])) & skip]
    return findings, None


def npm_audit(skip: set[str]) -> tuple[list[str], str | None]:
    run = subprocess.run(["npm", "audit", "--json", "--omit=optional"], cwd=ROOT / "web", capture_output=True,
                         text=True, check=False)
    try:
        report: dict[str, Any] = json.loads(run.stdout or "{}")
    except json.JSONDecodeError:
        return [], f"npm audit gave no report: {run.stderr.strip()[-300:]}"
    if "vulnerabilities" not in report:
        return [], f"npm's advisory endpoint was unreachable ({report.get('message') or report.get('error')})"
    findings = []
    for name, vuln in report["vulnerabilities"].items():
        if vuln.get("severity") not in NPM_LEVELS:
            continue
        advisories = [v for v in vuln.get("via", []) if isinstance(v, dict)]
        ids = {str(v.get("url", "")).rsplit("/", 1)[-1] for v in advisories}
        if ids and ids <= skip:
            continue
        findings.append(f"{name}: {vuln['severity']} ({', '.join(sorted(ids)) or 'via ' + str(vuln.get('via'))})")
    return findings, None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail when an advisory database is unreachable")
    args = parser.parse_args()
    skip = ignored()
    failed = False
    for label, audit in (("python (pip-audit)", python_audit), ("web (npm audit)", npm_audit)):
        findings, unreachable = audit(skip)
        if unreachable:
            print(f"audit {label}: NOT CHECKED - {unreachable}", file=sys.stderr)
            failed |= args.strict
        elif findings:
            print(f"audit {label}: {len(findings)} known vulnerabilities", file=sys.stderr)
            for finding in findings:
                print(f"  {finding}", file=sys.stderr)
            failed = True
        else:
            print(f"audit {label}: no known vulnerabilities")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
