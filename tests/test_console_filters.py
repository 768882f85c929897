"""The 台账 filter read from a query string: never an error, and what it writes back reads the same."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from models import labels
from models.console_ledger import OPEN, OVERDUE, LedgerFilter

KEYS = ("state", "category", "urgency", "class_id", "assignee_id", "from", "to", "q", "page", "other")


@given(st.dictionaries(st.sampled_from(KEYS), st.text(max_size=80)))
def test_any_query_string_gives_a_valid_filter(args):
    flt = LedgerFilter.from_args(args)
    assert flt.state in ("", OPEN, OVERDUE, *labels.state_codes())
    assert flt.category in ("", *labels.category_codes()) and flt.urgency in ("", *labels.urgency_codes())
    assert len(flt.q) <= 50
    assert LedgerFilter.from_args(flt.query_args()) == flt  # paging links and the export keep the filter


@given(st.sampled_from(("", OPEN, OVERDUE, *labels.state_codes())), st.sampled_from(("", *labels.category_codes())),
       st.one_of(st.none(), st.integers(1, 10**6)), st.one_of(st.none(), st.dates(dt.date(2020, 1, 1))),
       st.text(max_size=50).map(str.strip))
def test_a_filter_survives_its_own_query_string(state, category, class_id, day, q):
    flt = LedgerFilter(state=state, category=category, class_id=class_id, date_from=day, date_to=day, q=q)
    assert LedgerFilter.from_args(flt.query_args()) == flt
