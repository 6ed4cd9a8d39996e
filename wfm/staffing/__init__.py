"""Staffing: turn a forecast into agents per channel per interval.

Kernels (numpy, vectorised over intervals):

- :mod:`wfm.staffing.erlang` -- Erlang B / C (M/M/N): ``erlang_b``, ``erlang_c``,
  ``service_level``, ``asa``, ``occupancy``, ``metrics``, ``required_agents``;
- :mod:`wfm.staffing.erlang_a` -- Erlang A (M/M/N+M, abandonment);
- :mod:`wfm.staffing.channels` -- concurrency, deferred backlog, derived volume.

Stage functions (pandas frames, see DESIGN.md):

- :func:`requirements` -- forecast -> requirements frame;
- :func:`service_with_agents` -- service achieved by given net agents.
"""

from wfm.staffing import channels, erlang, erlang_a
from wfm.staffing.erlang import (
    QueueMetrics,
    RequiredAgents,
    asa,
    erlang_b,
    erlang_c,
    metrics,
    occupancy,
    required_agents,
    service_level,
    traffic_erlangs,
)
from wfm.staffing.requirements import (
    REQUIREMENT_COLUMNS,
    SERVICE_COLUMNS,
    prepare_demand,
    requirements,
    service_with_agents,
    workable_mask,
)

__all__ = [
    "REQUIREMENT_COLUMNS",
    "SERVICE_COLUMNS",
    "QueueMetrics",
    "RequiredAgents",
    "asa",
    "channels",
    "erlang",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "metrics",
    "occupancy",
    "prepare_demand",
    "required_agents",
    "requirements",
    "service_level",
    "service_with_agents",
    "traffic_erlangs",
    "workable_mask",
]
