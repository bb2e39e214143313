"""Outbound attachments over HTTP: the upload request and answer, the files a reply names, and the 422 problem of a
file a channel cannot carry."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel, Field, StringConstraints

from shopdesk.api import problems
from shopdesk.api.problems import FieldError, ValidationProblem
from shopdesk.logic.attachments import AttachmentRefused, FileRef
from shopdesk.models import Attachment

Key = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"^media/[A-Za-z0-9._@/-]+$")]
Filename = Annotated[str, StringConstraints(min_length=1, max_length=255)]
ContentType = Annotated[str, StringConstraints(min_length=3, max_length=127)]


class UploadIn(BaseModel):
    """The file the agent is about to upload. With ``conversation_id`` the file is for a reply there (the caller
    must be allowed to see it); without, it is for a canned response."""

    filename: Filename
    content_type: ContentType
    size: Annotated[int, Field(ge=1, description="bytes; S3 refuses a larger body")]
    conversation_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    channel: Annotated[str | None, Field(max_length=32, description=(
        "with conversation_id: the channel the reply is for (one of the conversation's); a file that channel "
        "cannot carry is refused now, as the reply would be (422 /problems/attachment-refused)"))] = None


class UploadOut(BaseModel):
    """POST the file to ``url`` as a multipart form: every ``fields`` entry first, then the file as ``file``.
    Then name ``key`` (with filename, content_type, size) in the reply's or canned response's ``attachments``."""

    key: str
    url: str
    fields: dict[str, str]
    filename: str = Field(description="the name as it will be sent (made safe)")
    content_type: str
    size: int
    expires_in: int = Field(description="seconds the upload form is valid")


class FileIn(BaseModel):
    """An uploaded file, named in a reply or a canned response."""

    key: Key
    filename: Filename
    content_type: ContentType
    size: Annotated[int, Field(ge=1)]

    def ref(self) -> FileRef:
        return FileRef(self.key, self.filename, self.content_type, self.size)

    @classmethod
    def of(cls, attachment: Attachment) -> FileIn:
        return cls(key=attachment.storage_key or "", filename=attachment.filename or "file",
                   content_type=attachment.content_type or "application/octet-stream", size=attachment.size or 1)


Files = Annotated[list[FileIn], Field(max_length=10)]


class AttachmentProblem(ValidationProblem):
    """422: a file cannot be sent: the channel that cannot carry it (or none: the shop's own limit) and the limit,
    in words. Also the answer for a plain schema error (then without ``channel`` and ``limit``)."""

    channel: str | None = Field(default=None, description="the channel that cannot carry the file, as agents name it")
    limit: str | None = Field(default=None, description="the limit the file breaks: a size, the types, a count")
    filename: str | None = None

    @classmethod
    def of(cls, exc: AttachmentRefused) -> AttachmentProblem:
        errors = [FieldError(loc=["body", "attachments"], msg=str(exc), type="attachment_refused")]
        return cls(type="/problems/attachment-refused", title="The file cannot be sent", status=422,
                   detail=str(exc), errors=errors, channel=exc.channel, limit=exc.limit, filename=exc.filename)


def with_attachment_problems(answers: dict[int, Any]) -> dict[int, Any]:
    """A route's documented answers (``problems.responses``) whose 422 may also be an ``AttachmentProblem``: like
    every 422 of the APIs it is documented as a ``ValidationProblem`` (which it is), its extension members named in
    the description."""
    before = answers.get(422, {}).get("description") or "The request does not match the schema"
    answers[422] = {**answers.get(422, {}),
                    "description": f"{before}; or a file cannot be sent (`type` /problems/attachment-refused): the "
                                   "channel cannot carry it (extension members `channel`: the channel as agents "
                                   "name it, `limit`: the limit in words, `filename`), it was not uploaded, or its "
                                   "content is not of its type"}
    return answers


def install_attachment_errors(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(AttachmentRefused)
    def _refused(exc: AttachmentRefused) -> Response:
        return Response(422, problems.PROBLEM_JSON, AttachmentProblem.of(exc).model_dump_json())
