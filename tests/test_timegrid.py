"""Wall-clock spans across daylight-saving changes."""

from __future__ import annotations

import pandas as pd
import pytest

from wfm.timegrid import wall_span, wall_spans

NY = "America/New_York"


@pytest.mark.parametrize(("start", "end", "first", "minutes"), [
    # clocks go back at 02:00 EDT to 01:00 EST on 1 Nov 2026
    ("01:30", "02:00", "2026-11-01T01:30:00-05:00", 30),   # the second 01:30
    ("00:45", "01:15", "2026-11-01T00:45:00-04:00", 30),   # ends at the first 01:15
    ("01:10", "01:40", "2026-11-01T01:10:00-04:00", 30),   # both ambiguous: the earlier
    ("23:50", "00:20", "2026-10-31T23:50:00-04:00", 30),   # an ordinary night
])
def test_wall_span_reads_the_repeated_hour_as_the_shortest_span(start, end, first, minutes):
    day = pd.Timestamp("2026-11-01") if start < "12:00" else pd.Timestamp("2026-10-31")
    b0 = day + pd.Timedelta(start + ":00")
    x0, x1 = wall_span(b0, pd.Timedelta(end + ":00"), NY)
    assert x0 == pd.Timestamp(first)
    assert (x1 - x0) == pd.Timedelta(minutes=minutes)


def test_wall_span_whose_end_reads_earlier_than_its_start():
    # Berlin, 25 Oct 2026: 02:30 summer time, 30 min later the clock reads
    # 02:00 (winter time); written 02:30-02:00
    b0 = pd.Timestamp("2026-10-25 02:30")
    x0, x1 = wall_span(b0, pd.Timedelta(hours=2), "Europe/Berlin")
    assert x0 == pd.Timestamp("2026-10-25T02:30:00+02:00")
    assert x1 == pd.Timestamp("2026-10-25T02:00:00+01:00")
    # on any other night the same text is a span of 23.5 h
    b0 = pd.Timestamp("2026-11-01 02:30")
    x0, x1 = wall_span(b0, pd.Timedelta(hours=2), "Europe/Berlin")
    assert x1 - x0 == pd.Timedelta(hours=23, minutes=30)


def test_wall_spans_inside_the_repeated_hour_has_both_readings():
    b0 = pd.Timestamp("2026-11-01 01:10")
    spans = wall_spans(b0, pd.Timedelta(hours=1, minutes=40), NY)
    assert [x0.isoformat() for x0, _x1 in spans] == ["2026-11-01T01:10:00-04:00",
                                                     "2026-11-01T01:10:00-05:00"]
    assert all(x1 - x0 == pd.Timedelta(minutes=30) for x0, x1 in spans)
    # a span reaching past the repeated hour has one
    assert len(wall_spans(b0, pd.Timedelta(hours=2, minutes=10), NY)) == 1
