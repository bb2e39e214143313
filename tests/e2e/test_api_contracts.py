"""Every API says what it answers: the four OpenAPI documents are published, and schemathesis finds no answer
that breaks them (no server error; status codes, content types and bodies as documented), as an agent, as an
admin and as a widget visitor.

A fixed seed and a few examples per operation keep this to about a minute; ``make fuzz-api`` runs many more.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.e2e import api_fuzz
from tests.e2e.conftest import REPO, StackClient

pytestmark = pytest.mark.e2e

CI_SEED = 20261203
CI_EXAMPLES = 4
# Every document in every phase once (examples, coverage: the systematic boundary and negative cases, fuzzing,
# stateful); its second caller in the generated phases only, to keep this to about a minute.
AGENT_BOB, AGENT_ALICE, ADMIN_BOB, ADMIN_ALICE, WIDGET, REPORTS_BOB, REPORTS_ALICE = api_fuzz.TARGETS
CI_PLAN = {AGENT_BOB: None, ADMIN_ALICE: None, WIDGET: None, REPORTS_ALICE: None, AGENT_ALICE: "fuzzing,stateful",
           ADMIN_BOB: "fuzzing,stateful", REPORTS_BOB: "fuzzing"}


@pytest.fixture(scope="module")
def fuzz_stack(stack_launcher: Callable[..., StackClient]) -> tuple[StackClient, list[str]]:
    """A stack of its own: the fuzzer changes settings, teams and policies that other tests rely on."""
    client = stack_launcher(REPO / "template.yaml")
    return client, api_fuzz.seed_conversations(client)


@pytest.mark.parametrize("prefix", ["/agent", "/admin", "/widget", "/reports"])
def test_each_api_publishes_its_document_and_swagger_page_without_a_token(fuzz_stack, prefix):
    client, _ = fuzz_stack
    answer = client.get(f"{prefix}/openapi.json")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/json")
    document = answer.json()
    assert document["openapi"].startswith("3.") and document["paths"]
    for path, operations in document["paths"].items():
        assert path.startswith(prefix + "/")
        for method, operation in operations.items():
            problem = operation["responses"]["422"]["content"]["application/problem+json"]["schema"]
            assert problem == {"$ref": "#/components/schemas/ValidationProblem"}, (method, path)
            assert any(s.startswith("2") for s in operation["responses"]), (method, path)
            if method == "get":         # any read may meet the store busy: the 503 store_busy (problems.install)
                busy = operation["responses"]["503"]["content"]["application/problem+json"]["schema"]
                assert busy == {"$ref": "#/components/schemas/Problem"}, (method, path)
    page = client.get(f"{prefix}/swagger")
    assert page.status == 200 and "swagger" in page.text.lower()


def test_a_refusal_through_the_stack_is_a_problem_the_inbox_can_show(fuzz_stack):
    client, _ = fuzz_stack
    answer = client.get("/agent/conversations/c_nope", token=client.token("alice"))
    assert answer.status == 404 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {"type": "/problems/not-found", "title": "Not found", "status": 404,
                             "detail": "conversation c_nope does not exist"}
    refused = client.get("/agent/me")             # API Gateway's JWT authorizer, as documented
    assert refused.status == 401 and refused.json() == {"message": "Unauthorized"}


@pytest.fixture(scope="module")
def outcomes(fuzz_stack, tmp_path_factory: pytest.TempPathFactory) -> dict[api_fuzz.Target, api_fuzz.Outcome]:
    client, conversations = fuzz_stack
    return api_fuzz.fuzz_all(client, CI_PLAN, examples=CI_EXAMPLES, seed=CI_SEED,
                             workdir=tmp_path_factory.mktemp("schemathesis"), conversations=conversations)


# The first of these runs schemathesis on every document (the module's fixture): minutes, not the
# suite's 300 s per test, on a 2-core machine; its own runs are bounded by api_fuzz's time limit.
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("target", api_fuzz.TARGETS, ids=lambda t: t.label.replace(" ", "-"))
def test_schemathesis_finds_nothing(outcomes, target):
    outcome = outcomes[target]
    assert outcome.cases > 0, outcome.output[-5000:]
    assert outcome.clean, "\n".join([*outcome.failures, *outcome.errors, outcome.output[-20000:]])
