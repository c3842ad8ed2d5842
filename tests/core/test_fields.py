"""Shared param field types: dates as people write them in JSON manifests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tradecore.errors import ManifestError
from tradecore.runtime import Runtime


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021-03-01", datetime(2021, 3, 1, tzinfo=UTC)),
        ("2021-03-01 06:30", datetime(2021, 3, 1, 6, 30, tzinfo=UTC)),
        ("2021-03-01T06:30:00Z", datetime(2021, 3, 1, 6, 30, tzinfo=UTC)),
        ("2021-03-01T08:30:00+02:00", datetime(2021, 3, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_dates_and_datetimes_become_utc(manifest_factory, text, expected):
    resolved = Runtime(entrypoints=False).resolve(
        manifest_factory(source={"type": "synthetic", "params": {"start": text}})
    )
    assert resolved.source.params.start == expected and resolved.source.params.start.tzinfo is UTC


def test_a_bad_date_names_the_field_and_the_format(manifest_factory):
    with pytest.raises(ManifestError) as err:
        Runtime(entrypoints=False).resolve(
            manifest_factory(source={"type": "synthetic", "params": {"start": "2021-13-01"}})
        )
    message = str(err.value)
    assert "source.params.start" in message and "e.g. 2024-01-01" in message and "\n" not in message
