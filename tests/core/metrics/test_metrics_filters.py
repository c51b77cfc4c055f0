"""Which incidents a figure covers (`InsightFilters`), and the lazy sequences the array
figures hand out (`Listed`, `Values`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import INCIDENT_TYPES
from afteraction.core.metrics import InsightFilters, Listed, Values

JAN, FEB = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)


def test_types_measured() -> None:
    assert InsightFilters().include_types() is None
    assert "gameday" not in InsightFilters().measured_types()
    assert InsightFilters(include_excluded=True).include_types() == INCIDENT_TYPES
    assert InsightFilters(type=("gameday",)).measured_types() == ("gameday",)


def test_checks_without_a_database() -> None:
    InsightFilters(since=JAN, until=FEB, tz="Europe/Berlin").check()
    with pytest.raises(ValidationError, match="ends before it starts") as caught:
        InsightFilters(since=FEB, until=JAN).check()
    assert caught.value.field == "until"
    with pytest.raises(ValidationError, match="time zone"):
        InsightFilters(tz="Mars/Base").check()
    with pytest.raises(ValidationError, match="unknown type 'drill'"):
        InsightFilters(type=("drill",)).check()


def test_without_dates_and_the_incident_list_query() -> None:
    filters = InsightFilters(since=JAN, until=FEB, service=("api",), problem="PRB-1",
                             include_excluded=True, tz="Asia/Tokyo")  # fmt: skip
    assert filters.without_dates() == InsightFilters(service=("api",), problem="PRB-1")
    query = filters.incident_query(severity="SEV1")
    assert ("severity", "SEV1") in query and ("service", "api") in query
    assert ("problem", "PRB-1") in query and ("type", "gameday") in query
    assert ("started_from", "2026-01-01") in query and ("started_to", "2026-01-31") in query
    assert InsightFilters().incident_query() == [
        ("type", t) for t in InsightFilters().measured_types()
    ]
    narrowed = filters.incident_query(started_from=date(2026, 1, 5), problem="PRB-2")
    assert ("started_from", "2026-01-05") in narrowed and ("problem", "PRB-2") in narrowed


def test_listed_and_values_read_like_sequences() -> None:
    listed = Listed(lambda i: f"INC-{i}", np.array([3, 1, 2], np.int64))
    assert listed[0] == "INC-3" and listed[1:] == ["INC-1", "INC-2"]
    assert listed == ["INC-3", "INC-1", "INC-2"] and listed != ["INC-3"] and listed != 3
    assert repr(listed) == "Listed(['INC-3', 'INC-1', 'INC-2'])"
    values = Values(np.array([1.0, 2.5, 4.0]))
    assert values[1] == 2.5 and values[:2] == [1.0, 2.5] and list(values) == [1.0, 2.5, 4.0]
    assert values == Values(np.array([1.0, 2.5, 4.0])) and values == (1.0, 2.5, 4.0)
    assert values != [1.0] and values != "abc"
    assert repr(values) == "Values([1.0, 2.5, 4.0])"
