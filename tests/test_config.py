"""Scenario configuration: defaults, errors that name file/field/expectation, overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from wfm.config import (
    Channel,
    Scenario,
    Site,
    Staffing,
    apply_overrides,
    load_scenario,
    scenario_from_dict,
)
from wfm.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "scenario.toml"
    p.write_text(text)
    return p


def test_empty_scenario_is_valid_with_documented_defaults():
    s = Scenario()
    assert s.site.timezone == "Europe/Berlin"
    assert s.site.interval_minutes == 15
    assert s.staffing.shrinkage == pytest.approx(0.30)
    assert s.staffing.max_occupancy == pytest.approx(0.85)
    assert s.solver.backend == "highs"
    assert s.agents.min_rest_hours == 11.0
    assert [t.name for t in s.shift_templates] == ["full_day", "part_time"]
    assert s.horizon.days == 7 and s.horizon.start is None


def test_every_field_has_a_description_and_a_default():
    from pydantic import BaseModel

    required_ok = {("Channel", "name"), ("ShiftTemplate", "name"), ("SpecialDay", "date")}
    seen = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, f in model.model_fields.items():
            if (model.__name__, name) not in required_ok:
                assert not f.is_required(), f"{model.__name__}.{name} has no default"
            ann = f.annotation
            for sub in getattr(ann, "__args__", (ann,)):
                for inner in getattr(sub, "__args__", (sub,)):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        walk(inner)

    walk(Scenario)
    documented = [Site, Staffing, Channel]
    for m in documented:
        for name, f in m.model_fields.items():
            assert f.description, f"{m.__name__}.{name} is undocumented"


def test_channel_kind_defaults():
    s = Scenario.model_validate({"channels": [
        {"name": "voice"}, {"name": "mail", "kind": "deferred"},
        {"name": "chat", "kind": "concurrent", "concurrency": 3}]})
    assert s.channel("voice").kind == "realtime"
    assert s.channel("mail").response_time_hours == 24.0  # deferred default
    assert s.channel("chat").concurrency == 3
    assert s.shrinkage_of("voice") == pytest.approx(0.30)
    assert s.max_occupancy_of("chat") == pytest.approx(0.85)


def test_channel_overrides_of_shrinkage_and_occupancy():
    s = Scenario.model_validate({"channels": [
        {"name": "voice", "shrinkage": 0.35, "max_occupancy": 0.9}]})
    assert s.shrinkage_of("voice") == pytest.approx(0.35)
    assert s.max_occupancy_of("voice") == pytest.approx(0.9)


def test_unknown_field_names_file_and_field(tmp_path):
    p = write(tmp_path, '[site]\ntimezone = "Europe/Berlin"\ninterval_minuts = 15\n')
    with pytest.raises(ConfigError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert str(p) in msg
    assert "field 'site.interval_minuts': unknown field" in msg


def test_unknown_field_in_a_named_channel(tmp_path):
    p = write(tmp_path, '[[channels]]\nname = "voice"\nservice_level = 0.8\n')
    with pytest.raises(ConfigError, match=r"field 'channels\['voice'\]\.service_level': "
                                          r"unknown field"):
        load_scenario(p)


def test_wrong_type_says_what_was_expected(tmp_path):
    p = write(tmp_path, '[site]\ninterval_minutes = 20\n\n[staffing]\nshrinkage = "lots"\n')
    with pytest.raises(ConfigError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert "2 problem(s)" in msg
    assert "field 'site.interval_minutes'" in msg and "15, 30 or 60" in msg \
        and "(found 20)" in msg
    assert "field 'staffing.shrinkage'" in msg and "(found 'lots')" in msg


def test_bad_timezone():
    with pytest.raises(ConfigError, match="expected an IANA time zone"):
        scenario_from_dict({"site": {"timezone": "Europe/Cologne"}}, source="x.toml")


def test_shrinkage_of_one_rejected():
    with pytest.raises(ConfigError, match="shrinkage"):
        scenario_from_dict({"staffing": {"shrinkage": 1.0}})


def test_derived_channel_checks():
    base = [{"name": "chatbot", "kind": "concurrent", "concurrency": 10, "staffed": False}]
    ok = scenario_from_dict({"channels": base + [
        {"name": "handoff", "kind": "concurrent", "derived_from": "chatbot",
         "derived_rate": 0.15}]})
    assert ok.channel("handoff").derived_from == "chatbot"
    assert [c.name for c in ok.staffed_channels] == ["handoff"]
    with pytest.raises(ConfigError, match="derived_from 'bot' is not a channel"):
        scenario_from_dict({"channels": base + [
            {"name": "handoff", "derived_from": "bot", "derived_rate": 0.1}]})
    with pytest.raises(ConfigError, match="must be given together"):
        scenario_from_dict({"channels": base + [{"name": "handoff", "derived_from": "chatbot"}]})
    with pytest.raises(ConfigError, match="cannot be derived from itself"):
        scenario_from_dict({"channels": [{"name": "x", "derived_from": "x",
                                          "derived_rate": 0.5}]})
    with pytest.raises(ConfigError, match="derived_rate"):
        scenario_from_dict({"channels": base + [
            {"name": "handoff", "derived_from": "chatbot", "derived_rate": 1.5}]})


def test_duplicate_channels_and_unknown_references():
    with pytest.raises(ConfigError, match=r"duplicated: \['voice'\]"):
        scenario_from_dict({"channels": [{"name": "voice"}, {"name": "voice"}]})
    with pytest.raises(ConfigError, match="shift template 'early': channel 'fax' unknown"):
        scenario_from_dict({"channels": [{"name": "voice"}],
                            "shift_templates": [{"name": "early", "channels": ["fax"]}]})
    with pytest.raises(ConfigError, match="special day 2026-11-20: channel 'fax' unknown"):
        scenario_from_dict({"channels": [{"name": "voice"}],
                            "special_days": [{"date": "2026-11-20", "channels": ["fax"],
                                              "multiplier": 1.2}]})


def test_concurrency_only_for_concurrent():
    with pytest.raises(ConfigError, match="concurrency is only used by kind 'concurrent'"):
        scenario_from_dict({"channels": [{"name": "voice", "concurrency": 2}]})


def test_shift_template_times_and_days():
    s = scenario_from_dict({"shift_templates": [
        {"name": "late", "start_earliest": "12:00", "start_latest": "14:30",
         "days": ["Monday", "fri"]}]})
    t = s.shift_templates[0]
    assert t.start_earliest == dt.time(12, 0) and t.days == ["mon", "fri"]
    with pytest.raises(ConfigError, match="'HH:MM'"):
        scenario_from_dict({"shift_templates": [{"name": "x", "start_earliest": "25:00"}]})
    with pytest.raises(ConfigError, match="weekday names"):
        scenario_from_dict({"shift_templates": [{"name": "x", "days": ["funday"]}]})


def test_file_not_found(tmp_path):
    with pytest.raises(ConfigError, match="scenario file not found"):
        load_scenario(tmp_path / "missing.toml")


def test_toml_syntax_error(tmp_path):
    p = write(tmp_path, "[site\ntimezone = 'x'\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(p)


def test_relative_paths_resolve_against_the_file(tmp_path):
    sub = tmp_path / "center"
    sub.mkdir()
    p = sub / "s.toml"
    p.write_text('[agents]\nfile = "roster.csv"\n[data]\nhistory = "h.parquet"\n')
    s = load_scenario(p)
    assert s.resolve(s.agents.file) == sub.resolve() / "roster.csv"
    assert s.resolve(s.data.history) == sub.resolve() / "h.parquet"
    assert s.source == str(p)


def test_apply_overrides():
    s = scenario_from_dict({"channels": [{"name": "voice"}, {"name": "chat",
                                                             "kind": "concurrent"}]})
    t = apply_overrides(s, {"staffing.shrinkage": 0.25, "channels.chat.concurrency": 3,
                            "solver.time_limit_seconds": 30})
    assert t.staffing.shrinkage == 0.25
    assert t.channel("chat").concurrency == 3
    assert t.solver.time_limit_seconds == 30
    assert s.staffing.shrinkage == pytest.approx(0.30)  # the original is unchanged
    with pytest.raises(ConfigError, match="unknown field 'shrinkag'"):
        apply_overrides(s, {"staffing.shrinkag": 0.2})
    with pytest.raises(ConfigError, match="no item named 'fax'"):
        apply_overrides(s, {"channels.fax.concurrency": 2})
    with pytest.raises(ConfigError, match="with overrides"):
        apply_overrides(s, {"staffing.shrinkage": 1.5})


def test_unknown_channel_lookup():
    s = scenario_from_dict({"channels": [{"name": "voice"}]}, source="s.toml")
    with pytest.raises(ConfigError, match=r"s.toml: unknown channel 'fax'; expected one of "
                                          r"\['voice'\]"):
        s.channel("fax")


def test_bundled_sample_scenario_loads():
    from wfm.sampledata import sample_scenario_path

    s = load_scenario(sample_scenario_path())
    assert s.channel_names == ["voice", "chat", "email", "social", "letters", "chatbot",
                               "chatbot_handoff"]
    assert s.channel("chatbot").staffed is False
    assert s.channel("chatbot_handoff").derived_from == "chatbot"
    assert s.horizon.start == dt.date(2026, 11, 16)
    assert s.resolve(s.agents.file).is_file() and s.resolve(s.data.history).is_file()
