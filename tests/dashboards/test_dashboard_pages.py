"""Every dashboard page under ``streamlit.testing.v1.AppTest``.

The app runs on the tiny scenario of ``conftest.py`` whose plan is computed
once per session into a private cache folder; each test switches to a page,
changes its widgets and checks the elements a planner relies on are there and
that no exception was rendered.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
#: Seconds per script run; the first run imports wfm and reads the cached plan.
APP_TIMEOUT = 30


def open_page(page: str | None) -> AppTest:
    """Run the app, then switch to ``views/<page>.py`` (None: the default page)."""
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    at.run()
    if page is not None:
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def frame(at: AppTest, *columns: str, without: tuple[str, ...] = ()) -> pd.DataFrame:
    """The first table on the page having ``columns`` (and none of ``without``)."""
    for d in at.dataframe:
        v = d.value
        if set(columns) <= set(v.columns) and not set(without) & set(v.columns):
            return v
    raise AssertionError(f"no table with columns {columns} on the page; tables: "
                         f"{[list(d.value.columns) for d in at.dataframe]}")


def charts_on(at: AppTest) -> int:
    """Number of Altair/Vega-Lite charts on the current page."""
    return len(at.get("vega_lite_chart"))


def test_coverage_is_the_default_page(dashboard_env: Path) -> None:
    at = open_page(None)
    no_exceptions(at)
    assert [t.value for t in at.title] == ["Coverage gaps"]
    labels = [m.label for m in at.metric]
    for want in ("Service level achieved", "Under-staffed agent-hours",
                 "Intervals below service target", "Worst gap in one interval"):
        assert want in labels
    # one heatmap per channel and the required-vs-scheduled lines of one channel
    assert charts_on(at) == 3 + 1
    at.segmented_control(key="cov_line_channel").set_value("chat").run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 4
    assert len(frame(at, "timestamp", "channel", "gap")) > 0
    assert frame(at, "agent_id", "shift") is not None or at.info


def test_coverage_filters_and_interval_inspector(dashboard_env: Path) -> None:
    at = open_page(None)
    sl_all = at.metric[0].value
    at.multiselect(key="cov_channels").set_value(["voice"]).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 2
    assert at.metric[0].value != "" and sl_all != ""
    # only voice rows in the worst-interval table now
    worst = frame(at, "timestamp", "channel", "gap")
    assert set(worst["channel"]) <= {"voice"}

    box = at.selectbox(key="cov_interval")
    # options are shown as labels; the value is the interval's position
    noon = next(i for i, lab in enumerate(box.options) if lab.endswith("11:00"))
    box.set_value(noon).run(timeout=APP_TIMEOUT)
    assert at.selectbox(key="cov_interval").value == noon
    no_exceptions(at)
    here = frame(at, "channel", "required", "scheduled", without=("timestamp",))
    assert list(here["channel"]) == ["voice"]
    on = frame(at, "agent_id", "shift")
    assert len(on) >= 1 and "voice" in on.columns
    # the agents on voice add up to the scheduled heads of the interval
    assert on["voice"].fillna(0).sum() == pytest.approx(here["scheduled"].iloc[0], abs=0.05)

    day_one = at.date_input(key="cov_dates").value[0]
    at.date_input(key="cov_dates").set_value((day_one, day_one)).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 2


def test_what_if_sliders_change_the_gaps(dashboard_env: Path) -> None:
    at = open_page("what_if")
    no_exceptions(at)
    assert [t.value for t in at.title] == ["What-if"]
    table0 = frame(at, "required_hours (what-if)")
    base_req = table0.set_index("channel")["required_hours (what-if)"]
    assert table0["required_hours (baseline)"].equals(table0["required_hours (what-if)"])

    at.slider(key="wi_volume").set_value(1.3).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert any("volume x1.3" in m.value for m in at.markdown)
    up = frame(at, "required_hours (what-if)").set_index("channel")["required_hours (what-if)"]
    for ch in ("voice", "chat", "email"):
        assert up[ch] > base_req[ch]
    # the cards compare with the baseline
    assert all(m.delta is not None for m in at.metric)

    at.slider(key="wi_volume").set_value(1.0)
    at.selectbox(key="wi_from").set_value("voice")
    at.selectbox(key="wi_to").set_value("chat")
    at.slider(key="wi_share").set_value(0.2).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    moved = frame(at, "required_hours (what-if)").set_index("channel")
    assert moved.loc["voice", "required_hours (what-if)"] < base_req["voice"]
    assert moved.loc["chat", "required_hours (what-if)"] > base_req["chat"]

    at.slider(key="wi_shrinkage").set_value(0.4)
    at.slider(key="wi_target").set_value(0.9).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 3
    at.selectbox(key="wi_channel").set_value("email").run(timeout=APP_TIMEOUT)
    no_exceptions(at)


def test_data_page_history_overview(dashboard_env: Path) -> None:
    at = open_page("data_sources")
    no_exceptions(at)
    assert [t.value for t in at.title] == ["Data"]
    assert charts_on(at) == 2  # volume and AHT
    at.segmented_control(key="hist_grain").set_value("week").run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 2
    at.segmented_control(key="hist_grain").set_value("interval").run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 2
    at.multiselect(key="hist_channels").set_value(["email"]).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    roster = frame(at, "skills")
    assert len(roster) == 10


def test_data_page_bad_upload_shows_the_report(dashboard_env: Path) -> None:
    at = open_page("data_sources")
    bad = (b"timestamp,channel,volume\n"
           b"2026-11-01T08:00:00+01:00,voice,12\n"
           b"not-a-time,voice,-3\n")
    at.file_uploader(key="up_history").set_value(("history.csv", bad, "text/csv"))
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert any("problem" in e.value for e in at.error)
    report = frame(at, "severity", "rule")
    assert {"severity", "column", "rows", "found", "expected"} <= set(report.columns)
    assert (report["severity"] == "error").any()
    assert not [b for b in at.button if b.key == "use_uploads"]


def test_data_page_good_upload_switches_the_scenario(dashboard_env: Path,
                                                     tiny_scenario: Path) -> None:
    at = open_page("data_sources")
    roster = (tiny_scenario.parent / "roster.csv").read_bytes()
    at.file_uploader(key="up_roster").set_value(("roster.csv", roster, "text/csv"))
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert any("valid" in s.value for s in at.success)
    at.button(key="use_uploads").click().run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    src = at.session_state["wfm_source"]
    assert src.roster_path is not None and src.roster_path.endswith("roster.csv")
    assert any("uploads" in m.value for m in at.markdown)


def test_data_page_bad_scenario_upload(dashboard_env: Path) -> None:
    at = open_page("data_sources")
    at.file_uploader(key="up_scenario").set_value(
        ("scenario.toml", b"[site]\ntimezone = 'Mars/Olympus'\n", "application/toml"))
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert any("Scenario" in e.value for e in at.error)
    assert any("timezone" in c.value for c in at.code)


def test_forecast_page(dashboard_env: Path) -> None:
    at = open_page("forecast")
    no_exceptions(at)
    assert [t.value for t in at.title] == ["Forecast"]
    assert charts_on(at) == 1
    bt = frame(at, "wape", "n_origins")
    assert set(bt["channel"]) == {"voice"} and "wape" in bt.columns
    at.selectbox(key="fc_channel").set_value("chat").run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert set(frame(at, "wape", "n_origins")["channel"]) == {"chat"}
    # another model in the background; the page shows its progress, then the result
    at.selectbox(key="fc_model").set_value("daily_profile")
    at.number_input(key="fc_horizon").set_value(3)
    at.button(key="fc_run").click().run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    from dashboards import data

    job = data.get_job(f"forecast:{data.default_source().fingerprint}:daily_profile:3")
    assert job is not None and job.wait(60) and job.error is None
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert any("daily_profile" in c.value for c in at.caption)
    table = frame(at, "volume_lo")
    assert pd.to_datetime(table["timestamp"].str.slice(0, 10)).nunique() == 3


def test_staffing_page_edits_and_erlang(dashboard_env: Path) -> None:
    at = open_page("staffing")
    no_exceptions(at)
    assert [t.value for t in at.title] == ["Staffing"]
    summary = frame(at, "required agent-hours (edited)").set_index("channel")
    before = summary["required agent-hours (edited)"].copy()
    assert before.equals(summary["required agent-hours (scenario)"])

    # Erlang calculator: 120 contacts in 15 min at 300 s = 40 Erlangs; 80/20 needs
    # 48 agents when occupancy is capped at 85 % (40/0.85 = 47.06 -> 48).
    at.number_input(key="erl_volume").set_value(120.0)
    at.selectbox(key="erl_interval").set_value(15)
    at.number_input(key="erl_aht").set_value(300.0)
    at.slider(key="erl_occ").set_value(0.85).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Agents"] == "48"
    assert metrics["Traffic [Erlang]"] == "40.00"
    curve = frame(at, "agents", "asa_seconds")
    assert curve["service_level"].is_monotonic_increasing
    at.number_input(key="erl_patience").set_value(90.0).run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert int({m.label: m.value for m in at.metric}["Agents"]) <= 48
    assert any("Abandonment" in c.value for c in at.caption)

    at.selectbox(key="staff_channel").set_value("chat").run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 2  # requirements lines + SL curve


def test_staffing_edit_raises_requirements(dashboard_env: Path) -> None:
    from dashboards import data

    src = data.default_source()
    scen = data.load_source_scenario(src)
    table = pd.DataFrame({"channel": ["voice"], "service_level_target": [0.8],
                          "answer_seconds": [20.0], "response_time_hours": [None],
                          "shrinkage": [0.25], "max_occupancy": [0.85]})
    edited = table.assign(service_level_target=[0.95], shrinkage=[0.35])
    ov = data.staffing_overrides(scen, table, edited)
    assert ov == {"channels.voice.service_level_target": 0.95,
                  "channels.voice.shrinkage": 0.35}
    at = open_page("staffing")
    at.session_state["staffing_overrides"] = ov
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    req_edit, _ = data.requirements_with(src, ov)
    p = data.plan(src)
    voice = lambda r: r.loc[r["channel"] == "voice", "agents_required"].sum()  # noqa: E731
    assert voice(req_edit) > voice(p.requirements)


def test_schedule_page_runs_the_optimiser_in_the_background(dashboard_env: Path) -> None:
    from dashboards import data

    at = open_page("schedule")
    no_exceptions(at)
    assert [t.value for t in at.title] == ["Schedule"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Solver status"] in {"optimal", "feasible", "time_limit"}
    assert charts_on(at) == 2  # Gantt + hours vs contract
    days = at.selectbox(key="sched_day").options
    at.selectbox(key="sched_day").set_value(at.selectbox(key="sched_day").options[-1])
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert len(days) == 2
    shifts_csv = [d for d in at.get("download_button")]
    assert len(shifts_csv) == 2

    src = data.default_source()
    version = data._plan_version(src)
    at.slider(key="sched_limit").set_value(15)
    at.button[0].click().run(timeout=APP_TIMEOUT)  # the form's submit button
    no_exceptions(at)
    job = data.get_job(data.schedule_job_key(src))
    assert job is not None
    assert job.wait(90), "the scheduler did not finish within 90 s"
    assert job.error is None, job.error
    assert data._plan_version(src) != version  # the new schedule is the current one
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert at.success and "New schedule" in at.success[0].value
    assert {m.label: m.value for m in at.metric}["Solver status"] in {
        "optimal", "feasible", "time_limit"}


@pytest.mark.slow
def test_first_visit_computes_the_plan_in_the_background(
        monkeypatch: pytest.MonkeyPatch, tiny_scenario: Path, tmp_path: Path) -> None:
    """Empty cache: the page says what is happening, the plan is computed, then shown."""
    from dashboards import data

    monkeypatch.setenv("WFM_DASHBOARD_SCENARIO", str(tiny_scenario))
    monkeypatch.setenv("WFM_DASHBOARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("WFM_DASHBOARD_TIME_LIMIT", "15")
    at = open_page(None)
    no_exceptions(at)
    assert any("First visit" in i.value for i in at.info)
    assert charts_on(at) == 0
    job = data.get_job(f"plan:{data.default_source().fingerprint}")
    assert job is not None and job.wait(120) and job.error is None, job.error
    assert (tmp_path / "cache" / data.default_source().fingerprint / "current"
            / "schedule.json").is_file()
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert charts_on(at) == 4
    assert data.plan(data.default_source()).schedule_meta["time_limit"] == 15.0


def test_a_plan_that_fails_offers_a_retry(monkeypatch: pytest.MonkeyPatch,
                                          tiny_scenario: Path, tmp_path: Path) -> None:
    from dashboards import data

    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("scenario.toml", "history.csv"):
        (broken / name).write_bytes((tiny_scenario.parent / name).read_bytes())
    # no roster.csv: the plan fails at the scheduling step with a clear message
    monkeypatch.setenv("WFM_DASHBOARD_SCENARIO", str(broken / "scenario.toml"))
    monkeypatch.setenv("WFM_DASHBOARD_CACHE", str(tmp_path / "cache"))
    at = open_page(None)
    job = data.get_job(f"plan:{data.default_source().fingerprint}")
    assert job is not None and job.wait(60)
    assert job.error and "roster.csv" in job.error
    at.run(timeout=APP_TIMEOUT)
    no_exceptions(at)
    assert any("failed" in e.value for e in at.error)
    assert at.button(key="retry_plan") is not None
