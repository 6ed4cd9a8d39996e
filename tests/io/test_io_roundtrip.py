"""Every frame survives CSV, gzip CSV and Parquet round trips, DST days included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wfm.config import scenario_from_dict
from wfm.io import (
    FRAME_COLUMNS,
    load_frame,
    read_frame,
    read_history,
    validate_frame,
    write_frame,
)
from wfm.timegrid import interval_grid

TZ = "Europe/Berlin"
SCENARIO = scenario_from_dict({
    "site": {"timezone": TZ, "interval_minutes": 15},
    "channels": [{"name": "voice"}, {"name": "email", "kind": "deferred"}],
})
FORMATS = ["csv", "csv.gz", "parquet"]
DST_DAYS = [dt.date(2025, 3, 30), dt.date(2025, 10, 26)]


def grid_frame(day: dt.date, channels=("voice", "email")) -> pd.DataFrame:
    """Three local days around ``day``, every 15-minute interval, each channel."""
    g = interval_grid(day - dt.timedelta(days=1), 3, TZ, 15)
    ts = np.repeat(g.to_numpy(), len(channels))
    ch = np.tile(np.array(channels, dtype=object), len(g))
    df = pd.DataFrame({"timestamp": pd.DatetimeIndex(ts).tz_convert(TZ), "channel": ch})
    df["channel"] = df["channel"].astype("str")
    return df


def make(kind: str, day: dt.date) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    if kind in ("history", "forecast", "requirements", "coverage"):
        df = grid_frame(day)
        n = len(df)
        vol = rng.poisson(4.0, n).astype(float)
        if kind == "history":
            df["volume"] = vol
            df["aht_seconds"] = np.where(vol > 0, rng.uniform(100, 600, n).round(1), np.nan)
        elif kind == "forecast":
            df["volume"] = vol + 0.25
            df["volume_lo"] = vol * 0.8
            df["volume_hi"] = vol * 1.2 + 0.5
            df["aht_seconds"] = rng.uniform(100, 600, n)
            df["model"] = pd.Series(["mstl"] * n, dtype="str")
        elif kind == "requirements":
            df["volume"] = vol + 0.1
            df["aht_seconds"] = rng.uniform(100, 600, n)
            net = rng.uniform(0, 30, n)
            df["agents_net"] = net
            df["agents_required"] = net / 0.7
            df["service_level"] = rng.uniform(0.8, 1.0, n)
            df["asa_seconds"] = rng.uniform(0, 30, n)
            df["occupancy"] = rng.uniform(0, 0.85, n)
            df["agents_net_whole"] = np.ceil(net).astype("int64")
            df["agents_required_whole"] = np.ceil(net / 0.7).astype("int64")
            df["abandonment"] = np.where(df["channel"] == "voice", 0.03, 0.0)
        else:
            req = rng.uniform(0, 20, n)
            sch = rng.integers(0, 25, n).astype(float)
            df["required"] = req
            df["scheduled"] = sch
            df["gap"] = sch - req
            df["service_level"] = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 1, n))
        return df
    if kind == "assignments":
        g = interval_grid(day, 1, TZ, 15)
        df = pd.DataFrame({"timestamp": np.repeat(g, 2),
                           "agent_id": pd.Series(["A1", "A2"] * len(g), dtype="str"),
                           "channel": pd.Series(["voice", "email"] * len(g), dtype="str"),
                           "fraction": np.tile([1.0, 0.5], len(g))})
        return df
    if kind == "shifts":
        # a night shift across the clock change and an ordinary day shift
        start = pd.Timestamp(day).tz_localize(TZ)
        return pd.DataFrame({
            "agent_id": pd.Series(["A1", "A2"], dtype="str"),
            "date": [day, day],
            "start": pd.DatetimeIndex([start, start + pd.Timedelta(hours=9)]).as_unit("ns"),
            "end": pd.DatetimeIndex([start + pd.Timedelta(hours=8),
                                     start + pd.Timedelta(hours=17, minutes=30)]).as_unit("ns"),
            "breaks": pd.Series(["04:00-04:30", "13:00-13:30;15:00-15:15"], dtype="str"),
        })
    if kind == "roster":
        return pd.DataFrame({
            "agent_id": ["A1", "A2", "A3"],
            "skills": ["voice", "voice;email", "email"],
            "min_hours_week": [30.0, 20.0, 38.0],
            "max_hours_week": [38.0, 25.0, 40.0],
            "max_days_week": [5, 4, 5],
            "earliest_start": ["07:00", None, "08:30"],
            "latest_end": ["18:00", None, "20:00"],
            "unavailable": ["sat;sun", "2026-11-18", None],
            "proficiency": [None, "voice:0.8", None],
            "preferred_start": [None, "09:00", None],
            "days_off_wished": ["fri", None, None],
            "max_consecutive_days": [6, None, 5],
            "hourly_cost": [31.5, 29.0, None],
            "team": ["Telefon", None, "Schriftgut"],
        })
    raise AssertionError(kind)


def canonical(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """What a reader returns: the validated frame of the in-memory input."""
    frame, rep = load_frame_from(df, kind)
    assert rep.ok, rep.to_text()
    return frame


def load_frame_from(df: pd.DataFrame, kind: str):
    from wfm.io import _validate

    return _validate(df, kind, SCENARIO, source="mem", column_map=None, tz=None,
                     interval_minutes=None, gaps="error", row_unit="row")


@pytest.mark.parametrize("day", DST_DAYS, ids=str)
@pytest.mark.parametrize("kind", list(FRAME_COLUMNS))
def test_roundtrip_every_frame(tmp_path: Path, kind: str, day: dt.date):
    original = make(kind, day)
    expected = canonical(original, kind)
    for fmt in FORMATS:
        path = write_frame(original, tmp_path / f"{kind}.{fmt}", kind=kind)
        back = read_frame(path, kind, SCENARIO)
        pd.testing.assert_frame_equal(back, expected, check_dtype=fmt == "parquet"
                                      or kind != "roster", obj=f"{kind}.{fmt}")
        # and once more: what was read writes and reads back identically
        again = read_frame(write_frame(back, tmp_path / f"again.{fmt}", kind=kind), kind,
                           SCENARIO)
        pd.testing.assert_frame_equal(again, back, obj=f"{kind}.{fmt} twice")


@pytest.mark.parametrize("day,hours", [(DST_DAYS[0], 23), (DST_DAYS[1], 25)], ids=str)
def test_dst_day_has_23_or_25_hours(tmp_path: Path, day: dt.date, hours: int):
    df = make("history", day)
    p = write_frame(df, tmp_path / "h.csv", "history")
    h = read_history(p, SCENARIO)
    on_day = h[h["timestamp"].dt.date == day]
    assert on_day.groupby("channel").size().to_dict() == {"email": hours * 4,
                                                         "voice": hours * 4}
    # offsets in the file change at 02:00/03:00 local as in the tz database
    text = p.read_text()
    if hours == 23:
        assert "2025-03-30T01:45:00+01:00" in text and "2025-03-30T03:00:00+02:00" in text
        assert "2025-03-30T02:00:00" not in text
    else:
        assert "2025-10-26T02:45:00+02:00" in text and "2025-10-26T02:00:00+01:00" in text


@pytest.mark.parametrize("order", ["by_time", "by_channel"])
def test_naive_fall_back_hour_resolved_by_order(tmp_path: Path, order: str):
    day = DST_DAYS[1]
    df = grid_frame(day)
    if order == "by_channel":
        df = df.sort_values(["channel", "timestamp"], kind="stable")
    df["volume"] = 1.0
    naive = df.assign(timestamp=df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    p = tmp_path / "naive.csv"
    naive.to_csv(p, index=False)
    assert naive["timestamp"].duplicated().any()  # the repeated hour, without offsets
    frame, rep = load_frame(p, "history", SCENARIO)
    assert rep.ok, rep.to_text()
    assert [w.rule for w in rep.warnings] == ["naive_timestamps"]
    got = frame.sort_values(["channel", "timestamp"]).reset_index(drop=True)
    want = df.sort_values(["channel", "timestamp"]).reset_index(drop=True)
    pd.testing.assert_series_equal(got["timestamp"], want["timestamp"].dt.as_unit("ns"))


def test_fixed_utc_offset_file_is_converted_with_warning(tmp_path: Path):
    df = grid_frame(DST_DAYS[0])
    df["volume"] = 2.0
    utc = df.assign(timestamp=df["timestamp"].dt.tz_convert("UTC")
                    .dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    p = tmp_path / "utc.csv"
    utc.to_csv(p, index=False)
    frame, rep = load_frame(p, "history", SCENARIO)
    assert rep.ok
    assert "fixed_offset" in {w.rule for w in rep.warnings}
    pd.testing.assert_series_equal(frame["timestamp"], df["timestamp"].dt.as_unit("ns"))


def test_semicolon_csv_with_bom(tmp_path: Path):
    p = tmp_path / "export.csv"
    p.write_bytes("\ufefftimestamp;channel;volume\n"
                  "2025-01-06T08:00:00+01:00;voice;3\n"
                  "2025-01-06T08:15:00+01:00;voice;4\n".encode())
    h = read_history(p)
    assert h["volume"].tolist() == [3.0, 4.0]


def test_write_is_atomic(tmp_path: Path, monkeypatch):
    p = tmp_path / "h.csv"
    df = make("history", DST_DAYS[0])
    write_frame(df, p, "history")
    before = p.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(RuntimeError):
        write_frame(df.head(3), p, "history")
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["h.csv"]


def test_write_checks_required_columns(tmp_path: Path):
    from wfm.errors import DataValidationError

    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['volume'\]"):
        write_frame(pd.DataFrame({"timestamp": [], "channel": []}), tmp_path / "x.csv",
                    "history")
    with pytest.raises(ValueError, match="unknown file type"):
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "x.xlsx")


def test_csv_gz_is_deterministic(tmp_path: Path):
    df = make("history", DST_DAYS[1])
    a = write_frame(df, tmp_path / "a.csv.gz", "history").read_bytes()
    b = write_frame(df, tmp_path / "b.csv.gz", "history").read_bytes()
    assert a == b


def test_extra_columns_kept_in_output_frames(tmp_path: Path):
    df = make("coverage", DST_DAYS[0]).assign(note="x")
    frame = read_frame(write_frame(df, tmp_path / "c.parquet", "coverage"), "coverage",
                       SCENARIO)
    assert frame.columns[-1] == "note"
    rep = validate_frame(df, "coverage", SCENARIO)
    assert rep.ok and [w.rule for w in rep.warnings] == ["extra_columns"]


def test_infinite_asa_round_trips(tmp_path: Path):
    # a deferred channel with volume and no agents: the queue never clears
    df = make("requirements", DST_DAYS[0])
    df.loc[5, ["agents_net", "agents_required", "occupancy"]] = 0.0
    df.loc[5, "asa_seconds"] = np.inf
    for fmt in FORMATS:
        back = read_frame(write_frame(df, tmp_path / f"r.{fmt}", "requirements"),
                          "requirements", SCENARIO)
        assert np.isposinf(back.loc[5, "asa_seconds"])
    df.loc[6, "volume"] = np.inf
    rep = validate_frame(df, "requirements", SCENARIO)
    assert [(e.rule, e.rows) for e in rep.errors] == [("not_finite", (7,))]


def test_naive_parquet_is_localised(tmp_path: Path):
    df = grid_frame(DST_DAYS[1]).assign(volume=1.0)
    naive = df.assign(timestamp=df["timestamp"].dt.tz_localize(None))
    p = tmp_path / "naive.parquet"
    naive.to_parquet(p)
    frame, rep = load_frame(p, "history", SCENARIO)
    assert rep.ok and [w.rule for w in rep.warnings] == ["naive_timestamps"]
    pd.testing.assert_series_equal(frame["timestamp"], df["timestamp"].dt.as_unit("ns"))
