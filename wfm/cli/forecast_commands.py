"""CLI: ``wfm forecast``."""

from __future__ import annotations

from pathlib import Path

import typer

from wfm.cli._app import command, fail, progress


@command("forecast")
def forecast(
    history: Path = typer.Option(None, "--history", "-H",
                                 help="history file (CSV, CSV.gz or Parquet): timestamp, "
                                      "channel, volume[, aht_seconds] (default: the "
                                      "scenario's [data] history)"),
    out: Path = typer.Option(..., "--out", "-o",
                             help="forecast file to write (CSV, CSV.gz or Parquet)"),
    scenario: Path = typer.Option(None, "--scenario", "-s",
                                  help="scenario TOML (time zone, interval, channels, "
                                       "special days); without it the interval and the "
                                       "channels come from the history"),
    horizon_days: int = typer.Option(None, "--horizon-days", "-d", min=1, max=366,
                                     help="days to forecast (default: the scenario's "
                                          "forecast.horizon_days, else 14)"),
    model: str = typer.Option(None, "--model", "-m",
                              help="auto (best backtest WAPE per channel) or a model name: "
                                   "seasonal_naive, seasonal_naive_avg, daily_profile, "
                                   "mstl, regression, derived (default: the scenario's)"),
    backtest_out: Path = typer.Option(None, "--backtest",
                                      help="also write the backtest table (WAPE, MASE, "
                                           "bias, coverage per channel and model) here"),
    tz: str = typer.Option(None, "--tz", help="time zone without a scenario "
                                               "(default Europe/Berlin)"),
    no_backtest: bool = typer.Option(False, "--no-backtest",
                                     help="skip the model comparison (faster); the "
                                          "interval is still calibrated"),
    executor: str = typer.Option(
        "local", "--executor", "-e",
        help="multi-site scenarios: where the series run, local (one process, or a pool "
             "with --workers N) or dask"),
    workers: int = typer.Option(None, "--workers", min=1,
                                help="local: processes (default 1); dask: LocalCluster "
                                     "workers (default: CPU cores)"),
    scheduler_address: str = typer.Option(
        None, "--scheduler-address", help="Dask scheduler tcp://HOST:PORT of a running "
                                          "cluster (default: start a LocalCluster)"),
) -> None:
    """Forecast volume and AHT per channel and interval with 80 % prediction intervals.

    Writes timestamp, channel, volume, volume_lo, volume_hi, aht_seconds, model.
    Progress per channel goes to stderr; the model chosen per channel and why
    is printed at the end.
    """
    from wfm.config import Scenario, apply_overrides, load_scenario
    from wfm.forecast import run_forecast
    from wfm.forecast.models import check_model_name
    from wfm.io import read_history, write_frame

    if no_backtest and backtest_out is not None:
        fail("--backtest and --no-backtest exclude each other")
    from wfm.parallel import Executor

    ex = Executor(executor, workers=workers, address=scheduler_address)
    if scenario is not None:
        from wfm.config import load_group
        group = load_group(scenario)
        if group.multi_site:
            _forecast_group(group, history, out, horizon_days, model, backtest_out,
                            not no_backtest, ex)
            return
    sc = load_scenario(scenario) if scenario is not None else None
    if history is None:
        if sc is None or sc.data.history is None:
            fail("--history is required (or a --scenario with a [data] history file)")
        history = sc.resolve(sc.data.history)
    name = model or (sc.forecast.model if sc is not None else "auto")
    check_model_name(name)
    progress(f"reading {history}")
    if sc is None:
        frame = read_history(history, None, tz=tz, gaps="warning")
        if tz is not None:
            # no channels: they and the interval length still come from the history
            sc = apply_overrides(Scenario(), {"site.timezone": tz})
    else:
        frame = read_history(history, sc, gaps="warning")
    result = run_forecast(frame, sc, horizon_days=horizon_days, model=name,
                          backtest=not no_backtest, progress=progress)
    write_frame(result.forecast, out, "forecast")
    progress(f"wrote {len(result.forecast)} rows to {out}")
    if backtest_out is not None:
        write_frame(result.backtest, backtest_out)
        progress(f"wrote the backtest ({len(result.backtest)} rows) to {backtest_out}")
    for row in result.selection.itertuples(index=False):
        line = f"{row.channel}: {row.model or '-'}"
        if row.reason:
            line += f" - {row.reason}"
        if row.warning:
            line += f" [warning: {row.warning}]"
        progress(line)


def _forecast_group(group, history, out, horizon_days, model, backtest_out, backtest, ex):
    from wfm.forecast.models import check_model_name
    from wfm.group import forecast_group, with_history
    from wfm.io import write_frame

    if model is not None:
        check_model_name(model)
        for name, sc in list(group.sites.items()):
            group.sites[name] = sc.model_copy(update={
                "forecast": sc.forecast.model_copy(update={"model": model})})
    if history is not None:
        group = with_history(group, history)
    gf = forecast_group(group, executor=ex, backtest=backtest,
                        horizon_days=horizon_days, progress=progress)
    fc = gf.forecast
    write_frame(fc, out)
    progress(f"wrote {len(fc)} rows of {len(gf.sites)} sites to {out}")
    if backtest_out is not None:
        bt = gf.backtest
        write_frame(bt, backtest_out)
        progress(f"wrote the backtest ({len(bt)} rows) to {backtest_out}")
    for r in gf.failures.itertuples():
        progress(f"failed: {r.site}/{r.channels}: {r.error_type}: {r.message}")
    if not gf.failures.empty:
        raise typer.Exit(4)
