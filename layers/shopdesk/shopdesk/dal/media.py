"""Attachments in S3: stored once under media/<conversation>/<message>/, read through presigned URLs."""

from __future__ import annotations

import re

from shopdesk.dal.aws import client

PRESIGNED_SECONDS = 300
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def media_key(conversation_id: str, message_id: str, index: int, filename: str | None) -> str:
    name = _UNSAFE.sub("_", filename or "file").strip("._")[:100] or "file"
    return f"media/{conversation_id}/{message_id}/{index}-{name}"


class MediaStore:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def put(self, key: str, content: bytes, content_type: str | None) -> None:
        client("s3").put_object(Bucket=self.bucket, Key=key, Body=content,
                                ContentType=content_type or "application/octet-stream",
                                ServerSideEncryption="aws:kms")

    def get(self, bucket: str, key: str) -> bytes:
        return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    def presign(self, key: str, filename: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'inline; filename="{_UNSAFE.sub("_", filename)}"'
        return client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGNED_SECONDS)
