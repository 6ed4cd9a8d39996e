"""Scheduling: agents with the right channel skills onto shifts and breaks (PuLP MILP).

``schedule(requirements, scenario, roster)`` returns a :class:`ScheduleResult`
with the ``shifts``, ``assignments`` and ``agent_hours`` frames; see
:mod:`wfm.scheduling.core` for the four-step decomposition and
:mod:`wfm.scheduling.model` for the formulation. :func:`check_schedule`
verifies a written schedule independently.
"""

from wfm.scheduling.core import ScheduleResult, schedule
from wfm.scheduling.solve import SOLVERS, SolveReport, available_solvers, solve

__all__ = ["SOLVERS", "ScheduleResult", "SolveReport", "available_solvers", "schedule",
           "solve"]
