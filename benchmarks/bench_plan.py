"""End-to-end plan of the bundled sample center: time per stage.

Run:  python benchmarks/bench_plan.py [--time-limit S] [--simulate]

Prints each stage's wall time, the share of the total, and the solver status,
so a slow stage stands out. The baseline for the stage shares is the total of
the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from wfm.config import load_scenario
from wfm.plan import run_plan
from wfm.sampledata import sample_scenario_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=None,
                        help="scheduler time limit [s] (default: the scenario's)")
    parser.add_argument("--simulate", action="store_true", help="include the simulation")
    args = parser.parse_args()

    scenario = load_scenario(sample_scenario_path())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = run_plan(scenario, Path(tmp) / "plan", time_limit=args.time_limit,
                          simulate=args.simulate, progress=lambda m: None)
        total = time.perf_counter() - t0
    stages = result.stages
    print(f"sample plan: {scenario.site.name}, {scenario.horizon.days} days, "
          f"{result.requirements['channel'].nunique()} staffed channels, "
          f"{result.shifts['agent_id'].nunique()} agents with shifts")
    print(f"{'stage':<20}{'seconds':>10}{'share':>9}")
    for row in stages.itertuples():
        print(f"{row.stage:<20}{row.seconds:>10.2f}{row.seconds / total:>9.1%}")
    print(f"{'writing + overhead':<20}{total - stages['seconds'].sum():>10.2f}"
          f"{(total - stages['seconds'].sum()) / total:>9.1%}")
    print(f"{'total':<20}{total:>10.2f}")
    print(f"schedule status: {result.schedule_status}, gap: {result.schedule_gap}")
    k = result.kpis
    print(k.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
