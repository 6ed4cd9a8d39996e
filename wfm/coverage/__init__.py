"""Coverage of a schedule: gaps, service achieved, and a multi-skill simulation.

- :func:`coverage` -- required vs scheduled agents per interval and channel,
  with the service level each channel's own model gives for the scheduled
  net agents;
- :func:`kpis`, :func:`worst_gaps` -- summaries of that frame;
- :func:`simulate` -- a discrete-event simulation of the schedule with
  skill-based routing, chat concurrency, priorities and abandonment;
  :func:`pooling_gain` -- pooled (multi-skill) vs dedicated agents.
"""

from wfm.coverage.coverage import (
    COVERAGE_COLUMNS,
    KPI_COLUMNS,
    coverage,
    kpis,
    scheduled_heads,
    worst_gaps,
)
from wfm.coverage.simulation import (
    SimulationResult,
    compare_with_erlang,
    pooling_gain,
    simulate,
)

__all__ = [
    "COVERAGE_COLUMNS",
    "KPI_COLUMNS",
    "SimulationResult",
    "compare_with_erlang",
    "coverage",
    "kpis",
    "pooling_gain",
    "scheduled_heads",
    "simulate",
    "worst_gaps",
]
