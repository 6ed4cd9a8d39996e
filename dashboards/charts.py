"""Altair chart builders for the dashboard pages.

Pure functions: frames in (the wfm column contracts), ``alt.Chart`` out. They
reshape for display only (local day / time-of-day columns, segments of
consecutive intervals); every number shown comes from :mod:`wfm`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

#: Local wall-clock axis for interval charts (24-hour clock, weekday).
TIME_AXIS = alt.Axis(format="%a %H:%M", labelAngle=0)

#: Under-staffing red, over-staffing blue (diverging, centred at 0).
GAP_SCHEME = "redblue"
CHANNEL_PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756",
                   "#72b7b2", "#eeca3b", "#9d755d"]


def local_parts(ts: pd.Series | pd.DatetimeIndex) -> pd.DataFrame:
    """Local wall-clock date, day label and HH:MM of tz-aware timestamps."""
    idx = pd.DatetimeIndex(ts)
    naive = idx.tz_localize(None) if idx.tz is not None else idx
    return pd.DataFrame({
        "date": naive.normalize(),
        "day": naive.strftime("%a %d.%m."),
        "time": naive.strftime("%H:%M"),
    })


def channel_colors(channels: list[str]) -> alt.Scale:
    """One fixed colour per channel, the same on every page."""
    return alt.Scale(domain=list(channels),
                     range=[CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)]
                            for i in range(len(channels))])


def gap_heatmap(coverage: pd.DataFrame, channel: str, limit: float,
                interval_minutes: int, select: bool = False) -> alt.Chart:
    """Heatmap day x time of day of ``gap`` (scheduled - required) [agents].

    ``limit`` is the symmetric colour range (same on every channel's panel).
    On the 25-hour daylight-saving day the repeated hour shows the mean of
    its two intervals.
    """
    d = coverage[coverage["channel"] == channel]
    parts = local_parts(d["timestamp"])
    df = pd.DataFrame({
        "date": parts["date"].to_numpy(), "day": parts["day"].to_numpy(),
        "time": parts["time"].to_numpy(),
        "gap": d["gap"].to_numpy(dtype=float),
        "required": d["required"].to_numpy(dtype=float),
        "scheduled": d["scheduled"].to_numpy(dtype=float),
    })
    df = df.groupby(["date", "day", "time"], as_index=False)[
        ["gap", "required", "scheduled"]].mean()
    df["timestamp"] = df["day"] + " " + df["time"]
    hours = [f"{h:02d}:00" for h in range(0, 24, 2)]
    days = list(dict.fromkeys(df.sort_values("date")["day"]))
    df = df.drop(columns="date")
    chart = alt.Chart(df).mark_rect().encode(
        x=alt.X("time:O", title="time of day", axis=alt.Axis(values=hours, labelAngle=0)),
        y=alt.Y("day:O", title=None, sort=days),
        color=alt.Color("gap:Q", title="agents short (red) / over (blue)",
                        scale=alt.Scale(scheme=GAP_SCHEME, domain=[-limit, limit],
                                        domainMid=0, clamp=True),
                        legend=alt.Legend(orient="top", direction="horizontal",
                                          gradientLength=220, titleOrient="left")),
        tooltip=[alt.Tooltip("day:O", title="day"), alt.Tooltip("time:O", title="interval"),
                 alt.Tooltip("required:Q", format=".1f"),
                 alt.Tooltip("scheduled:Q", format=".1f"),
                 alt.Tooltip("gap:Q", format="+.1f", title="gap")],
    ).properties(title=f"{channel}: scheduled - required ({interval_minutes}-min intervals)",
                 # discrete axes size by step (Streamlit ignores a fixed height here)
                 width=alt.Step(max(4, min(16, 960 // max(df["time"].nunique(), 1)))),
                 height=alt.Step(22 if len(days) <= 14 else 12))
    if select:
        sel = alt.selection_point(name="cell", fields=["day", "time"], on="click")
        chart = chart.add_params(sel).encode(
            opacity=alt.condition(sel, alt.value(1.0), alt.value(0.55)))
    return chart


def required_vs_scheduled(coverage: pd.DataFrame, channel: str,
                          baseline: pd.DataFrame | None = None) -> alt.Chart:
    """Required and scheduled agents over time for one channel (step lines)."""
    d = coverage[coverage["channel"] == channel]
    ts = pd.DatetimeIndex(d["timestamp"]).tz_localize(None)
    series = {"required": d["required"], "scheduled": d["scheduled"]}
    if baseline is not None:
        b = baseline[baseline["channel"] == channel]
        series = {"required (what-if)": d["required"],
                  "required (baseline)": b.set_index("timestamp")["required"]
                  .reindex(d["timestamp"]).to_numpy(),
                  "scheduled": d["scheduled"]}
    frames = [pd.DataFrame({"time": ts, "agents": np.asarray(v, dtype=float), "series": k})
              for k, v in series.items()]
    df = pd.concat(frames, ignore_index=True)
    colors = {"required": "#222222", "scheduled": "#1f77b4",
              "required (what-if)": "#d62728", "required (baseline)": "#888888"}
    keys = list(series)
    return alt.Chart(df).mark_line(interpolate="step-after", strokeWidth=1.4).encode(
        x=alt.X("time:T", title=None, axis=TIME_AXIS),
        y=alt.Y("agents:Q", title="agents"),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=keys, range=[colors[k] for k in keys]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("time:T", format="%a %d.%m. %H:%M"), "series:N",
                 alt.Tooltip("agents:Q", format=".1f")],
    ).properties(title=f"{channel}: required vs scheduled agents", height=220)


def forecast_band(recent: pd.DataFrame, forecast: pd.DataFrame, channel: str,
                  level: float) -> alt.Chart:
    """Forecast with its prediction band over recent actuals, one channel."""
    fc = forecast[forecast["channel"] == channel]
    ts = pd.DatetimeIndex(fc["timestamp"]).tz_localize(None)
    band = pd.DataFrame({"time": ts, "lo": fc["volume_lo"].to_numpy(dtype=float),
                         "hi": fc["volume_hi"].to_numpy(dtype=float)})
    lines = [pd.DataFrame({"time": ts, "volume": fc["volume"].to_numpy(dtype=float),
                           "series": "forecast"})]
    act = recent[recent["channel"] == channel]
    if not act.empty:
        lines.append(pd.DataFrame({
            "time": pd.DatetimeIndex(act["timestamp"]).tz_localize(None),
            "volume": act["volume"].to_numpy(dtype=float), "series": "actual"}))
    line_df = pd.concat(lines, ignore_index=True)
    area = alt.Chart(band).mark_area(opacity=0.3, color="#f58518").encode(
        x=alt.X("time:T", title=None, axis=TIME_AXIS), y=alt.Y("lo:Q", title="contacts per interval"),
        y2="hi:Q", tooltip=[alt.Tooltip("time:T", format="%a %d.%m. %H:%M"),
                            alt.Tooltip("lo:Q", format=".1f", title=f"lower ({level:.0%})"),
                            alt.Tooltip("hi:Q", format=".1f", title=f"upper ({level:.0%})")])
    line = alt.Chart(line_df).mark_line(strokeWidth=1.2).encode(
        x="time:T", y="volume:Q",
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=["actual", "forecast"],
                                        range=["#4c78a8", "#e45756"]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("time:T", format="%a %d.%m. %H:%M"), "series:N",
                 alt.Tooltip("volume:Q", format=".1f")])
    return (area + line).properties(
        title=f"{channel}: forecast with {level:.0%} prediction band", height=280
    ).interactive(bind_y=False)


def history_overview(frame: pd.DataFrame, value: str, title: str,
                     channels: list[str], x: str = "day") -> alt.Chart:
    """History per channel over time; drag to pan, scroll to zoom along time.

    ``x`` is ``"day"`` (daily/weekly sums, naive dates) or ``"timestamp"``
    (interval level, tz-aware; drawn in local time).
    """
    df = frame[[x, "channel", value]].copy()
    if x == "timestamp":
        df[x] = pd.DatetimeIndex(df[x]).tz_localize(None)
        fmt = "%a %d.%m. %H:%M"
    else:
        fmt = "%a %d.%m.%Y"
    df["channel"] = df["channel"].astype(str)
    return alt.Chart(df).mark_line(strokeWidth=1.1).encode(
        x=alt.X(f"{x}:T", title=None),
        y=alt.Y(f"{value}:Q", title=title),
        color=alt.Color("channel:N", scale=channel_colors(channels),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip(f"{x}:T", format=fmt), "channel:N",
                 alt.Tooltip(f"{value}:Q", format=",.1f")],
    ).properties(height=260).interactive(bind_y=False)


def shift_segments(shifts: pd.DataFrame, assignments: pd.DataFrame, day: pd.Timestamp,
                   interval_minutes: int) -> pd.DataFrame:
    """Gantt rows for one local day: per agent, runs of intervals on one channel.

    Each interval is drawn in the channel the agent spends most of it on;
    consecutive intervals with the same channel merge into one bar. Breaks
    come from the shifts' ``breaks`` column.
    """
    ts = pd.DatetimeIndex(assignments["timestamp"])
    naive = ts.tz_localize(None)
    on_day = naive.normalize() == pd.Timestamp(day).normalize()
    a = pd.DataFrame({"agent_id": assignments["agent_id"].to_numpy()[on_day],
                      "channel": assignments["channel"].to_numpy()[on_day],
                      "fraction": assignments["fraction"].to_numpy(dtype=float)[on_day],
                      "start": naive[on_day]})
    if a.empty:
        return pd.DataFrame(columns=["agent_id", "start", "end", "channel", "kind"])
    a = a.sort_values(["agent_id", "start", "fraction"], ascending=[True, True, False])
    main = a.drop_duplicates(["agent_id", "start"], keep="first").reset_index(drop=True)
    step = pd.Timedelta(minutes=interval_minutes)
    new_run = ((main["agent_id"] != main["agent_id"].shift())
               | (main["channel"] != main["channel"].shift())
               | (main["start"] != main["start"].shift() + step))
    main["run"] = new_run.cumsum()
    seg = main.groupby("run").agg(agent_id=("agent_id", "first"), start=("start", "min"),
                                  last=("start", "max"), channel=("channel", "first"))
    seg["end"] = seg["last"] + step
    seg["kind"] = "work"
    seg = seg[["agent_id", "start", "end", "channel", "kind"]]

    rows = []
    sd = shifts.copy()
    starts = pd.to_datetime(sd["start"].astype(str).str.slice(0, 19))
    sd = sd.loc[starts.dt.normalize() == pd.Timestamp(day).normalize()]
    for agent, start, brk in zip(sd["agent_id"], starts[sd.index], sd["breaks"]):
        if not isinstance(brk, str) or not brk.strip():
            continue
        for part in brk.split(";"):
            a0, _, a1 = part.strip().partition("-")
            if not a0 or not a1:
                continue
            b0 = pd.Timestamp.combine(start.date(), pd.Timestamp(a0).time())
            b1 = pd.Timestamp.combine(start.date(), pd.Timestamp(a1).time())
            if b0 < start:  # a break after midnight of a night shift
                b0, b1 = b0 + pd.Timedelta(days=1), b1 + pd.Timedelta(days=1)
            if b1 <= b0:
                b1 += pd.Timedelta(days=1)
            rows.append({"agent_id": agent, "start": b0, "end": b1,
                         "channel": "break", "kind": "break"})
    out = pd.concat([seg, pd.DataFrame(rows, columns=seg.columns)], ignore_index=True)
    out["agent_id"] = out["agent_id"].astype(str)
    return out


def gantt(segments: pd.DataFrame, channels: list[str]) -> alt.Chart:
    """Agents' shifts for one day: bars coloured by channel, breaks grey."""
    domain = list(channels) + ["break"]
    colors = [CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)] for i in range(len(channels))]
    n_agents = max(segments["agent_id"].nunique(), 1)
    order = (segments[segments["kind"] == "work"].groupby("agent_id")["start"].min()
             .sort_values().index.tolist())
    return alt.Chart(segments).mark_bar(height={"band": 0.8}).encode(
        x=alt.X("start:T", title=None, axis=alt.Axis(format="%H:%M")),
        x2="end:T",
        y=alt.Y("agent_id:N", title="agent", sort=order,
                axis=alt.Axis(labelFontSize=9 if n_agents > 40 else 10, labelOverlap=False)),
        color=alt.Color("channel:N", title="channel",
                        scale=alt.Scale(domain=domain, range=colors + ["#d0d0d0"]),
                        legend=alt.Legend(orient="top")),
        tooltip=["agent_id:N", "channel:N", alt.Tooltip("start:T", format="%H:%M"),
                 alt.Tooltip("end:T", format="%H:%M")],
    ).properties(height=alt.Step(18 if n_agents <= 60 else 12))


def sl_curve(curve: pd.DataFrame, target: float, chosen: int) -> alt.Chart:
    """Service level (and occupancy) against the number of agents."""
    long = curve.melt("agents", value_vars=["service_level", "occupancy"],
                      var_name="measure", value_name="value")
    base = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("agents:Q", title="agents on the channel"),
        y=alt.Y("value:Q", title="share", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=["agents:Q", "measure:N", alt.Tooltip("value:Q", format=".1%")])
    rule = alt.Chart(pd.DataFrame({"y": [target]})).mark_rule(
        strokeDash=[4, 4], color="#d62728").encode(y="y:Q")
    vline = alt.Chart(pd.DataFrame({"x": [chosen]})).mark_rule(color="#555").encode(x="x:Q")
    return (base + rule + vline).properties(title="Service level vs agents", height=280)


def hours_vs_contract(hours: pd.DataFrame) -> alt.Chart:
    """Per agent: scheduled hours as a bar, contract min/max as ticks."""
    base = alt.Chart(hours).encode(y=alt.Y("agent_id:N", title="agent", sort="-x"))
    bar = base.mark_bar(color="#4c78a8").encode(
        x=alt.X("hours:Q", title="hours in the horizon"),
        tooltip=["agent_id:N", alt.Tooltip("hours:Q", format=".1f"),
                 alt.Tooltip("min_hours:Q", format=".1f"),
                 alt.Tooltip("max_hours:Q", format=".1f")])
    lo = base.mark_tick(color="#d62728", thickness=2).encode(x="min_hours:Q")
    hi = base.mark_tick(color="#222", thickness=2).encode(x="max_hours:Q")
    return (bar + lo + hi).properties(height=alt.Step(14 if len(hours) <= 60 else 10))


def requirements_lines(requirements: pd.DataFrame, baseline: pd.DataFrame,
                       channel: str) -> alt.Chart:
    """Agents required (after shrinkage) and on the channel (net), vs the scenario's."""
    d = requirements[requirements["channel"] == channel]
    b = baseline[baseline["channel"] == channel]
    ts = pd.DatetimeIndex(d["timestamp"]).tz_localize(None)
    frames = [
        pd.DataFrame({"time": ts, "agents": d["agents_required"].to_numpy(float),
                      "series": "required (to schedule)"}),
        pd.DataFrame({"time": ts, "agents": d["agents_net"].to_numpy(float),
                      "series": "net (on the channel)"}),
        pd.DataFrame({"time": pd.DatetimeIndex(b["timestamp"]).tz_localize(None),
                      "agents": b["agents_required"].to_numpy(float),
                      "series": "required, scenario settings"}),
    ]
    df = pd.concat(frames, ignore_index=True)
    keys = ["required (to schedule)", "net (on the channel)", "required, scenario settings"]
    return alt.Chart(df).mark_line(interpolate="step-after", strokeWidth=1.3).encode(
        x=alt.X("time:T", title=None, axis=TIME_AXIS),
        y=alt.Y("agents:Q", title="agents"),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=keys, range=["#d62728", "#4c78a8", "#aaaaaa"]),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.condition(alt.datum.series == keys[2], alt.value([4, 3]),
                                 alt.value([1, 0])),
        tooltip=[alt.Tooltip("time:T", format="%a %d.%m. %H:%M"), "series:N",
                 alt.Tooltip("agents:Q", format=".2f")],
    ).properties(title=f"{channel}: agents required per interval", height=260)
