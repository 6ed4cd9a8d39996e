"""Read, validate and write every frame of wfm (CSV, gzip CSV or Parquet).

Validation happens here, once, at the boundary: a reader either returns a
frame that follows the data contract (typed columns, tz-aware local
timestamps, canonical column order) or raises
:class:`wfm.errors.DataValidationError` carrying a :class:`ValidationReport`
with *every* problem of the file, each naming the file, the row numbers,
the column, what was found and what was expected.

Frames and their columns are listed in :data:`FRAME_COLUMNS`. The file
format follows the extension: ``.csv``, ``.csv.gz`` or ``.parquet``.

Row numbers in reports
    CSV files: *line* numbers as an editor shows them, the header being
    line 1 (so the first data row is line 2). Parquet files and in-memory
    frames: *row* numbers counting data rows from 1.

Time stamps
    ISO 8601 with a UTC offset (``2025-10-26T02:15:00+01:00``) is what wfm
    writes. On reading, naive local times (no offset) are accepted and
    localised to the site's time zone; on the fall-back day the repeated
    hour is resolved by file order (the first ``02:15`` of a channel is
    summer time, the second winter time). Local times that do not exist
    (the skipped hour in spring) are errors. Offsets that do not match the
    site's time zone are errors, except a file written entirely in one
    fixed offset (e.g. all UTC), which is converted with a warning.

Limits used by the checks (see :data:`AHT_LIMIT_SECONDS`)
    ``aht_seconds`` must be > 0 where volume > 0 and at most 4 h
    (14,400 s) on realtime and concurrent channels, 24 h (86,400 s) on
    deferred channels and when the channel kind is unknown. Roster hours
    lie in 0-80 h a week, working days in 1-7.

Examples
--------
>>> import pandas as pd
>>> from wfm.io import validate_frame
>>> df = pd.DataFrame({"timestamp": ["2025-03-30T01:45:00+01:00",
...                                  "2025-03-30T03:00:00+02:00"],
...                    "channel": ["voice", "voice"], "volume": [3, -1]})
>>> report = validate_frame(df, "history")
>>> report.ok
False
>>> print(report.errors[0].message)
volume must be a number >= 0
"""

from __future__ import annotations

import datetime as dt
import gzip
import io as _stdio
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from wfm.config import WEEKDAYS, Scenario, Site
from wfm.errors import DataValidationError

__all__ = [
    "AHT_LIMIT_SECONDS",
    "FRAME_COLUMNS",
    "KINDS",
    "Problem",
    "ValidationReport",
    "infer_kind",
    "load_frame",
    "read_frame",
    "read_history",
    "read_roster",
    "validate_file",
    "validate_frame",
    "write_frame",
]

log = logging.getLogger("wfm.io")

Kind = Literal["history", "forecast", "requirements", "shifts", "assignments", "coverage",
               "roster"]

#: Required and optional columns of every frame, in canonical order.
FRAME_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "history": (("timestamp", "channel", "volume"), ("aht_seconds",)),
    "forecast": (("timestamp", "channel", "volume", "volume_lo", "volume_hi", "aht_seconds",
                  "model"), ()),
    "requirements": (("timestamp", "channel", "volume", "aht_seconds", "agents_net",
                      "agents_required", "service_level", "asa_seconds", "occupancy"),
                     ("agents_net_whole", "agents_required_whole", "abandonment")),
    "shifts": (("agent_id", "date", "start", "end", "breaks"), ()),
    "assignments": (("timestamp", "agent_id", "channel", "fraction"), ()),
    "coverage": (("timestamp", "channel", "required", "scheduled", "gap", "service_level"),
                 ("volume", "aht_seconds", "agents_net", "asa_seconds", "occupancy",
                  "abandonment", "requirement_missing")),
    "roster": (("agent_id", "skills", "min_hours_week", "max_hours_week", "max_days_week"),
               ("earliest_start", "latest_end", "unavailable", "proficiency",
                "preferred_start", "days_off_wished", "max_consecutive_days", "hourly_cost",
                "team")),
}
KINDS: tuple[str, ...] = tuple(FRAME_COLUMNS)

#: Input frames reject unknown columns (a misspelt optional column would otherwise be
#: ignored); frames written by wfm's own stages may carry extra columns (kept, warned).
_STRICT_KINDS = frozenset({"history", "roster"})

#: Columns that identify a row; a repeated key is an error.
_KEYS: dict[str, tuple[str, ...]] = {
    "history": ("timestamp", "channel"),
    "forecast": ("timestamp", "channel"),
    "requirements": ("timestamp", "channel"),
    "coverage": ("timestamp", "channel"),
    "assignments": ("timestamp", "agent_id", "channel"),
    "shifts": ("agent_id", "start"),
    "roster": ("agent_id",),
}

#: Upper limit of a plausible average handle time by channel kind [s].
AHT_LIMIT_SECONDS: dict[str | None, float] = {
    "realtime": 4 * 3600.0,
    "concurrent": 4 * 3600.0,
    "deferred": 24 * 3600.0,
    None: 24 * 3600.0,
}
#: Roster limits.
MAX_HOURS_WEEK = 80.0
MAX_SHIFT_HOURS = 16.0
#: Show at most this many row numbers / values per problem in text reports.
_SHOW = 8

_WEEKDAY_ALIASES = {
    **{d: d for d in WEEKDAYS},
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
    "friday": "fri", "saturday": "sat", "sunday": "sun", "tues": "tue", "thur": "thu",
    "thurs": "thu",
}
_HHMM_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One finding of a validation.

    Attributes
    ----------
    severity : {"error", "warning"}
        Errors make a file unusable; warnings are reported and the data is
        used as it is (never repaired silently).
    rule : str
        Short machine-readable name, e.g. ``"negative_volume"``.
    message : str
        What is wrong, in words.
    column : str or None
        The column concerned (after the column map).
    rows : tuple of int
        Row numbers (see :attr:`ValidationReport.row_unit`).
    found : tuple of str
        The offending values, aligned with ``rows`` (may be shorter).
    expected : str or None
        What a valid value looks like.
    """

    severity: Literal["error", "warning"]
    rule: str
    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    found: tuple[str, ...] = ()
    expected: str | None = None

    def to_text(self, row_unit: str = "line") -> str:
        parts = [f"{self.severity}: {self.message}"]
        if self.column:
            parts.append(f"column '{self.column}'")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:_SHOW])
            more = f" and {len(self.rows) - _SHOW} more" if len(self.rows) > _SHOW else ""
            unit = row_unit if len(self.rows) == 1 else row_unit + "s"
            parts.append(f"{unit} {shown}{more}")
        if self.found:
            shown = ", ".join(repr(v) for v in self.found[:_SHOW])
            more = " ..." if len(self.found) > _SHOW else ""
            parts.append(f"found {shown}{more}")
        if self.expected:
            parts.append(f"expected {self.expected}")
        return "; ".join(parts) + f" [{self.rule}]"


@dataclass
class ValidationReport:
    """Every problem found in one file or frame.

    Attributes
    ----------
    source : str
        File path or a label of the in-memory frame.
    kind : str or None
        Frame kind (``history``, ``roster``, ...).
    row_unit : {"line", "row"}
        ``line``: line numbers of a text file, header = line 1;
        ``row``: data rows counted from 1 (Parquet, in-memory frames).
    problems : list of Problem
    n_rows : int
        Number of data rows read.
    interval_minutes : int or None
        The interval length used for the grid checks (declared or inferred).
    timezone : str or None
        The time zone timestamps were interpreted in.
    """

    source: str
    kind: str | None = None
    row_unit: Literal["line", "row"] = "row"
    problems: list[Problem] = field(default_factory=list)
    n_rows: int = 0
    interval_minutes: int | None = None
    timezone: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def error(self, rule: str, message: str, **kw: Any) -> None:
        self.problems.append(Problem("error", rule, message, **kw))

    def warning(self, rule: str, message: str, **kw: Any) -> None:
        self.problems.append(Problem("warning", rule, message, **kw))

    def summary(self) -> str:
        what = f" ({self.kind}, {self.n_rows} rows)" if self.kind else ""
        if not self.problems:
            return f"{self.source}{what}: ok, no problems"
        return (f"{self.source}{what}: {len(self.errors)} error(s), "
                f"{len(self.warnings)} warning(s)")

    def to_text(self) -> str:
        """The report as lines of text: a summary, then one line per problem."""
        lines = [self.summary()]
        if self.problems:
            if self.row_unit == "line":
                lines[0] += " (line numbers count the header as line 1)"
            else:
                lines[0] += " (row numbers count data rows from 1)"
        lines += [f"  {self.source}: " + p.to_text(self.row_unit)
                  for p in self.errors + self.warnings]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: severity, rule, column, rows, found, expected, message."""
        return pd.DataFrame(
            [{"source": self.source, "severity": p.severity, "rule": p.rule,
              "column": p.column, "rows": ";".join(str(r) for r in p.rows),
              "found": ";".join(p.found), "expected": p.expected, "message": p.message}
             for p in self.problems],
            columns=["source", "severity", "rule", "column", "rows", "found", "expected",
                     "message"],
        )

    def raise_if_errors(self) -> None:
        """Raise :class:`DataValidationError` carrying this report when there are errors."""
        if self.errors:
            first = self.errors[0].to_text(self.row_unit)
            raise DataValidationError(
                f"{self.source}: {len(self.errors)} validation error(s); first: {first}",
                report=self,
            )


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

@dataclass
class _Ctx:
    report: ValidationReport
    row_offset: int           # row number of position 0 (2 for CSV lines, 1 otherwise)
    tz: str
    scenario: Scenario | None
    interval_minutes: int | None
    gaps: Literal["error", "warning"]

    def rows(self, mask_or_pos: np.ndarray) -> tuple[int, ...]:
        pos = np.flatnonzero(mask_or_pos) if mask_or_pos.dtype == bool else mask_or_pos
        return tuple(int(p) + self.row_offset for p in pos)


def _is_missing(raw: pd.Series) -> np.ndarray:
    """Empty cells: NA, NaN or blank strings."""
    miss = raw.isna().to_numpy()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        s = raw.astype("string").str.strip()
        miss = miss | (s == "").fillna(True).to_numpy(dtype=bool)
    return miss


def _as_text(raw: pd.Series) -> pd.Series:
    return raw.astype("string").str.strip()


def _found(raw: pd.Series, mask: np.ndarray) -> tuple[str, ...]:
    vals = raw[mask].head(_SHOW * 4)
    return tuple("" if pd.isna(v) else str(v) for v in vals)


def _numeric(raw: pd.Series, col: str, ctx: _Ctx, *, nullable: bool = False,
             lo: float | None = None, hi: float | None = None, lo_open: bool = False,
             integer: bool = False, rule: str | None = None,
             expected: str = "a number", allow_inf: bool = False) -> np.ndarray:
    """Parse a numeric column; report empty, unparsable, infinite and out-of-range values.

    Returns float64 values, NaN where empty or bad.
    """
    rep = ctx.report
    miss = _is_missing(raw)
    if pd.api.types.is_bool_dtype(raw.dtype):
        values = np.full(len(raw), np.nan)
        bad = ~miss
    elif pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
        bad = np.zeros(len(raw), dtype=bool)
    else:
        txt = _as_text(raw)
        values = pd.to_numeric(txt.where(~pd.Series(miss, index=raw.index)), errors="coerce")
        values = np.asarray(values, dtype=float)
        bad = ~miss & np.isnan(values)
    if bad.any():
        rep.error("not_a_number", f"{col} must be {expected}", column=col,
                  rows=ctx.rows(bad), found=_found(raw, bad), expected=expected)
    inf = np.isneginf(values) if allow_inf else np.isinf(values)
    if inf.any():
        rep.error("not_finite", f"{col} must be finite", column=col, rows=ctx.rows(inf),
                  found=_found(raw, inf), expected=expected)
        values = np.where(inf, np.nan, values)
    if miss.any() and not nullable:
        rep.error("missing_value", f"{col} is empty", column=col, rows=ctx.rows(miss),
                  expected=expected)
    with np.errstate(invalid="ignore"):
        out = np.zeros(len(values), dtype=bool)
        if lo is not None:
            out |= (values <= lo) if lo_open else (values < lo)
        if hi is not None:
            out |= values > hi
    if out.any():
        rep.error(rule or f"{col}_out_of_range", f"{col} must be {expected}", column=col,
                  rows=ctx.rows(out), found=_found(raw, out), expected=expected)
        values = np.where(out, np.nan, values)
    if integer:
        frac = ~np.isnan(values) & (values != np.round(values))
        if frac.any():
            rep.error("not_an_integer", f"{col} must be a whole number", column=col,
                      rows=ctx.rows(frac), found=_found(raw, frac), expected="a whole number")
    return values


def _text(raw: pd.Series, col: str, ctx: _Ctx, *, nullable: bool = False) -> pd.Series:
    miss = _is_missing(raw)
    if miss.any() and not nullable:
        ctx.report.error("missing_value", f"{col} is empty", column=col, rows=ctx.rows(miss),
                         expected="a non-empty text")
    out = _as_text(raw).astype("str")
    return out.where(~miss, None) if nullable else out.where(~miss, "")


def _site_offset_minutes(utc: pd.DatetimeIndex, tz: str) -> np.ndarray:
    """UTC offset of the site's zone at each instant [min]."""
    local = utc.tz_convert(tz).tz_localize(None)
    return ((local - utc.tz_localize(None)) / pd.Timedelta(minutes=1)).to_numpy()


def _offset_minutes(texts: pd.Series) -> np.ndarray:
    """Written UTC offset of ISO strings [min] (``Z`` = 0; NaN without offset).

    Files hold few distinct offsets, so the suffixes are factorised and each
    distinct one parsed once.
    """
    codes, uniq = pd.factorize(texts.str.slice(-6).to_numpy(dtype=object))
    lookup = np.full(len(uniq) + 1, np.nan)
    for i, suffix in enumerate(uniq):
        m = re.search(r"(?P<z>[Zz])$|(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$", suffix)
        if m is None:
            continue
        if m.group("z"):
            lookup[i] = 0.0
        else:
            sign = -1 if m.group("sign") == "-" else 1
            lookup[i] = sign * (int(m.group("h")) * 60 + int(m.group("m") or 0))
    return lookup[codes]


def _fmt_offset(minutes: float) -> str:
    sign = "-" if minutes < 0 else "+"
    m = int(abs(minutes))
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _localize_naive(naive: pd.DatetimeIndex, tz: str, group_keys: pd.DataFrame | None,
                    ctx: _Ctx, col: str, raw: pd.Series, valid: np.ndarray) -> pd.DatetimeIndex:
    """Localise naive local times; the repeated fall-back hour is resolved by order."""
    probe = naive.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    nonexistent_probe = naive.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool),
                                          nonexistent="NaT")
    nonexistent = valid & np.asarray(nonexistent_probe.isna())
    ambiguous = valid & np.asarray(probe.isna()) & ~nonexistent
    if nonexistent.any():
        ctx.report.error(
            "nonexistent_local_time",
            f"{col}: local time does not exist in {tz} (clocks jump forward on this "
            f"daylight-saving day)", column=col, rows=ctx.rows(nonexistent),
            found=_found(raw, nonexistent),
            expected="a local time that exists, or an ISO time with UTC offset")
    dst = np.ones(len(naive), dtype=bool)
    if ambiguous.any():
        keys = pd.DataFrame({"_t": naive[ambiguous]})
        if group_keys is not None:
            for c in group_keys.columns:
                keys[c] = group_keys[c].to_numpy()[ambiguous]
        order = keys.groupby(list(keys.columns), sort=False, dropna=False).cumcount().to_numpy()
        # first occurrence: summer time (DST), second: standard time
        dst[np.flatnonzero(ambiguous)] = order == 0
    return naive.tz_localize(tz, ambiguous=dst, nonexistent="NaT")


def _timestamps(raw: pd.Series, col: str, ctx: _Ctx,
                group_keys: pd.DataFrame | None = None) -> pd.Series:
    """Parse a datetime column into tz-aware site-local timestamps (NaT where bad)."""
    rep, tz = ctx.report, ctx.tz
    n = len(raw)
    miss = _is_missing(raw)
    if miss.any():
        rep.error("missing_value", f"{col} is empty", column=col, rows=ctx.rows(miss),
                  expected="an ISO 8601 date-time")
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert(tz).dt.as_unit("ns")
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        naive = pd.DatetimeIndex(raw)
        out = _localize_naive(naive, tz, group_keys, ctx, col, raw, ~miss)
        rep.warning("naive_timestamps", f"{col}: times without time zone read as {tz} local "
                    f"time (a repeated fall-back hour is resolved by row order)", column=col)
        return pd.Series(out, index=raw.index).dt.as_unit("ns")
    if not (raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)):
        rep.error("unparsable_timestamp", f"{col} must be ISO 8601 date-times",
                  column=col, found=(str(raw.dtype),),
                  expected="text like 2025-10-26T02:15:00+01:00")
        return pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[ns, {tz}]")
    txt = _as_text(raw).fillna("")
    # a date alone ('2025-10-26') ends in '-26', which is no offset: require a time part
    has_offset = ~np.isnan(_offset_minutes(txt)) & txt.str.contains("T| ", regex=True) \
        .to_numpy(dtype=bool) & ~miss
    naive_rows = ~has_offset & ~miss
    result = pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[ns, {tz}]")
    if has_offset.any() and naive_rows.any():
        few = has_offset if has_offset.sum() <= naive_rows.sum() else naive_rows
        rep.error(
            "mixed_timezones",
            f"{col} mixes times with a UTC offset ({int(has_offset.sum())} rows) and "
            f"without ({int(naive_rows.sum())} rows); the minority is listed",
            column=col, rows=ctx.rows(few), found=_found(raw, few),
            expected="every time with an offset, or every time without")
    if has_offset.any():
        sub = txt[has_offset]
        parsed = pd.to_datetime(sub, format="ISO8601", utc=True, errors="coerce")
        bad = np.zeros(n, dtype=bool)
        bad[np.flatnonzero(has_offset)] = np.asarray(parsed.isna())
        if bad.any():
            rep.error("unparsable_timestamp", f"{col} is not an ISO 8601 date-time",
                      column=col, rows=ctx.rows(bad), found=_found(raw, bad),
                      expected="e.g. 2025-10-26T02:15:00+01:00")
        okpos = ~np.asarray(parsed.isna())
        utc = pd.DatetimeIndex(parsed[okpos])
        written = _offset_minutes(sub[okpos])
        site = _site_offset_minutes(utc, tz)
        mismatch = written != site
        if mismatch.any():
            rows_pos = np.flatnonzero(has_offset)[okpos][mismatch]
            uniq = np.unique(written)
            if len(uniq) == 1 and okpos.all():
                rep.warning(
                    "fixed_offset",
                    f"{col}: every time has the fixed offset {_fmt_offset(uniq[0])}, which "
                    f"is not always {tz} local time; converted to {tz}",
                    column=col, rows=ctx.rows(rows_pos),
                    expected=f"local {tz} times with their offset")
            else:
                rep.error(
                    "offset_mismatch",
                    f"{col}: UTC offset does not match {tz} at that time (mixed time zones?)",
                    column=col, rows=ctx.rows(rows_pos),
                    found=tuple(str(v) for v in sub[okpos][mismatch].head(_SHOW * 4)),
                    expected=", ".join(sorted({f"{_fmt_offset(s)} (site offset)"
                                               for s in site[mismatch][:50]})))
        idx = np.flatnonzero(has_offset)[okpos]
        result.iloc[idx] = utc.tz_convert(tz)
    if naive_rows.any():
        sub = txt[naive_rows]
        parsed = pd.to_datetime(sub, format="ISO8601", errors="coerce")
        badp = np.asarray(pd.isna(parsed))
        bad = np.zeros(n, dtype=bool)
        bad[np.flatnonzero(naive_rows)] = badp
        if bad.any():
            rep.error("unparsable_timestamp", f"{col} is not an ISO 8601 date-time",
                      column=col, rows=ctx.rows(bad), found=_found(raw, bad),
                      expected="e.g. 2025-10-26T02:15:00+01:00")
        naive = pd.DatetimeIndex(parsed)
        gk = None if group_keys is None else group_keys[naive_rows].reset_index(drop=True)
        local = _localize_naive(naive, tz, gk, ctx, col, raw[naive_rows], ~badp)
        result.iloc[np.flatnonzero(naive_rows)] = local
        rep.warning(
            "naive_timestamps",
            f"{col}: {int(naive_rows.sum())} time(s) without UTC offset read as {tz} local "
            f"time (a repeated fall-back hour is resolved by file order)", column=col)
    return result


def _hhmm(raw: pd.Series, col: str, ctx: _Ctx) -> pd.Series:
    """Optional 'HH:MM' column, normalised to zero-padded text (None where empty)."""
    miss = _is_missing(raw)
    txt = _as_text(raw).fillna("")
    m = txt.str.extract(_HHMM_RE)
    h = pd.to_numeric(m[0], errors="coerce")
    mi = pd.to_numeric(m[1], errors="coerce")
    ok = ((h >= 0) & (h < 24) & (mi >= 0) & (mi < 60)) | ((h == 24) & (mi == 0))
    bad = ~miss & ~ok.fillna(False).to_numpy(dtype=bool)
    if bad.any():
        ctx.report.error("bad_time_of_day", f"{col} is not a time of day", column=col,
                         rows=ctx.rows(bad), found=_found(raw, bad),
                         expected="'HH:MM' between 00:00 and 24:00")
    norm = h.astype("Int64").astype("string").str.zfill(2) + ":" + \
        mi.astype("Int64").astype("string").str.zfill(2)
    good = ~miss & ~bad
    return pd.Series(np.where(good, norm.fillna("").to_numpy(dtype=object), None),
                     index=raw.index, dtype="object")


def _minutes(hhmm: pd.Series) -> np.ndarray:
    s = hhmm.fillna("")
    h = pd.to_numeric(s.str.slice(0, 2), errors="coerce")
    m = pd.to_numeric(s.str.slice(3, 5), errors="coerce")
    return (h * 60 + m).to_numpy(dtype=float)


# ---------------------------------------------------------------------------
# checks per kind
# ---------------------------------------------------------------------------

def _channel_checks(ch: pd.Series, ctx: _Ctx, *, staffed_only: bool = False) -> None:
    sc = ctx.scenario
    if sc is None or not sc.channels:
        return
    known = set(sc.channel_names) if not staffed_only else {c.name for c in sc.staffed_channels}
    present = ch.fillna("")
    unknown = ~present.isin(known).to_numpy() & (present != "").to_numpy()
    if unknown.any():
        names = sorted(set(present[unknown]))
        ctx.report.error(
            "unknown_channel",
            f"channel(s) {names} not in the scenario"
            + (" (or not staffed)" if staffed_only else ""),
            column="channel", rows=ctx.rows(unknown), found=tuple(names),
            expected=f"one of {sorted(known)}")


def _aht_checks(aht: np.ndarray, volume: np.ndarray | None, ch: pd.Series, raw: pd.Series,
                ctx: _Ctx) -> None:
    sc = ctx.scenario
    kinds = {c.name: c.kind for c in sc.channels} if sc is not None else {}
    codes, names = pd.factorize(ch.to_numpy(dtype=object))
    per_name = np.array([AHT_LIMIT_SECONDS[kinds.get(n)] for n in names] + [
        AHT_LIMIT_SECONDS[None]])
    limit = per_name[codes]  # code -1 (missing channel) takes the last, generic limit
    with np.errstate(invalid="ignore"):
        neg = aht < 0
        absurd = aht > limit
        has_volume = volume > 0 if volume is not None else np.ones(len(aht), dtype=bool)
        zero = (aht == 0) & has_volume
    if neg.any():
        ctx.report.error("negative_aht", "aht_seconds must not be negative",
                         column="aht_seconds", rows=ctx.rows(neg), found=_found(raw, neg),
                         expected="a handle time > 0 [s]")
    if zero.any():
        ctx.report.error("zero_aht", "aht_seconds is 0 on rows with volume > 0",
                         column="aht_seconds", rows=ctx.rows(zero), found=_found(raw, zero),
                         expected="a handle time > 0 [s] where contacts were handled")
    if absurd.any():
        lim = sorted({f"{int(v)} s ({v / 3600:g} h)" for v in limit[absurd]})
        ctx.report.error("absurd_aht", "aht_seconds is implausibly long",
                         column="aht_seconds", rows=ctx.rows(absurd),
                         found=_found(raw, absurd),
                         expected=f"at most {', '.join(lim)} for this channel kind")
    if volume is not None:
        empty = np.isnan(aht) & (volume > 0)
        if empty.any():
            ctx.report.warning(
                "missing_aht", "aht_seconds is empty on rows with volume > 0 (the channel's "
                "default AHT applies)", column="aht_seconds", rows=ctx.rows(empty),
                expected="a handle time [s] where volume > 0")


def _duplicates(df: pd.DataFrame, keys: tuple[str, ...], ctx: _Ctx,
                valid: np.ndarray) -> None:
    sub = df[list(keys)][valid]
    dup = sub.duplicated(keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(valid)[dup]
        first = sub[dup].head(_SHOW)
        found = tuple(" / ".join(str(v) for v in r) for r in first.itertuples(index=False))
        ctx.report.error("duplicate_rows", f"duplicate ({', '.join(keys)}) rows",
                         column=", ".join(keys), rows=ctx.rows(pos), found=found,
                         expected="each key once")


def _grid_checks(ts: pd.Series, ch: pd.Series | None, ctx: _Ctx, gap_check: bool) -> None:
    """Interval grid, interval length (declared or inferred) and gaps per channel."""
    rep = ctx.report
    valid = ts.notna().to_numpy()
    if not valid.any():
        return
    v = ts[valid]
    minute = (v.dt.hour * 60 + v.dt.minute).to_numpy()
    sec = (v.dt.second.to_numpy() != 0) | (v.dt.microsecond.to_numpy() != 0) | \
        (v.dt.nanosecond.to_numpy() != 0)
    utc_ns = v.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]"
                                                                            ).astype(np.int64)
    if ch is not None:
        codes, names = pd.factorize(ch[valid].fillna("").to_numpy(dtype=object))
    else:
        codes, names = np.zeros(len(v), dtype=np.int64), np.array([""], dtype=object)
    declared = ctx.interval_minutes
    # sort once by (channel, instant); consecutive differences within a channel
    # are the steps of its series
    order = np.lexsort((utc_ns, codes))
    c_sorted, t_sorted = codes[order], utc_ns[order]
    same = c_sorted[1:] == c_sorted[:-1]
    steps = [np.diff(t_sorted)[same] // 60_000_000_000] if len(t_sorted) > 1 else []
    inferred = smallest = None
    if steps:
        allsteps = np.concatenate(steps)
        allsteps = allsteps[allsteps > 0]
        if len(allsteps):
            vals, counts = np.unique(allsteps, return_counts=True)
            inferred = int(vals[np.argmax(counts)])
            smallest = int(vals[0])
    if declared is None:
        if inferred in (15, 30, 60):
            declared = inferred
        elif inferred is None:
            rep.warning("interval_unknown", "too few timestamps to infer the interval length; "
                        "assuming 15 minutes", column="timestamp")
            declared = 15
        else:
            rep.error("interval_not_inferred",
                      f"cannot infer the interval length: the most common step between "
                      f"timestamps is {inferred} min", column="timestamp",
                      found=(f"{inferred} min",), expected="15, 30 or 60 minutes")
            return
    elif smallest is not None and smallest > declared and smallest % declared == 0:
        # every step is a multiple of a longer interval: coarser data, not gaps
        inferred = smallest
        rep.error("interval_mismatch",
                  f"timestamps are {inferred} minutes apart but the scenario declares "
                  f"{declared}-minute intervals", column="timestamp",
                  found=(f"{inferred} min",), expected=f"{declared}-minute intervals")
        gap_check = False
    rep.interval_minutes = declared
    off = (minute % declared != 0) | sec
    if off.any():
        pos = np.flatnonzero(valid)[off]
        rep.error("off_grid", f"timestamp is not on the {declared}-minute interval grid",
                  column="timestamp", rows=ctx.rows(pos),
                  found=tuple(t.isoformat() for t in v[off].head(_SHOW * 4)),
                  expected=f"interval starts at multiples of {declared} min past the hour")
    if not gap_check:
        return
    step = declared * 60_000_000_000
    spans = {}
    keep = ~off[order]
    bounds = np.searchsorted(c_sorted, np.arange(len(names) + 1))
    for code, g in enumerate(names):
        t = t_sorted[bounds[code]:bounds[code + 1]][keep[bounds[code]:bounds[code + 1]]]
        if len(t) == 0:
            continue
        t = t[np.r_[True, np.diff(t) != 0]]  # duplicates are reported elsewhere
        spans[g] = (t[0], t[-1])
        if (t[-1] - t[0]) // step + 1 == len(t):
            continue  # complete series: the common case, no set arithmetic needed
        k = (t - t[0]) // step
        full = np.arange(k[-1] + 1)
        missing = np.setdiff1d(full, k, assume_unique=True)
        if len(missing) == 0:
            continue
        # runs of consecutive missing intervals
        breaks = np.flatnonzero(np.diff(missing) != 1) + 1
        runs = np.split(missing, breaks)

        def stamp(i: int) -> str:
            return pd.Timestamp(int(t[0] + i * step), tz="UTC").tz_convert(ctx.tz).isoformat()

        found = tuple(
            (stamp(r[0]) if len(r) == 1 else f"{stamp(r[0])} .. {stamp(r[-1])} ({len(r)})")
            for r in runs[: _SHOW * 2])
        label = f"channel '{g}': " if ch is not None else ""
        msg = (f"{label}{len(missing)} missing interval(s) in {len(runs)} gap(s) between "
               f"{stamp(0)} and {stamp(int(k[-1]))}; gaps are reported, never filled")
        getattr(rep, ctx.gaps)("gap", msg, column="timestamp", found=found,
                               expected="one row per interval and channel (volume 0 when "
                               "closed)")
    if ch is not None and len(spans) > 1:
        starts = {g: s for g, (s, _) in spans.items()}
        ends = {g: e for g, (_, e) in spans.items()}
        for label, d, fn in (("starts", starts, min), ("ends", ends, max)):
            ref = fn(d.values())
            odd = sorted(g for g, x in d.items() if x != ref)
            if odd:
                at = {g: pd.Timestamp(int(d[g]), tz="UTC").tz_convert(ctx.tz).isoformat()
                      for g in odd}
                rep.warning("uneven_span", f"channel(s) {odd} {label} at a different time "
                            f"than the others", column="timestamp",
                            found=tuple(f"{g}: {at[g]}" for g in odd),
                            expected=f"every channel {label} at "
                            f"{pd.Timestamp(int(ref), tz='UTC').tz_convert(ctx.tz).isoformat()}")


def _check_series_frame(df: pd.DataFrame, kind: str, ctx: _Ctx) -> pd.DataFrame:
    """history, forecast, requirements, coverage, assignments."""
    rep = ctx.report
    out = pd.DataFrame(index=df.index)
    group_cols = ["channel"] if kind != "assignments" else ["agent_id", "channel"]
    gk = pd.DataFrame({c: _as_text(df[c]).to_numpy() for c in group_cols})
    out["timestamp"] = _timestamps(df["timestamp"], "timestamp", ctx, gk)
    if kind == "assignments":
        out["agent_id"] = _text(df["agent_id"], "agent_id", ctx)
    out["channel"] = _text(df["channel"], "channel", ctx)
    _channel_checks(out["channel"], ctx, staffed_only=kind in ("assignments",))
    if kind == "history":
        vol = _numeric(df["volume"], "volume", ctx, lo=0.0, rule="negative_volume",
                       expected="a number >= 0")
        frac = ~np.isnan(vol) & (vol != np.round(vol))
        if frac.any():
            rep.warning("fractional_volume", "volume is not a whole number of contacts",
                        column="volume", rows=ctx.rows(frac), found=_found(df["volume"], frac),
                        expected="a whole number of contacts")
        out["volume"] = vol
        if "aht_seconds" in df.columns:
            aht = _numeric(df["aht_seconds"], "aht_seconds", ctx, nullable=True,
                           expected="a handle time [s]")
            _aht_checks(aht, vol, out["channel"], df["aht_seconds"], ctx)
            out["aht_seconds"] = np.where(aht < 0, np.nan, aht)
    elif kind == "forecast":
        for c in ("volume", "volume_lo", "volume_hi"):
            out[c] = _numeric(df[c], c, ctx, lo=0.0, rule="negative_volume",
                              expected="a number >= 0")
        aht = _numeric(df["aht_seconds"], "aht_seconds", ctx, nullable=True,
                       expected="a handle time [s]")
        _aht_checks(aht, out["volume"].to_numpy(), out["channel"], df["aht_seconds"], ctx)
        out["aht_seconds"] = aht
        out["model"] = _text(df["model"], "model", ctx)
        with np.errstate(invalid="ignore"):
            inverted = (out["volume_lo"] > out["volume_hi"]).to_numpy()
        if inverted.any():
            rep.error("interval_inverted", "volume_lo is above volume_hi",
                      column="volume_lo", rows=ctx.rows(inverted),
                      expected="volume_lo <= volume <= volume_hi")
    elif kind == "requirements":
        out["volume"] = _numeric(df["volume"], "volume", ctx, lo=0.0, rule="negative_volume",
                                 expected="a number >= 0")
        aht = _numeric(df["aht_seconds"], "aht_seconds", ctx, nullable=True,
                       expected="a handle time [s]")
        _aht_checks(aht, out["volume"].to_numpy(), out["channel"], df["aht_seconds"], ctx)
        out["aht_seconds"] = aht
        for c in ("agents_net", "agents_required"):
            out[c] = _numeric(df[c], c, ctx, lo=0.0, expected="a number of agents >= 0")
        for c in ("service_level", "occupancy"):
            out[c] = _numeric(df[c], c, ctx, nullable=True, lo=0.0, hi=1.0,
                              expected="a share between 0 and 1")
        # +inf is a valid ASA: a queue with no agents (or load above capacity) never clears
        out["asa_seconds"] = _numeric(df["asa_seconds"], "asa_seconds", ctx, nullable=True,
                                      lo=0.0, expected="a time >= 0 [s] (inf: never answered)",
                                      allow_inf=True)
        for c in ("agents_net_whole", "agents_required_whole"):
            if c in df.columns:
                vals = _numeric(df[c], c, ctx, lo=0.0, integer=True,
                                expected="a whole number of agents >= 0")
                out[c] = np.nan_to_num(vals, nan=0).astype("int64") if not np.isnan(
                    vals).any() else pd.array(np.round(vals), dtype="Int64")
        if "abandonment" in df.columns:
            out["abandonment"] = _numeric(df["abandonment"], "abandonment", ctx, nullable=True,
                                          lo=0.0, hi=1.0, expected="a share between 0 and 1")
        with np.errstate(invalid="ignore"):
            less = (out["agents_required"] < out["agents_net"] - 1e-9).to_numpy()
        if less.any():
            rep.error("required_below_net", "agents_required is below agents_net",
                      column="agents_required", rows=ctx.rows(less),
                      expected="agents_required = agents_net / (1 - shrinkage) >= agents_net")
    elif kind == "coverage":
        for c in ("required", "scheduled"):
            out[c] = _numeric(df[c], c, ctx, lo=0.0, expected="a number of agents >= 0")
        # The extras wfm.coverage writes: numbers, NaN where undefined (e.g. no volume).
        for c, expected, inf in (("volume", "contacts >= 0", False),
                                 ("aht_seconds", "a time >= 0 [s]", False),
                                 ("agents_net", "a number of agents >= 0", False),
                                 ("asa_seconds", "a time >= 0 [s] (inf: never answered)", True),
                                 ("occupancy", "a share >= 0", False),
                                 ("abandonment", "a share between 0 and 1", False)):
            if c in df.columns:
                out[c] = _numeric(df[c], c, ctx, nullable=True, lo=0.0,
                                  hi=1.0 if c == "abandonment" else None,
                                  expected=expected, allow_inf=inf)
        if "requirement_missing" in df.columns:
            flag = df["requirement_missing"].astype(str).str.strip().str.lower()
            bad = ~flag.isin(["true", "false", "1", "0"])
            if bad.any():
                rep.error("not_boolean", "requirement_missing is not true/false",
                          column="requirement_missing", rows=ctx.rows(bad.to_numpy()),
                          expected="true or false")
            out["requirement_missing"] = flag.isin(["true", "1"]).to_numpy()
        out["gap"] = _numeric(df["gap"], "gap", ctx, expected="a number of agents")
        out["service_level"] = _numeric(df["service_level"], "service_level", ctx,
                                        nullable=True, lo=0.0, hi=1.0,
                                        expected="a share between 0 and 1")
        with np.errstate(invalid="ignore"):
            wrong = (np.abs(out["gap"] - (out["scheduled"] - out["required"])) > 1e-6
                     ).to_numpy()
        if wrong.any():
            rep.error("gap_inconsistent", "gap is not scheduled - required", column="gap",
                      rows=ctx.rows(wrong), found=_found(df["gap"], wrong),
                      expected="gap = scheduled - required")
    elif kind == "assignments":
        out["fraction"] = _numeric(df["fraction"], "fraction", ctx, lo=0.0, hi=1.0,
                                   expected="a share of the interval between 0 and 1")
        tot = out.groupby([out["timestamp"], out["agent_id"]], dropna=True)["fraction"] \
            .transform("sum").to_numpy()
        # Writers round fractions (e.g. to 6 decimals); a few rounded shares may sum
        # to 1.000002 without any real over-assignment.
        over = tot > 1.0 + 1e-4
        if over.any():
            rep.error("over_assigned", "an agent's fractions in one interval add up to more "
                      "than 1", column="fraction", rows=ctx.rows(over),
                      expected="sum of fraction per (timestamp, agent_id) <= 1")
    valid = out["timestamp"].notna().to_numpy()
    _duplicates(out, _KEYS[kind], ctx, valid)
    ch = out["channel"] if kind != "assignments" else None
    _grid_checks(out["timestamp"], ch, ctx, gap_check=kind != "assignments")
    if kind == "history" and ctx.scenario is not None and ctx.scenario.channels:
        present = set(out["channel"].unique())
        absent = [c.name for c in ctx.scenario.channels
                  if c.name not in present and c.derived_from is None]
        if absent:
            rep.warning("channel_without_history",
                        f"scenario channel(s) {absent} have no rows in the history",
                        column="channel", expected="history for every non-derived channel")
    return out


def _list_tokens(raw: pd.Series) -> list[list[str]]:
    return [[t.strip() for t in str(v).split(";") if t.strip()] if not pd.isna(v) else []
            for v in raw]


def _check_roster(df: pd.DataFrame, ctx: _Ctx) -> pd.DataFrame:
    rep = ctx.report
    sc = ctx.scenario
    out = pd.DataFrame(index=df.index)
    out["agent_id"] = _text(df["agent_id"], "agent_id", ctx)
    skills = _list_tokens(_as_text(df["skills"]))
    known = {c.name for c in sc.channels} if sc is not None and sc.channels else None
    staffed = {c.name for c in sc.staffed_channels} if known is not None else None
    empty = np.array([len(s) == 0 for s in skills])
    if empty.any():
        rep.error("missing_value", "skills is empty", column="skills", rows=ctx.rows(empty),
                  expected="channel names separated by ';'")
    if known is not None:
        bad_pos, bad_vals, unstaffed_pos, unstaffed_vals = [], [], [], []
        for i, s in enumerate(skills):
            unknown = [x for x in s if x not in known]
            if unknown:
                bad_pos.append(i)
                bad_vals.append(";".join(unknown))
            elif any(x not in staffed for x in s):
                unstaffed_pos.append(i)
                unstaffed_vals.append(";".join(x for x in s if x not in staffed))
        if bad_pos:
            rep.error("unknown_channel", "skills name channel(s) not in the scenario",
                      column="skills", rows=ctx.rows(np.array(bad_pos, dtype=int)),
                      found=tuple(bad_vals), expected=f"names from {sorted(known)}")
        if unstaffed_pos:
            rep.error("unstaffed_skill", "skills name a channel that is not staffed",
                      column="skills", rows=ctx.rows(np.array(unstaffed_pos, dtype=int)),
                      found=tuple(unstaffed_vals), expected=f"names from {sorted(staffed)}")
    out["skills"] = pd.Series([";".join(dict.fromkeys(s)) for s in skills], index=df.index,
                              dtype="str")
    out["min_hours_week"] = _numeric(df["min_hours_week"], "min_hours_week", ctx, lo=0.0,
                                     hi=MAX_HOURS_WEEK,
                                     expected=f"hours per week between 0 and {MAX_HOURS_WEEK:g}")
    out["max_hours_week"] = _numeric(df["max_hours_week"], "max_hours_week", ctx, lo=0.0,
                                     lo_open=True, hi=MAX_HOURS_WEEK,
                                     expected=f"hours per week > 0 and <= {MAX_HOURS_WEEK:g}")
    with np.errstate(invalid="ignore"):
        inv = (out["min_hours_week"] > out["max_hours_week"]).to_numpy()
    if inv.any():
        rep.error("min_above_max", "min_hours_week is above max_hours_week",
                  column="min_hours_week", rows=ctx.rows(inv),
                  found=_found(df["min_hours_week"], inv),
                  expected="min_hours_week <= max_hours_week")
    md = _numeric(df["max_days_week"], "max_days_week", ctx, lo=1.0, hi=7.0, integer=True,
                  expected="a whole number of days between 1 and 7")
    out["max_days_week"] = pd.array(np.where(np.isnan(md), np.nan, np.round(md)),
                                    dtype="Int64")
    if not out["max_days_week"].isna().any():
        out["max_days_week"] = out["max_days_week"].astype("int64")
    for c in ("earliest_start", "latest_end", "preferred_start"):
        if c in df.columns:
            out[c] = _hhmm(df[c], c, ctx)
    if "earliest_start" in out and "latest_end" in out:
        a, b = _minutes(out["earliest_start"]), _minutes(out["latest_end"])
        with np.errstate(invalid="ignore"):
            inv = a >= b
        if inv.any():
            rep.error("window_inverted", "earliest_start is not before latest_end",
                      column="latest_end", rows=ctx.rows(inv),
                      found=_found(df["latest_end"], inv), expected="a time after earliest_start")
    for c in ("unavailable", "days_off_wished"):
        if c not in df.columns:
            continue
        toks = _list_tokens(_as_text(df[c]))
        norm, bad = [], np.zeros(len(df), dtype=bool)
        for i, ts in enumerate(toks):
            items = []
            for t in ts:
                wd = _WEEKDAY_ALIASES.get(t.lower())
                if wd is not None:
                    items.append(wd)
                    continue
                if c == "unavailable":
                    try:
                        items.append(dt.date.fromisoformat(t).isoformat())
                        continue
                    except ValueError:
                        pass
                bad[i] = True
            norm.append(";".join(items) if items else None)
        if bad.any():
            exp = ("ISO dates (2026-11-18) or weekday names (mon..sun) separated by ';'"
                   if c == "unavailable" else "weekday names (mon..sun) separated by ';'")
            rep.error(f"bad_{c}", f"{c} has an entry that is not understood", column=c,
                      rows=ctx.rows(bad), found=_found(df[c], bad), expected=exp)
        out[c] = pd.Series(norm, index=df.index, dtype="object")
    if "proficiency" in df.columns:
        toks = _list_tokens(_as_text(df["proficiency"]))
        bad = np.zeros(len(df), dtype=bool)
        norm = []
        for i, ts in enumerate(toks):
            items = []
            for t in ts:
                name, _, val = t.partition(":")
                try:
                    v = float(val)
                except ValueError:
                    v = float("nan")
                if not (0.0 < v <= 2.0) or name.strip() not in skills[i]:
                    bad[i] = True
                else:
                    items.append(f"{name.strip()}:{v:g}")
            norm.append(";".join(items) if items else None)
        if bad.any():
            rep.error("bad_proficiency", "proficiency entry is not 'skill:factor' for one of "
                      "the agent's skills", column="proficiency", rows=ctx.rows(bad),
                      found=_found(df["proficiency"], bad),
                      expected="e.g. 'voice:1.0;chat:0.8', factor in (0, 2], skill in skills")
        out["proficiency"] = pd.Series(norm, index=df.index, dtype="object")
    if "max_consecutive_days" in df.columns:
        v = _numeric(df["max_consecutive_days"], "max_consecutive_days", ctx, nullable=True,
                     lo=1.0, hi=14.0, integer=True, expected="a whole number between 1 and 14")
        out["max_consecutive_days"] = pd.array(np.where(np.isnan(v), np.nan, np.round(v)),
                                               dtype="Int64")
    if "hourly_cost" in df.columns:
        out["hourly_cost"] = _numeric(df["hourly_cost"], "hourly_cost", ctx, nullable=True,
                                      lo=0.0, expected="a cost per hour >= 0")
    if "team" in df.columns:
        out["team"] = _text(df["team"], "team", ctx, nullable=True)
    _duplicates(out, ("agent_id",), ctx, (out["agent_id"] != "").to_numpy())
    return out


_BREAK_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _check_shifts(df: pd.DataFrame, ctx: _Ctx) -> pd.DataFrame:
    rep = ctx.report
    out = pd.DataFrame(index=df.index)
    out["agent_id"] = _text(df["agent_id"], "agent_id", ctx)
    dates = []
    bad = np.zeros(len(df), dtype=bool)
    for i, v in enumerate(df["date"]):
        if isinstance(v, dt.datetime):
            v = v.date()
        if isinstance(v, dt.date):
            dates.append(v)
            continue
        try:
            dates.append(dt.date.fromisoformat(str(v).strip()))
        except ValueError:
            dates.append(None)
            bad[i] = True
    if bad.any():
        rep.error("bad_date", "date is not an ISO date", column="date", rows=ctx.rows(bad),
                  found=_found(df["date"], bad), expected="YYYY-MM-DD")
    out["date"] = pd.Series(dates, index=df.index, dtype="object")
    gk = pd.DataFrame({"agent_id": out["agent_id"].to_numpy()})
    out["start"] = _timestamps(df["start"], "start", ctx, gk)
    out["end"] = _timestamps(df["end"], "end", ctx, gk)
    with np.errstate(invalid="ignore"):
        length_h = ((out["end"] - out["start"]) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
    inv = length_h <= 0
    if inv.any():
        rep.error("shift_inverted", "end is not after start", column="end",
                  rows=ctx.rows(inv), found=_found(df["end"], inv), expected="end > start")
    long = length_h > MAX_SHIFT_HOURS
    if long.any():
        rep.error("shift_too_long", f"shift longer than {MAX_SHIFT_HOURS:g} h", column="end",
                  rows=ctx.rows(long), found=_found(df["end"], long),
                  expected=f"at most {MAX_SHIFT_HOURS:g} h from start")
    start_date = out["start"].dt.date
    wrong = np.array([d is not None and s is not None and not pd.isna(s) and d != s
                      for d, s in zip(out["date"], start_date)])
    if wrong.any():
        rep.error("date_mismatch", "date is not the local date of start", column="date",
                  rows=ctx.rows(wrong), found=_found(df["date"], wrong),
                  expected="the date on which the shift starts")
    breaks = _as_text(df["breaks"]).fillna("")
    badb = np.zeros(len(df), dtype=bool)
    for i, (b, s, e) in enumerate(zip(breaks, out["start"], out["end"])):
        for tok in [t.strip() for t in b.split(";") if t.strip()]:
            m = _BREAK_RE.match(tok)
            if not m:
                badb[i] = True
                continue
            if pd.isna(s) or pd.isna(e):
                continue
            h1, m1, h2, m2 = (int(x) for x in m.groups())
            if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
                badb[i] = True
                continue
            # place the break on the shift's wall-clock timeline (may pass midnight)
            base = s.tz_localize(None).normalize()
            b0 = base + pd.Timedelta(hours=h1, minutes=m1)
            if b0 < s.tz_localize(None):
                b0 += pd.Timedelta(days=1)
            b1 = b0.normalize() + pd.Timedelta(hours=h2, minutes=m2)
            if b1 <= b0:
                b1 += pd.Timedelta(days=1)
            if b1 > e.tz_localize(None):
                badb[i] = True
    if badb.any():
        rep.error("bad_breaks", "breaks are not HH:MM-HH:MM ranges inside the shift",
                  column="breaks", rows=ctx.rows(badb), found=_found(df["breaks"], badb),
                  expected="'HH:MM-HH:MM' ranges separated by ';', within start..end")
    out["breaks"] = breaks.astype("str")
    _duplicates(out, ("agent_id", "start"), ctx, out["start"].notna().to_numpy())
    return out


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def infer_kind(columns: Iterable[str]) -> str | None:
    """Guess the frame kind from its column names (None when nothing fits)."""
    cols = set(columns)
    if {"agent_id", "skills"} <= cols:
        return "roster"
    if {"agent_id", "start", "end"} <= cols:
        return "shifts"
    if {"agent_id", "fraction"} <= cols:
        return "assignments"
    if {"required", "scheduled"} <= cols:
        return "coverage"
    if "agents_required" in cols or "agents_net" in cols:
        return "requirements"
    if "volume_lo" in cols or "volume_hi" in cols or "model" in cols:
        return "forecast"
    if {"timestamp", "volume"} <= cols:
        return "history"
    return None


def _site(scenario: Scenario | None, tz: str | None) -> str:
    if tz is not None:
        return tz
    if scenario is not None:
        return scenario.site.timezone
    return Site().timezone


def validate_frame(df: pd.DataFrame, kind: str | None = None,
                   scenario: Scenario | None = None, *, source: str = "<frame>",
                   column_map: Mapping[str, str] | None = None, tz: str | None = None,
                   interval_minutes: int | None = None, gaps: str = "error",
                   row_unit: Literal["line", "row"] = "row") -> ValidationReport:
    """Validate an in-memory frame; returns the report (never raises for bad data).

    Parameters
    ----------
    df : DataFrame
        Raw frame: strings (as read from CSV) or typed columns.
    kind : str, optional
        One of :data:`KINDS`; inferred from the columns when omitted.
    scenario : Scenario, optional
        Gives the time zone, the interval length and the known channels.
    source : str
        Label used in messages (the file name).
    column_map : mapping, optional
        Vendor header -> wfm column, e.g. ``{"Interval Start": "timestamp"}``.
    tz : str, optional
        Time zone when there is no scenario (default: Europe/Berlin).
    interval_minutes : int, optional
        Interval length when there is no scenario (default: inferred).
    gaps : {"error", "warning"}
        Severity of missing intervals in history (other frames: warning).
    """
    return check_frame(df, kind, scenario, source=source, column_map=column_map, tz=tz,
                       interval_minutes=interval_minutes, gaps=gaps, row_unit=row_unit)[1]


def check_frame(df: pd.DataFrame, kind: str | None = None,
                scenario: Scenario | None = None, *, source: str = "<frame>",
                column_map: Mapping[str, str] | None = None, tz: str | None = None,
                interval_minutes: int | None = None, gaps: str = "error",
                row_unit: Literal["line", "row"] = "row"
                ) -> tuple[pd.DataFrame | None, ValidationReport]:
    """Validate an in-memory frame and return ``(parsed frame or None, report)``.

    Like :func:`load_frame` for a frame already in memory (e.g. one site's
    slice of a partitioned dataset); parameters as :func:`validate_frame`.
    """
    return _validate(df, kind, scenario, source=source, column_map=column_map, tz=tz,
                     interval_minutes=interval_minutes, gaps=gaps, row_unit=row_unit)


def _validate(df: pd.DataFrame, kind: str | None, scenario: Scenario | None, *, source: str,
              column_map: Mapping[str, str] | None, tz: str | None,
              interval_minutes: int | None, gaps: str,
              row_unit: Literal["line", "row"]) -> tuple[pd.DataFrame | None, ValidationReport]:
    if gaps not in ("error", "warning"):
        raise ValueError(f"gaps must be 'error' or 'warning', got {gaps!r}")
    report = ValidationReport(source=source, kind=kind, row_unit=row_unit, n_rows=len(df))
    df = df.reset_index(drop=True)
    if column_map:
        missing_src = [k for k in column_map if k not in df.columns]
        if missing_src:
            report.error("column_map", f"column map names column(s) not in the file: "
                         f"{missing_src}", found=tuple(str(c) for c in df.columns),
                         expected="the file's own header names on the left of the map")
        df = df.rename(columns=dict(column_map))
    df.columns = [str(c).strip() for c in df.columns]
    if kind is None:
        kind = infer_kind(df.columns)
        if kind is None:
            report.error("unknown_kind", "cannot tell which frame this is from its columns",
                         found=tuple(df.columns),
                         expected="the columns of one of " + ", ".join(KINDS))
            return None, report
        report.kind = kind
    if kind not in FRAME_COLUMNS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    required, optional = FRAME_COLUMNS[kind]
    dup_cols = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup_cols:
        report.error("duplicate_columns", f"column(s) {dup_cols} appear more than once",
                     expected="each column once")
        return None, report
    missing = [c for c in required if c not in df.columns]
    extra = [c for c in df.columns if c not in required and c not in optional]
    if missing:
        report.error("missing_columns", f"missing column(s) {missing}",
                     found=tuple(df.columns), expected=f"columns {list(required)}"
                     + (f", optional {list(optional)}" if optional else ""))
    if extra:
        msg = f"unexpected column(s) {extra}"
        exp = (f"only {list(required) + list(optional)} (rename vendor headers with a "
               f"column map)")
        if kind in _STRICT_KINDS:
            report.error("extra_columns", msg, found=tuple(extra), expected=exp)
        else:
            report.warning("extra_columns", msg + " (kept as they are)", found=tuple(extra),
                           expected=exp)
    if missing:
        return None, report
    if len(df) == 0:
        report.error("empty", "the file has no data rows", expected="at least one row")
        return None, report
    zone = _site(scenario, tz)
    report.timezone = zone
    ivl = interval_minutes if interval_minutes is not None else (
        scenario.site.interval_minutes if scenario is not None else None)
    ctx = _Ctx(report=report, row_offset=2 if row_unit == "line" else 1, tz=zone,
               scenario=scenario, interval_minutes=ivl,
               gaps="error" if (gaps == "error" and kind == "history") else "warning")
    if kind == "roster":
        out = _check_roster(df, ctx)
    elif kind == "shifts":
        out = _check_shifts(df, ctx)
    else:
        out = _check_series_frame(df, kind, ctx)
    cols = [c for c in required + optional if c in out.columns]
    typed = out[cols]
    if kind not in _STRICT_KINDS:
        for c in extra:
            typed[c] = df[c].to_numpy()
    return typed, report


def _read_raw(path: Path, report: ValidationReport) -> pd.DataFrame | None:
    name = path.name.lower()
    if not path.is_file():
        report.error("file_not_found", "file not found", expected="an existing file")
        return None
    try:
        if name.endswith(".parquet") or name.endswith(".pq"):
            report.row_unit = "row"
            return pd.read_parquet(path)
        if name.endswith(".csv") or name.endswith(".csv.gz"):
            report.row_unit = "line"
            with _open_text(path) as fh:
                header = fh.readline()
            # German spreadsheet exports separate with ';'
            sep = ";" if header.count(";") > header.count(",") else ","
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                # index_col=False: a first row with extra fields must not become an index
                df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                                 na_filter=False, encoding="utf-8-sig",
                                 skipinitialspace=True, index_col=False)
            if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
                n = len(df.columns)
                report.error("csv_syntax", "not a well-formed CSV file: more fields than "
                             "the header", rows=_long_lines(path, sep, n),
                             expected=f"{n} fields per line, as in the header")
                return None
            return df
    except pd.errors.EmptyDataError:
        report.error("empty", "the file is empty", expected="a header line and data rows")
        return None
    except pd.errors.ParserError as err:
        report.error("csv_syntax", f"not a well-formed CSV file: {err}",
                     expected="the same number of fields on every line")
        return None
    except UnicodeDecodeError as err:
        report.error("encoding", f"not UTF-8 text: {err}", expected="a UTF-8 encoded file")
        return None
    except (OSError, ValueError) as err:
        report.error("unreadable", f"cannot read the file: {err}",
                     expected="a valid CSV or Parquet file")
        return None
    report.error("file_type", f"unknown file type {path.suffix!r}",
                 found=(path.name,), expected=".csv, .csv.gz or .parquet")
    return None


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _long_lines(path: Path, sep: str, n: int) -> tuple[int, ...]:
    """Line numbers of records with more than ``n`` fields (slow path, bad files only)."""
    import csv

    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=sep)
        return tuple(reader.line_num for rec in reader if len(rec) > n)


def load_frame(path: Path | str, kind: str | None = None, scenario: Scenario | None = None,
               *, column_map: Mapping[str, str] | None = None, tz: str | None = None,
               interval_minutes: int | None = None,
               gaps: str = "error") -> tuple[pd.DataFrame | None, ValidationReport]:
    """Read and validate a file; returns ``(frame or None, report)`` without raising.

    The frame is None when the file cannot be read or misses required
    columns; otherwise it holds the parsed values (NaN/NaT where a value was
    bad) and the report tells whether it may be used (``report.ok``).
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind=kind)
    raw = _read_raw(p, report)
    if raw is None:
        return None, report
    frame, rep = _validate(raw, kind, scenario, source=str(p), column_map=column_map, tz=tz,
                           interval_minutes=interval_minutes, gaps=gaps,
                           row_unit=report.row_unit)
    return frame, rep


def validate_file(path: Path | str, kind: str | None = None,
                  scenario: Scenario | None = None, **kw: Any) -> ValidationReport:
    """Validate a file and return its :class:`ValidationReport` (never raises for bad data).

    Examples
    --------
    >>> from wfm.io import validate_file
    >>> from wfm.sampledata import sample_scenario_path
    >>> from wfm.config import load_scenario
    >>> s = load_scenario(sample_scenario_path())
    >>> validate_file(s.resolve(s.agents.file), scenario=s).ok
    True
    """
    return load_frame(path, kind, scenario, **kw)[1]


def read_frame(path: Path | str, kind: str | None = None, scenario: Scenario | None = None,
               **kw: Any) -> pd.DataFrame:
    """Read a validated frame of ``kind`` from CSV / CSV.gz / Parquet.

    Keyword arguments are those of :func:`load_frame` (``column_map``, ``tz``,
    ``interval_minutes``, ``gaps``). Warnings are logged on the ``wfm.io``
    logger.

    Raises
    ------
    DataValidationError
        With ``.report`` listing every problem, when there is any error.
    """
    frame, report = load_frame(path, kind, scenario, **kw)
    report.raise_if_errors()
    if report.warnings:
        log.warning("%s", report.to_text())
    assert frame is not None
    return frame


def read_history(path: Path | str, scenario: Scenario | None = None,
                 **kw: Any) -> pd.DataFrame:
    """Read a validated history file (``timestamp, channel, volume[, aht_seconds]``).

    Examples
    --------
    >>> from wfm.config import load_scenario
    >>> from wfm.sampledata import sample_scenario_path
    >>> s = load_scenario(sample_scenario_path())
    >>> h = read_history(s.resolve(s.data.history), s)
    >>> str(h["timestamp"].dt.tz)
    'Europe/Berlin'
    """
    return read_frame(path, "history", scenario, **kw)


def read_roster(path: Path | str, scenario: Scenario | None = None,
                **kw: Any) -> pd.DataFrame:
    """Read a validated roster (skills are checked against the scenario's channels)."""
    return read_frame(path, "roster", scenario, **kw)


def _iso(series: pd.Series) -> pd.Series:
    """ISO 8601 text with a ``+HH:MM`` offset (empty for NaT); vectorised."""
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
    local = series.dt.tz_localize(None)
    wall = local.to_numpy().astype("datetime64[s]")
    offset = ((local - utc) / pd.Timedelta(minutes=1)).to_numpy()
    nat = np.isnat(wall)
    text = np.datetime_as_string(wall, unit="s").astype(object)
    uniq = np.unique(offset[~nat])
    suffix = np.empty(len(offset), dtype=object)
    for u in uniq:
        suffix[offset == u] = _fmt_offset(u)
    text = np.where(nat, "", text + np.where(nat, "", suffix))
    return pd.Series(text, index=series.index, dtype=object)


def write_frame(df: pd.DataFrame, path: Path | str, kind: str | None = None) -> Path:
    """Write a frame atomically as CSV, gzip CSV or Parquet (by the file extension).

    The file appears complete or not at all: the data goes to a temporary
    file in the same folder that then replaces ``path``. Timestamps in CSV
    are ISO 8601 with their UTC offset; empty cells stand for missing values.
    With ``kind`` the required columns are checked and put in canonical order
    (extra columns follow).

    Raises
    ------
    DataValidationError
        When ``kind`` is given and a required column is missing.
    ValueError
        For an unknown file extension.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> df = pd.DataFrame({"timestamp": pd.date_range("2025-01-06", periods=2,
    ...                    freq="15min", tz="Europe/Berlin"), "channel": "voice",
    ...                    "volume": [3.0, 4.0]})
    >>> p = write_frame(df, pathlib.Path(tempfile.mkdtemp()) / "h.csv", "history")
    >>> p.read_text().splitlines()[1]
    '2025-01-06T00:00:00+01:00,voice,3.0'
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".parquet") or name.endswith(".pq"):
        fmt = "parquet"
    elif name.endswith(".csv.gz"):
        fmt = "csv.gz"
    elif name.endswith(".csv"):
        fmt = "csv"
    else:
        raise ValueError(f"{p}: unknown file type; expected .csv, .csv.gz or .parquet")
    out = df.reset_index(drop=True)
    if kind is not None:
        if kind not in FRAME_COLUMNS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
        required, optional = FRAME_COLUMNS[kind]
        missing = [c for c in required if c not in out.columns]
        if missing:
            rep = ValidationReport(source=str(p), kind=kind)
            rep.error("missing_columns", f"missing column(s) {missing}",
                      found=tuple(out.columns), expected=f"columns {list(required)}")
            rep.raise_if_errors()
        first = [c for c in required + optional if c in out.columns]
        out = out[first + [c for c in out.columns if c not in first]]
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        if fmt == "parquet":
            out.to_parquet(tmp, index=False, compression="zstd")
        else:
            text = out.copy()
            for c in text.columns:
                col = text[c]
                if isinstance(col.dtype, pd.DatetimeTZDtype):
                    text[c] = _iso(col)
                elif pd.api.types.is_datetime64_dtype(col.dtype):
                    text[c] = col.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
                elif col.dtype == object and len(col) and isinstance(
                        col.dropna().iloc[0] if col.notna().any() else None, dt.date):
                    text[c] = col.map(lambda d: d.isoformat() if isinstance(d, dt.date)
                                      else ("" if pd.isna(d) else str(d)))
            if fmt == "csv.gz":
                # no file name and time in the gzip header: same data, same bytes
                with open(tmp, "wb") as raw, gzip.GzipFile(
                        filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
                        _stdio.TextIOWrapper(gz, encoding="utf-8", newline="") as fh:
                    text.to_csv(fh, index=False, lineterminator="\n")
            else:
                text.to_csv(tmp, index=False, lineterminator="\n")
        # mkstemp creates the file private; give it the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p
