"""A customer as the shop knows them: their identities on every channel and their tier (``vip``, ``gold``),
which chooses the SLA policy of their conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from shopdesk.models.conversation import CustomerRef

Tier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


class Customer(CustomerRef):
    """The customer record (``CUSTOMER#<id>``): ``tier`` is None until the shop gives them one."""

    created_at: datetime | None = None

