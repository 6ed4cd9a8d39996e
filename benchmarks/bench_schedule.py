"""Benchmark the scheduler: 50, 150 and 500 agents x 7 days x 96 intervals x 6 channels.

Instances use the sample scenario's channels and shift templates, rosters
drawn from the sample roster mix (:func:`wfm.scheduling.synthetic.synthetic_roster`)
and synthetic requirements at 85 % of the roster's contract hours. Each size
runs with HiGHS and CBC in the same process; printed per run: build and solve
time per step (LP relaxation on hourly blocks, the full grid's LP solved
alongside for the bound, rounding or exact shift-count MILP, named agents,
breaks, local search), objective (recomputed from the schedule), best bound (step 1's LP
and the Lagrangian bound at its duals, :mod:`wfm.scheduling.lagrangian`), gap,
LP-relaxation bound, under-coverage, preferences met, the independent
checker's verdict, and the CBC/HiGHS ratios.

Targets on a 2-core machine: 150 agents within 1 % of the bound in <= 120 s;
500 agents feasible within 5 % in <= 600 s.

With ``--reference-bound`` each size's per-agent LP relaxation
(:mod:`wfm.scheduling.reference`, tighter than the scheduler's own bound,
minutes to solve) is solved first and each schedule's gap against it printed.
With ``--column-bound [SECONDS]`` the bound by column generation over agents'
weeks (:mod:`wfm.scheduling.columns`, tighter still; about 25 minutes for 150
agents) likewise, stopped after SECONDS (default 3600) if not converged.

Run: ``python benchmarks/bench_schedule.py [--sizes 50 150 500] [--solvers highs cbc]
[--reference-bound] [--column-bound [SECONDS]]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import tomllib

from wfm import sampledata
from wfm.config import scenario_from_dict
from wfm.scheduling import available_solvers, schedule
from wfm.scheduling.checker import check_schedule
from wfm.scheduling.columns import column_bound
from wfm.scheduling.reference import reference_bound
from wfm.scheduling.solve import rel_gap
from wfm.scheduling.synthetic import synthetic_requirements, synthetic_roster

LIMITS = {50: 60.0, 150: 120.0, 500: 600.0}


def instance(n: int, load: float):
    """(requirements, scenario, roster, first day) of the ``n``-agent instance."""
    start = sampledata.HISTORY_END + dt.timedelta(days=1)
    scen = scenario_from_dict(tomllib.loads(sampledata.scenario_toml("h.csv", "r.csv",
                                                                     start)))
    roster = synthetic_roster(n, seed=11, horizon_start=start)
    cap = float(((roster["min_hours_week"] + roster["max_hours_week"]) / 2).sum())
    req = synthetic_requirements(scen, start, agent_hours=load * cap, seed=12)
    return req, scen, roster, start


def run(n: int, solver: str, limit: float, load: float) -> dict:
    req, scen, roster, start = instance(n, load)
    t = time.perf_counter()
    res = schedule(req, scen, roster, time_limit=limit, solver=solver)
    wall = time.perf_counter() - t
    rep = check_schedule(res.shifts, res.assignments, roster, scen, horizon_start=start,
                         horizon_days=7)
    st = res.stage_seconds
    return {
        "agents": n, "solver": solver, "limit": limit, "status": res.status,
        "build_s": st.get("prepare", 0) + st.get("build_counts", 0),
        "lp_s": st.get("lp_relaxation", 0), "lp_blocks_s": st.get("lp_blocks", 0),
        "lagrangian_s": st.get("lagrangian_bound", 0),
        # the rounding MILPs' seconds added up (they may run side by side)
        "round_s": st.get("rounding", 0) + st.get("rounding_full_grid_lp", 0)
        + st.get("rounding_half_hours", 0) + st.get("shift_counts", 0),
        "assign_s": st.get("assign", 0),
        "breaks_s": st.get("breaks", 0), "improve_s": st.get("improve", 0), "wall_s": wall,
        "objective": res.objective,
        "best_bound": res.best_bound, "gap": res.gap, "lp_bound": res.lp_bound,
        "under_h": float(res.summary["under_agent_hours"].sum()),
        "over_h": float(res.summary["over_agent_hours"].sum()),
        "required_h": float(res.summary["required_agent_hours"].sum()),
        "prefs": res.preferences_met, "check": "ok" if rep.ok else
        f"{len(rep.violations)} ({','.join(sorted(rep.rules()))})",
        "terms": {k: round(float(v), 1) for k, v in res.objective_terms.items()},
    }


def _every(seconds: float):
    """A progress printer that prints at most once every ``seconds``."""
    last = [-float("inf")]

    def say(message: str) -> None:
        if time.perf_counter() - last[0] >= seconds:
            last[0] = time.perf_counter()
            print(f"      {message}", flush=True)

    return say


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 150, 500])
    ap.add_argument("--solvers", nargs="+", default=["highs", "cbc"])
    ap.add_argument("--load", type=float, default=0.85,
                    help="requirement as a share of contract hours")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="override the per-size limits (60/120/600 s)")
    ap.add_argument("--reference-bound", action="store_true",
                    help="also solve the per-agent LP relaxation (wfm.scheduling.reference; "
                         "minutes) and print each schedule's gap against it")
    ap.add_argument("--column-bound", type=float, nargs="?", const=3600.0, default=None,
                    metavar="SECONDS",
                    help="also compute the bound by column generation over agents' weeks "
                         "(wfm.scheduling.columns; ~25 min for 150 agents), stopped after "
                         "SECONDS (default 3600), and print each schedule's gap against it")
    args = ap.parse_args()
    solvers = [s for s in args.solvers if s in available_solvers()]
    rows = []
    for n in args.sizes:
        ref = None
        if args.reference_bound:
            req, scen, roster, _start = instance(n, args.load)
            t = time.perf_counter()
            rep = reference_bound(req, scen, roster)
            ref = rep.objective if rep.status == "optimal" else None
            print(f"{n:4d} agents: per-agent LP bound {ref or float('nan'):10.1f} "
                  f"({rep.status}, {time.perf_counter() - t:.1f} s)", flush=True)
        col = None
        if args.column_bound is not None:
            req, scen, roster, _start = instance(n, args.load)
            cb = column_bound(req, scen, roster, time_limit=args.column_bound,
                              progress=_every(30.0))
            col = cb.bound
            print(f"{n:4d} agents: column-generation bound {cb.bound:10.1f} (master LP "
                  f"{cb.master_lp:.1f}, {'converged' if cb.converged else 'stopped'} after "
                  f"{cb.iterations} iterations, {cb.weeks} weeks, {cb.seconds:.1f} s)",
                  flush=True)
        for solver in solvers:
            limit = args.time_limit or LIMITS.get(n, 120.0)
            r = run(n, solver, limit, args.load)
            rows.append(r)
            gap = "n/a" if r["gap"] is None else f"{100 * r['gap']:.2f}%"
            # under a short limit there is no LP on the full grid and the
            # Lagrangian bound is priced at the block LP's duals
            bound_lp = (f"full grid {r['lp_s']:4.1f}s + bound at its duals"
                        if r["lp_s"] else "bound at the block LP's duals")
            print(f"{n:4d} agents {solver:5s} limit {limit:4.0f}s | {r['status']:10s} "
                  f"build {r['build_s']:5.1f}s LP blocks {r['lp_blocks_s']:4.1f}s ("
                  f"{bound_lp} {r['lagrangian_s']:3.1f}s alongside)"
                  f" round {r['round_s']:5.1f}s "
                  f"assign {r['assign_s']:5.1f}s breaks {r['breaks_s']:5.1f}s "
                  f"improve {r['improve_s']:5.1f}s total {r['wall_s']:6.1f}s | objective "
                  f"{r['objective']:10.1f} bound {r['best_bound'] or float('nan'):10.1f} gap "
                  f"{gap:>7s} LP bound {r['lp_bound'] or float('nan'):10.1f} | under "
                  f"{r['under_h']:6.1f} / {r['required_h']:7.1f} agent-h, over {r['over_h']:6.1f}"
                  f" | prefs {100 * (r['prefs'] or 0):4.1f}% | check {r['check']}", flush=True)
            print(f"      objective terms {r['terms']}", flush=True)
            if ref:
                print(f"      gap against the per-agent LP bound "
                      f"{100 * rel_gap(r['objective'], ref):.2f}%", flush=True)
            if col is not None:
                print(f"      gap against the column-generation bound "
                      f"{100 * rel_gap(r['objective'], col):.2f}%", flush=True)
    by = {(r["agents"], r["solver"]): r for r in rows}
    for n in args.sizes:
        h, c = by.get((n, "highs")), by.get((n, "cbc"))
        if h and c:
            print(f"{n:4d} agents: CBC/HiGHS objective {c['objective'] / h['objective']:.3f}, "
                  f"time {c['wall_s'] / h['wall_s']:.2f}, LP time "
                  f"{c['lp_s'] / max(h['lp_s'], 1e-9):.2f}")


if __name__ == "__main__":
    main()
