"""Reusable field types for component params (pydantic), shared by the core and plugins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema


def to_utc_datetime(value: Any) -> Any:
    """ISO dates or datetimes (``2024-01-01``, ``2024-01-01 12:00``, ``...Z``) as aware UTC datetimes.

    Manifests are validated as strict JSON, where pydantic accepts only full RFC 3339 datetimes; people
    write dates, so parse them here. Naive values are taken as UTC.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("use an ISO date or datetime, e.g. 2024-01-01 or 2024-01-01T12:00:00Z") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


#: a datetime param that accepts ISO dates too and is always UTC
UtcDatetime = Annotated[
    datetime,
    BeforeValidator(to_utc_datetime),
    WithJsonSchema({"type": "string", "description": "ISO date or datetime (UTC), e.g. 2024-01-01"}),
]
