"""Labels and macros over HTTP: response models, and the 422 answers of what they refuse."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel

from shopdesk.api import problems
from shopdesk.api.problems import FieldError, Problem, ValidationProblem
from shopdesk.clock import Instant
from shopdesk.logic.compose import Refused
from shopdesk.logic.macros import Outcome, retired_labels
from shopdesk.models.canned import Scope
from shopdesk.models.labels import Label
from shopdesk.models.macros import Action, Macro


class LabelOut(BaseModel):
    id: str
    name: str
    color: str
    retired: bool
    updated_at: Instant | None = None
    updated_by: str | None = None
    version: int = 0

    @classmethod
    def of(cls, label: Label) -> LabelOut:
        return cls.model_validate(label.model_dump(include=set(cls.model_fields)))


class LabelList(BaseModel):
    items: list[LabelOut]

    @classmethod
    def of(cls, labels: list[Label]) -> LabelList:
        return cls(items=[LabelOut.of(label) for label in labels])


class MacroOut(BaseModel):
    id: str
    scope: Scope
    name: str
    actions: list[Action]
    updated_at: Instant | None = None
    updated_by: str | None = None
    version: int = 0                    # send it back as ?version=N to save only over this version
    retired_labels: list[str] = []      # labels it adds that are retired now: applying skips them

    @classmethod
    def of(cls, macro: Macro, labels: dict[str, Label] | None = None) -> MacroOut:
        return cls(id=macro.id, scope=macro.scope, name=macro.name, actions=macro.actions,
                   updated_at=macro.updated_at, updated_by=macro.updated_by, version=macro.version,
                   retired_labels=retired_labels(macro, labels or {}))


class MacroList(BaseModel):
    items: list[MacroOut]

    @classmethod
    def of(cls, macros: list[Macro], labels: dict[str, Label] | None = None) -> MacroList:
        return cls(items=[MacroOut.of(m, labels) for m in macros])


class ApplyResult(BaseModel):
    """One conversation's outcome: ``applied`` (with the reply queued, if the macro replies), or ``refused``
    with the problem its own route would have answered (nothing of the macro was written on it)."""

    conversation_id: str
    result: Literal["applied", "refused"]
    problem: Problem | None = None
    reply_message_id: str | None = None
    reply_problem: str | None = None         # applied, but the reply could not be queued (it is marked failed)
    skipped_labels: list[str] = []           # applied without these labels: retired since the macro was saved
    notes: list[str] = []                    # what else to know of an applied one, in words (a skipped label)

    @classmethod
    def of(cls, outcome: Outcome) -> ApplyResult:
        if outcome.result == "refused":
            kind = problems.KINDS[outcome.status]
            return cls(conversation_id=outcome.conversation_id, result="refused",
                       problem=Problem.model_validate(problems.problem(kind, outcome.detail or kind.title)))
        return cls(conversation_id=outcome.conversation_id, result="applied",
                   reply_message_id=outcome.reply.id if outcome.reply else None, reply_problem=outcome.detail,
                   skipped_labels=list(outcome.skipped_labels), notes=outcome.notes)


class ApplyOut(BaseModel):
    macro_id: str
    name: str
    applied: int
    refused: int
    results: list[ApplyResult]

    @classmethod
    def of(cls, macro: Macro, outcomes: list[Outcome]) -> ApplyOut:
        results = [ApplyResult.of(o) for o in outcomes]
        return cls(macro_id=macro.id, name=macro.name, results=results,
                   applied=sum(r.result == "applied" for r in results),
                   refused=sum(r.result == "refused" for r in results))


def install_refusals(app: APIGatewayHttpResolver) -> None:
    """A change a conversation's state forbids is a 409, or a 422 naming where it is in the body. (A macro naming an
    unknown or unusable thing, ``MacroInvalid``, is one of the ``InvalidFields`` every app answers with a 422.)"""

    @app.exception_handler(Refused)
    def _refused(exc: Refused) -> Response:
        if exc.status == 422:
            body = ValidationProblem(type=problems.INVALID_REQUEST.type, title=problems.INVALID_REQUEST.title,
                                     status=422, detail=exc.detail,
                                     errors=[FieldError(loc=list(exc.loc), msg=exc.detail, type="unknown_reference")])
            return Response(422, problems.PROBLEM_JSON, body.model_dump_json())
        return problems.answer(problems.KINDS[exc.status], exc.detail)
