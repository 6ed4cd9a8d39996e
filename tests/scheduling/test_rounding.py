"""Cumulative rounding of the LP's shift counts (step 1 -> integers)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from wfm.scheduling.model import ROUND_UP_AT, round_counts


def _catalog(n: int, families: int = 1):
    """n shift types, split round-robin over ``families`` (day), starts 30 min apart."""
    idx = np.arange(n)
    return SimpleNamespace(day=idx % families, template=np.zeros(n, int),
                           length=np.full(n, 8), start_abs=idx * 2)


def test_running_sum_rounds_up_from_the_threshold():
    cat = _catalog(3)
    # running sums 0.45, 0.9, 1.3: the first crosses ROUND_UP_AT (0.4) -> one shift there
    assert ROUND_UP_AT == 0.4
    assert round_counts({(0, 0): 0.45, (0, 1): 0.45, (0, 2): 0.4}, cat) == {(0, 0): 1}
    # running sums 0.3, 0.6: the shift lands where the mass passes the threshold
    assert round_counts({(0, 0): 0.3, (0, 1): 0.3}, cat) == {(0, 1): 1}
    # whole numbers stay as they are; groups are rounded apart
    assert round_counts({(0, 0): 2.0, (1, 0): 0.2, (1, 2): 0.1}, cat) == {(0, 0): 2}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 3.0), min_size=1, max_size=12), st.integers(1, 3))
def test_each_family_total_moves_by_less_than_one(xs, families):
    cat = _catalog(len(xs), families)
    out = round_counts({(0, s): x for s, x in enumerate(xs)}, cat)
    assert all(v >= 1 for v in out.values())
    for f in range(families):
        lp = sum(x for s, x in enumerate(xs) if cat.day[s] == f)
        got = sum(v for (_, s), v in out.items() if cat.day[s] == f)
        assert lp - ROUND_UP_AT - 1e-9 < got < lp + (1 - ROUND_UP_AT) + 1e-9


def test_round_breaks_keeps_each_pool_total_and_stays_next_to_the_lp():
    import math

    import pulp

    from wfm.scheduling.model import round_breaks

    rng = np.random.default_rng(5)
    breaks = {}
    for pool in range(20):
        k = int(rng.integers(1, 12))
        x = rng.dirichlet(np.ones(int(rng.integers(1, 7)))) * k
        bv = [pulp.LpVariable(f"b{pool}_{j}", 0, k, cat=pulp.LpInteger) for j in range(x.size)]
        for v, xv in zip(bv, x):
            v.varValue = float(xv)
        breaks[(0, pool)] = bv
    out = round_breaks(breaks, box=True)
    for bv in breaks.values():
        lp = [v.varValue for v in bv]
        assert sum(out[v] for v in bv) == round(sum(lp))
        for v, xv in zip(bv, lp):
            assert math.floor(xv + 1e-6) <= out[v] <= math.ceil(xv - 1e-6)
            assert v.lowBound <= out[v] <= v.upBound
            assert v.upBound - v.lowBound <= 1
