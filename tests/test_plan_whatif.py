"""What-if transformations and plan comparison (wfm.plan), on small frames built here."""

import numpy as np
import pandas as pd
import pytest

from wfm.config import scenario_from_dict
from wfm.errors import ConfigError, WfmError
from wfm.plan import ChannelShift, WhatIf, apply_what_if, compare_plans


@pytest.fixture
def scenario():
    return scenario_from_dict({
        "channels": [
            {"name": "voice", "aht_seconds": 300, "patience_seconds": 120},
            {"name": "chat", "kind": "concurrent", "concurrency": 2, "aht_seconds": 600,
             "service_level_target": 0.7, "answer_seconds": 60},
            {"name": "email", "kind": "deferred", "shrinkage": 0.2},
        ],
    })


@pytest.fixture
def forecast():
    ts = pd.date_range("2026-11-16 08:00", periods=4, freq="15min", tz="Europe/Berlin")
    rows = []
    for ch, vol, aht in (("voice", 40.0, 300.0), ("chat", 10.0, 600.0), ("email", 5.0, 400.0)):
        for i, t in enumerate(ts):
            rows.append({"timestamp": t, "channel": ch, "volume": vol + i,
                         "volume_lo": vol + i - 2, "volume_hi": vol + i + 2,
                         "aht_seconds": aht, "model": "test"})
    return pd.DataFrame(rows)


def test_identity_changes_nothing(forecast, scenario):
    fc, scen = apply_what_if(forecast, scenario, WhatIf())
    pd.testing.assert_frame_equal(fc, forecast)
    assert scen is scenario


def test_volume_and_aht_factors(forecast, scenario):
    fc, _ = apply_what_if(forecast, scenario, WhatIf(volume_factor=1.1, aht_factor=0.5))
    np.testing.assert_allclose(fc["volume"], forecast["volume"] * 1.1)
    np.testing.assert_allclose(fc["volume_hi"], forecast["volume_hi"] * 1.1)
    np.testing.assert_allclose(fc["aht_seconds"], forecast["aht_seconds"] * 0.5)


def test_channel_shift_moves_volume_and_keeps_total(forecast, scenario):
    wi = WhatIf(shift=ChannelShift.parse("voice:chat:0.1"))
    fc, _ = apply_what_if(forecast, scenario, wi)
    v0 = forecast[forecast.channel == "voice"]["volume"].to_numpy()
    c0 = forecast[forecast.channel == "chat"]["volume"].to_numpy()
    v1 = fc[fc.channel == "voice"]["volume"].to_numpy()
    c1 = fc[fc.channel == "chat"]["volume"].to_numpy()
    np.testing.assert_allclose(v1, 0.9 * v0)
    np.testing.assert_allclose(c1, c0 + 0.1 * v0)
    assert fc["volume"].sum() == pytest.approx(forecast["volume"].sum())
    # email untouched
    pd.testing.assert_frame_equal(fc[fc.channel == "email"], forecast[forecast.channel == "email"])


def test_shrinkage_and_target_overrides(forecast, scenario):
    _, scen = apply_what_if(forecast, scenario, WhatIf(shrinkage=0.25, service_level_target=0.9))
    assert scen.staffing.shrinkage == 0.25
    assert scen.shrinkage_of("email") == 0.25  # channel override replaced too
    assert scen.channel("voice").service_level_target == 0.9
    assert scen.channel("chat").service_level_target == 0.9
    assert scenario.staffing.shrinkage == 0.30  # original untouched


@pytest.mark.parametrize("text", ["voice:chat", "voice:chat:x", "voice"])
def test_bad_shift_text(text):
    with pytest.raises(ConfigError, match="SOURCE:TARGET:SHARE|not a number"):
        ChannelShift.parse(text)


def test_shift_unknown_channel(forecast, scenario):
    with pytest.raises(ConfigError, match="not in the forecast"):
        apply_what_if(forecast, scenario, WhatIf(shift=ChannelShift("voice", "fax", 0.1)))


def test_describe():
    assert WhatIf().describe() == "baseline"
    assert "10% of voice moved to chat" in WhatIf(shift=ChannelShift("voice", "chat", 0.1)).describe()


def test_compare_plans(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    pd.DataFrame({"channel": ["voice", "all"], "service_level": [0.8, 0.82],
                  "under_hours": [10.0, 12.0]}).to_csv(a / "kpis.csv", index=False)
    pd.DataFrame({"channel": ["voice", "all"], "service_level": [0.7, 0.75],
                  "under_hours": [15.0, 20.0]}).to_csv(b / "kpis.csv", index=False)
    diff = compare_plans(a, b)
    row = diff[(diff.channel == "voice") & (diff.kpi == "service_level")].iloc[0]
    assert row["change"] == pytest.approx(-0.1)
    with pytest.raises(WfmError, match="not a plan folder"):
        compare_plans(a, tmp_path / "missing")
