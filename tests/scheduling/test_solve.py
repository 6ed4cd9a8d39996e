"""Solver wrapper (wfm.scheduling.solve): a MIP start reaches CBC; HiGHS runs
with any thread count one after the other; a HiGHS run misled by its start
is solved again and reports its solution's own objective.

(HiGHS's start is exercised by the scheduler's steps; its node limits end in
a status PuLP cannot map, so it is not stopped at the root here.)
"""

from __future__ import annotations

import random

import pulp
import pytest

from wfm.errors import SchedulingError
from wfm.scheduling import available_solvers
from wfm.scheduling.solve import solve

#: CBC stopped at the root without its own heuristics: a solution can only
#: come from the start.
ROOT_ONLY = {"maxNodes": 0, "heuristicsOnOff": "off", "cuts": "off"}
needs_cbc = pytest.mark.skipif("cbc" not in available_solvers(),
                               reason="CBC not installed (apt-get install coinor-cbc)")


def _knapsack(n: int = 40, cap: int = 300):
    """Pick items (values 5-40, weights 5-40) against a soft capacity: the
    continuous ``over`` pays 3 per unit of weight above ``cap``."""
    rng = random.Random(3)
    val = [rng.randint(5, 40) for _ in range(n)]
    wt = [rng.randint(5, 40) for _ in range(n)]
    p = pulp.LpProblem("knapsack", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{i}", 0, 1, cat=pulp.LpInteger) for i in range(n)]
    over = pulp.LpVariable("over", 0)
    p += -pulp.lpSum(v * xi for v, xi in zip(val, x)) + 3 * over
    p += pulp.lpSum(w * xi for w, xi in zip(wt, x)) - over <= cap
    return p, x, val, wt, cap


@needs_cbc
def test_cbc_mip_start_gives_a_solution_at_least_as_good():
    p, x, val, wt, cap = _knapsack()
    pick = set(range(12))
    start_cost = -sum(val[i] for i in pick) + 3 * max(0, sum(wt[i] for i in pick) - cap)
    start = {xi: float(i in pick) for i, xi in enumerate(x)}
    rep = solve(p, "cbc", options=ROOT_ONLY, start=start)
    assert rep.has_solution
    assert rep.objective <= start_cost + 1e-6
    # the continuous variable was solved for, not read as 0
    assert pulp.value(p.objective) == pytest.approx(rep.objective)


@needs_cbc
def test_cbc_without_start_finds_nothing_at_the_root():
    # the instance needs the start: CBC stopped at the root finds nothing alone
    p, *_ = _knapsack()
    with pytest.raises(SchedulingError, match="without a solution"):
        solve(p, "cbc", options=ROOT_ONLY)



@needs_cbc
def test_cbc_that_aborts_on_its_start_solves_again_without_it(monkeypatch):
    # CBC 2.10 aborts on a start after preprocessing some models (seen on the
    # step-2 assignment models); the solve is repeated without the start
    # instead of failing
    p, x, *_ = _knapsack()
    real = pulp.LpProblem.solve
    calls = []

    def abort_when_warm(self, solver=None, **kw):
        calls.append(solver.optionsDict.get("warmStart", False))
        if calls[-1]:
            raise pulp.PulpSolverError("Pulp: Error while trying to execute cbc")
        return real(self, solver, **kw)

    monkeypatch.setattr(pulp.LpProblem, "solve", abort_when_warm)
    rep = solve(p, "cbc", time_limit=30, start={xi: 0.0 for xi in x})
    assert calls == [True, False]
    assert rep.status == "optimal" and rep.has_solution

    def always_abort(self, solver=None, **kw):
        raise pulp.PulpSolverError("Pulp: Error while trying to execute cbc")

    # without a start an abort is the caller's error
    monkeypatch.setattr(pulp.LpProblem, "solve", always_abort)
    with pytest.raises(pulp.PulpSolverError):
        solve(p, "cbc", time_limit=30)


@needs_cbc
def test_cbc_leaves_no_files_behind_even_when_it_aborts(monkeypatch, tmp_path):
    # PuLP writes the model (.mps) and the start (.mst) to the temporary
    # directory and only removes them when CBC succeeds; an abort on a start
    # (CBC 2.10, see above) left ~0.5 MB per solve in /tmp
    import importlib
    import tempfile

    solve_mod = importlib.import_module("wfm.scheduling.solve")

    # PuLP reads TMPDIR, Python's tempfile its own setting
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    p, x, *_ = _knapsack()
    solve(p, "cbc", time_limit=30, start={xi: 0.0 for xi in x})
    assert list(tmp_path.iterdir()) == []

    real_cls = solve_mod._cbc_solver_class()

    class Aborting(real_cls):
        """A CBC binary that exits with an error: PuLP's own abort path."""

        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            self.path = "/bin/false"

    monkeypatch.setattr(solve_mod, "_cbc_solver_class", lambda: Aborting)
    with pytest.raises(pulp.PulpSolverError):
        solve(p, "cbc", time_limit=30, start={xi: 0.0 for xi in x})
    assert list(tmp_path.iterdir()) == []


def test_highs_runs_with_another_thread_count_after_a_run():
    # HiGHS sizes its scheduler by a thread's first run and refuses another
    # thread count later unless the scheduler is reset (seen as "Not Set")
    for threads in (None, 1, 2, 1, None):
        p, *_ = _knapsack()
        rep = solve(p, "highs", threads=threads, time_limit=30)
        assert rep.status == "optimal", threads


def _market_split(m: int = 4, n: int = 32, seed: int = 5, offset: float = 0.0):
    """A market-split instance (Cornuejols and Dawande): a few equality rows of
    random coefficients on binaries, deviations priced; HiGHS takes far more
    than a minute on it, and any 0/1 point is a solution. Its bound stays
    near ``offset`` (a fixed variable's cost)."""
    rng = random.Random(seed)
    p = pulp.LpProblem("market_split", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{j}", cat=pulp.LpBinary) for j in range(n)]
    dev = []
    for i in range(m):
        a = [rng.randint(0, 99) for _ in range(n)]
        up, down = pulp.LpVariable(f"up{i}", 0), pulp.LpVariable(f"down{i}", 0)
        p += pulp.lpSum(aj * xj for aj, xj in zip(a, x)) + up - down == sum(a) // 2, f"split{i}"
        dev += [up, down]
    fixed = pulp.LpVariable("fixed", 1, 1)
    p += pulp.lpSum(dev) + offset * fixed
    return p


def test_highs_mip_stops_when_asked_from_another_thread_and_keeps_its_incumbent():
    import threading
    import time

    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    t = time.perf_counter()
    rep = solve(_market_split(), "highs", time_limit=120, stop=stop)
    timer.join()
    # interrupted long before its time limit, reported as stopped by a limit
    assert time.perf_counter() - t < 30
    assert rep.status == "time_limit" and rep.has_solution
    assert rep.best_bound is not None and rep.objective > rep.best_bound


def test_highs_mip_stops_once_its_bound_passes_the_stop_events_limit():
    import threading
    import time

    from wfm.scheduling.solve import StopEvent

    # the limit is set while the MIP runs (its bound, about 500, is below
    # the first limit): it stops at its next check, with its incumbent
    stop = StopEvent()
    stop.bound_above = 600.0
    timer = threading.Timer(1.0, lambda: setattr(stop, "bound_above", 400.0))
    timer.start()
    t = time.perf_counter()
    rep = solve(_market_split(offset=500.0), "highs", time_limit=120, stop=stop)
    timer.join()
    assert time.perf_counter() - t < 30
    assert not stop.is_set()
    assert rep.status == "time_limit" and rep.has_solution
    assert 400.0 < rep.best_bound < 600.0 and rep.objective > rep.best_bound


def _misled_first_run(monkeypatch, seconds: float | None = None):
    """Make the first HiGHS run of each solve report its solution 5 below what
    it is worth, as HiGHS 1.16.0 does after pricing a start wrongly in its
    presolved model; record each run's options and start."""
    import importlib
    from dataclasses import replace

    ws = importlib.import_module("wfm.scheduling.solve")

    real = ws._run_highs
    runs = []

    def run(problem, time_limit, gap, msg, threads, mip, options, start=None, stop=None):
        rep = real(problem, time_limit, gap, msg, threads, mip, options, start, stop)
        runs.append((options, start))
        if len(runs) == 1:
            rep = replace(rep, objective=rep.objective - 5.0, best_bound=rep.objective - 5.0,
                          status="optimal", seconds=rep.seconds if seconds is None else seconds)
        return rep

    monkeypatch.setattr(ws, "_run_highs", run)
    return runs


def test_highs_run_misled_by_its_start_is_solved_again_without_presolve(monkeypatch):
    p, x, *_ = _knapsack()
    exact = solve(p, "highs").objective
    runs = _misled_first_run(monkeypatch)
    rep = solve(p, "highs", time_limit=30, start={xi: 0.0 for xi in x})
    # the second run starts from the first's solution, with presolve off
    assert len(runs) == 2 and runs[1][0] == {"presolve": "off"}
    assert set(runs[1][1]) == set(p.variables())
    # reported: the solution's own objective (not the first run's), proven
    assert rep.objective == pytest.approx(exact, abs=1e-6)
    assert rep.objective == pytest.approx(pulp.value(p.objective), abs=1e-6)
    assert rep.status == "optimal" and rep.has_solution
    assert rep.best_bound == pytest.approx(exact, abs=1e-6)


def test_highs_run_misled_by_its_start_without_time_left_says_so(monkeypatch):
    p, x, *_ = _knapsack()
    runs = _misled_first_run(monkeypatch, seconds=30.0)
    rep = solve(p, "highs", time_limit=30, start={xi: 0.0 for xi in x})
    assert len(runs) == 1
    # the solution's own objective; the run's bound, still a bound; not proven
    assert rep.objective == pytest.approx(pulp.value(p.objective), abs=1e-6)
    assert rep.best_bound == pytest.approx(rep.objective - 5.0, abs=1e-6)
    assert rep.status == "time_limit" and rep.gap > 0
