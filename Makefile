# shopdesk - the commands a newcomer needs. `make run` and `make test` set everything up themselves.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
# sam build needs the Lambda runtime's Python (3.13) on PATH; with pyenv, expose every installed 3.x.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.[0-9]+\.[0-9]+$$' | sort -rV | tr '\n' ':' | sed 's/:$$//')
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: run test test-unit test-integration test-e2e test-web lint lint-python lint-template lint-web build web chromium deploy bench \
	bench-quick fuzz fuzz-webhooks fuzz-api clean audit redrive remask

$(VENV)/.installed: requirements-dev.txt layers/shopdesk/requirements.txt layers/models/requirements.txt \
		layers/embeddings/requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -c constraints.txt -r requirements-dev.txt
	$(PY) -m pip install $(PIP_FLAGS) -c constraints.txt --no-deps -r layers/models/requirements.txt
	touch $@

# The SAM CLI pins boto3, click and pydantic versions that clash with moto: it lives in its own virtualenv.
$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install $(PIP_FLAGS) aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

# The web inbox (web/): Node packages from the committed lockfile; the local stack builds it when its sources change.
WEB_MODULES := web/node_modules/.package-lock.json
$(WEB_MODULES): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

web: $(VENV)/.installed $(WEB_MODULES) ## build web/dist when its sources changed
	$(PY) -m local.webapp

# Browser tests drive Debian's Chromium (never a downloaded browser); CI runs as root.
chromium:
	@test -x /usr/bin/chromium || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y chromium; }

run: $(VENV)/.installed ## the whole system on this machine: http://127.0.0.1:$${PORT:-3000}
	$(PY) -m local

test: lint audit build web chromium test-web ## everything CI runs: lint, known vulnerabilities, template checks, sam build, web unit tests, unit + integration + e2e + browser tests
	$(PY) -m pytest tests

test-web: $(WEB_MODULES) ## the web app's unit tests (Vitest)
	cd web && npm test

test-unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit

test-integration: $(VENV)/.installed $(WEB_MODULES) ## integration tests (the web packages first: the web API types test runs their openapi-typescript)
	$(PY) -m pytest tests/integration

test-e2e: $(VENV)/.installed
	$(PY) -m pytest tests/e2e

lint: lint-python lint-template lint-web

# Dead letters back to work after a fix: make redrive QUEUE=work|outbound|privacy|email-events|... (the running
# local stack; ARGS=--dry-run shows what waits and why, ARGS="--discard <id>", ARGS=--purge: scripts/redrive.py);
# in AWS: python -m scripts.redrive --queue ... --stack <stack> --region <region>.
redrive: $(VENV)/.installed
	$(PY) -m scripts.redrive --queue $(QUEUE) $(ARGS)

# What was stored before the masking in force (messages, notes, previews, names, survey comments, cached orders and
# shop customers), masked now, with counts per kind: make remask (the running local stack; ARGS=--dry-run counts
# what it would write). In AWS, after a deploy:
# python -m scripts.backfill masking --stack <stack> --region <region> (scripts/backfill.py). A second run writes nothing.
remask: $(VENV)/.installed
	$(PY) -m scripts.backfill masking --local $(ARGS)

# Known vulnerabilities: pip-audit (installed packages) and npm audit (web lockfile); says NOT CHECKED when the
# advisory databases are out of reach (AUDIT_FLAGS=--strict makes that a failure).
audit: $(VENV)/.installed $(WEB_MODULES)
	$(PY) -m scripts.audit $(AUDIT_FLAGS)

lint-python: $(VENV)/.installed
	$(VENV)/bin/ruff check layers functions local tests bench scripts

lint-web: $(WEB_MODULES)
	cd web && npx tsc --noEmit

lint-template: $(VENV)/.installed $(SAM_VENV)/.installed
	# WS1000 wants Tracing: Active literally; tracing is the TracingMode parameter (template.yaml says why)
	$(VENV)/bin/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules --ignore-checks WS1000
	$(SAM_ENV) $(SAM) validate --lint

build: $(SAM_VENV)/.installed
	$(SAM_ENV) $(SAM) build

deploy: build web ## to AWS with your credentials: make deploy [CONFIG_ENV=prod]; then the web inbox and its config.json
	$(SAM_ENV) $(SAM) deploy --config-env $${CONFIG_ENV:-default}
	$(PY) -m scripts.web_deploy --config-env $${CONFIG_ENV:-default}
	$(PY) -m scripts.backfill lifecycle --config-env $${CONFIG_ENV:-default}

bench: $(VENV)/.installed $(WEB_MODULES) chromium build ## figures printed and written to bench/results.json
	$(PY) -m bench $(ARGS)
	$(PY) -m bench.inbox
	$(PY) -m bench.package

bench-quick: $(VENV)/.installed
	$(PY) -m bench --quick

fuzz: fuzz-webhooks fuzz-api ## the long fuzzing runs; figures into bench/results.json (fuzz.*) and README.md

fuzz-webhooks: $(VENV)/.installed ## every webhook, mutated samples signed for real (HYPOTHESIS_PROFILE=fuzz)
	$(PY) -m bench.fuzz

# schemathesis on the agent, admin and widget OpenAPI documents, on a local stack of its own (about 6 minutes);
# writes fuzz.api_cases and fuzz.api_failures. `make test` runs the same with a few examples and a fixed seed.
fuzz-api: $(VENV)/.installed
	PYTHONPATH=layers/shopdesk:. $(PY) -m tests.e2e.api_fuzz --examples $${EXAMPLES:-50} $(ARGS)

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache web/dist
