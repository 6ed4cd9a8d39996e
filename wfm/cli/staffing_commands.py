"""CLI: ``wfm erlang`` (the calculator) and ``wfm requirements`` (the stage)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from wfm.cli._app import command, progress
from wfm.errors import StaffingError


def _num(v: float) -> float | None:
    """JSON-safe number: infinities and NaN become null."""
    v = float(v)
    return v if math.isfinite(v) else None


def erlang_calculation(volume: float, interval_minutes: int, aht: float, target: float,
                       answer_seconds: float, patience: float | None = None,
                       max_occupancy: float | None = None, agents: int | None = None,
                       asa_target: float | None = None) -> dict:
    """The numbers behind ``wfm erlang`` as one dict (also used by its tests)."""
    from wfm.staffing import erlang, erlang_a

    if volume < 0:
        raise StaffingError(f"--volume must be >= 0, got {volume}")
    if aht <= 0:
        raise StaffingError(f"--aht must be > 0 seconds, got {aht}")
    if interval_minutes <= 0:
        raise StaffingError(f"--interval-minutes must be > 0, got {interval_minutes}")
    if answer_seconds < 0:
        raise StaffingError(f"--answer-seconds must be >= 0, got {answer_seconds}")
    if patience is not None and not patience > 0:
        raise StaffingError(f"--patience must be > 0 seconds, got {patience}")
    if agents is not None and agents < 0:
        raise StaffingError(f"--agents must be >= 0, got {agents}")
    traffic = float(erlang.traffic_erlangs(volume, aht, interval_minutes))
    if patience is None:
        req = erlang.required_agents(traffic, aht, answer_seconds, target,
                                     asa_target=asa_target, max_occupancy=max_occupancy)
    else:
        req = erlang_a.required_agents(traffic, aht, patience, answer_seconds, target,
                                       asa_target=asa_target, max_occupancy=max_occupancy)
    n = int(req.whole) if agents is None else int(agents)

    def at(k):
        if patience is None:
            return erlang.metrics(traffic, k, aht, answer_seconds)
        return erlang_a.metrics(traffic, k, aht, patience, answer_seconds)

    m = at(n)
    out = {
        "model": "erlang_c" if patience is None else "erlang_a",
        "volume": float(volume),
        "interval_minutes": int(interval_minutes),
        "aht_seconds": float(aht),
        "traffic_erlangs": traffic,
        "target": float(target),
        "answer_seconds": float(answer_seconds),
        "agents_required": int(req.whole),
        "agents_fractional": float(req.fractional),
        "service_level": _num(m.service_level),
        "asa_seconds": _num(m.asa_seconds),
        "occupancy": _num(m.occupancy),
        "wait_probability": _num(m.wait_probability),
    }
    if agents is not None:
        out["agents"] = n
    if patience is not None:
        out["patience_seconds"] = float(patience)
        out["abandonment"] = _num(m.abandonment)
    if max_occupancy is not None:
        out["max_occupancy"] = float(max_occupancy)
    if asa_target is not None:
        out["asa_target_seconds"] = float(asa_target)
    table = []
    for k in range(max(n - 3, 0), n + 4):
        mk = at(k)
        row = {"agents": k, "service_level": _num(mk.service_level),
               "asa_seconds": _num(mk.asa_seconds), "occupancy": _num(mk.occupancy)}
        if patience is not None:
            row["abandonment"] = _num(mk.abandonment)
        table.append(row)
    out["_table"] = table
    return out


def _pct(v: float | None) -> str:
    return "   n/a" if v is None else f"{100.0 * v:5.1f} %"


def _sec(v: float | None) -> str:
    return "  inf" if v is None else f"{v:7.1f} s"


def _render(res: dict) -> str:
    model = "Erlang A (with abandonment)" if res["model"] == "erlang_a" else "Erlang C"
    lines = [
        f"{model}: {res['volume']:g} contacts in {res['interval_minutes']} min, "
        f"AHT {res['aht_seconds']:g} s = {res['traffic_erlangs']:.3f} Erlangs",
        f"Target: {100 * res['target']:g} % answered within {res['answer_seconds']:g} s"
        + (f", mean patience {res['patience_seconds']:g} s" if "patience_seconds" in res else "")
        + (f", occupancy <= {100 * res['max_occupancy']:g} %" if "max_occupancy" in res
           else ""),
        "",
        f"  Agents required       {res['agents_required']:>7d}   "
        f"(fractional {res['agents_fractional']:.2f})",
    ]
    if "agents" in res:
        lines.append(f"  Metrics with          {res['agents']:>7d} agents")
    lines += [
        f"  Service level         {_pct(res['service_level'])}",
        f"  ASA                   {_sec(res['asa_seconds'])}",
        f"  Occupancy             {_pct(res['occupancy'])}",
        f"  Probability of wait   {_pct(res['wait_probability'])}",
    ]
    if "abandonment" in res:
        lines.append(f"  Abandonment           {_pct(res['abandonment'])}")
    head = "  agents   service level        ASA   occupancy"
    if "abandonment" in res:
        head += "   abandon"
    lines += ["", head]
    mark = res.get("agents", res["agents_required"])
    for row in res["_table"]:
        line = (f"  {row['agents']:>6d}   {_pct(row['service_level']):>13}  "
                f"{_sec(row['asa_seconds']):>9}   {_pct(row['occupancy']):>9}")
        if "abandonment" in row:
            line += f"   {_pct(row['abandonment']):>7}"
        if row["agents"] == mark:
            line += "  <"
        lines.append(line)
    return "\n".join(lines)


@command("erlang")
def erlang_cmd(
    volume: float = typer.Option(..., "--volume", "-v", help="contacts offered in the interval"),
    interval_minutes: int = typer.Option(15, "--interval-minutes", "-i",
                                         help="interval length [min]"),
    aht: float = typer.Option(..., "--aht", "-a", help="average handle time [s]"),
    target: float = typer.Option(0.8, "--target", "-t",
                                 help="service-level target, share answered in time (0-1)"),
    answer_seconds: float = typer.Option(20.0, "--answer-seconds", "-T",
                                         help="the T of 'X %% answered within T seconds' [s]"),
    patience: float = typer.Option(None, "--patience", "-p",
                                   help="mean customer patience [s]: Erlang A with abandonment"),
    max_occupancy: float = typer.Option(None, "--max-occupancy",
                                        help="occupancy cap (0-1)"),
    asa_target: float = typer.Option(None, "--asa-target",
                                     help="maximum average speed of answer [s]"),
    agents: int = typer.Option(None, "--agents", "-n",
                               help="show the metrics with this many agents"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Erlang C / Erlang A calculator: agents needed for a service level, and the metrics.

    Example: wfm erlang --volume 100 --interval-minutes 30 --aht 180 --target 0.8
    --answer-seconds 20
    """
    res = erlang_calculation(volume, interval_minutes, aht, target, answer_seconds, patience,
                             max_occupancy, agents, asa_target)
    if as_json:
        res.pop("_table")
        typer.echo(json.dumps(res))
    else:
        typer.echo(_render(res))


@command("requirements")
def requirements_cmd(
    forecast: Path = typer.Option(..., "--forecast", "-f", help="forecast CSV/Parquet"),
    scenario: Path = typer.Option(..., "--scenario", "-s", help="scenario TOML"),
    out: Path = typer.Option(..., "--out", "-o", help="requirements file to write "
                                                      "(.csv, .csv.gz or .parquet)"),
    policy: str = typer.Option("level", "--deferred-policy",
                               help="backlog policy of deferred channels: level or jit"),
) -> None:
    """Agents needed per channel and interval from a forecast (the requirements stage)."""
    from wfm.config import load_scenario
    from wfm.io import read_frame, write_frame
    from wfm.staffing import requirements

    scen = load_scenario(scenario)
    progress(f"reading {forecast}")
    fc = read_frame(forecast, "forecast", scen)
    progress(f"computing requirements for {len(fc)} forecast rows")
    req = requirements(fc, scen, deferred_policy=policy)
    path = write_frame(req, out, "requirements")
    hours = req.groupby("channel", sort=False)["agents_required"].sum() * (
        scen.site.interval_minutes / 60.0)
    progress("agent-hours to schedule: " + ", ".join(f"{k} {v:,.0f}" for k, v in hours.items()))
    typer.echo(str(path))
