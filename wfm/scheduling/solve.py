"""Solve a PuLP model with a solver chosen by name; report status, bound and gap.

``"highs"`` runs HiGHS in-process through :class:`pulp.HiGHS` (``highspy``),
the default; ``"cbc"`` runs the CBC command-line solver through
:class:`pulp.COIN_CMD` (Debian's ``coinor-cbc``) or, where only that is
present, PuLP's bundled :class:`pulp.PULP_CBC_CMD`. Both are checked with
``available()`` before use.

Examples
--------
>>> import pulp
>>> p = pulp.LpProblem("tiny", pulp.LpMinimize)
>>> x = pulp.LpVariable("x", 0, 10, cat="Integer")
>>> p += x
>>> p += x >= 2.5, "at_least"
>>> solve(p, "highs").status, x.value()
('optimal', 3.0)
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass

import numpy as np
import pulp

from wfm.errors import SchedulingError

SOLVERS = ("highs", "cbc")


@dataclass
class SolveReport:
    """Outcome of one solver run.

    Attributes
    ----------
    status : str
        ``optimal`` (within the requested gap), ``feasible`` (a solution, gap
        not proven), ``time_limit`` (stopped by the time limit; see
        ``has_solution``) or ``infeasible``.
    objective : float or None
        Objective of the returned solution.
    best_bound : float or None
        Best proven lower bound (minimisation).
    gap : float or None
        ``(objective - best_bound) / max(|objective|, 1e-9)``.
    seconds : float
        Wall-clock time of the solver call [s].
    solver : str
        ``highs`` or ``cbc``.
    has_solution : bool
        Whether variable values hold a feasible solution.
    """

    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    seconds: float
    solver: str
    has_solution: bool


def _cbc_solver_class() -> type | None:
    for cls in (pulp.COIN_CMD, pulp.PULP_CBC_CMD):
        try:
            if cls(msg=False).available():
                return cls
        except Exception:  # noqa: BLE001 - a broken install simply is not available
            continue
    return None


def available_solvers() -> list[str]:
    """Names of the solvers usable on this machine, in preference order."""
    out = []
    if pulp.HiGHS(msg=False).available():
        out.append("highs")
    if _cbc_solver_class() is not None:
        out.append("cbc")
    return out


def check_solver(name: str | None) -> str:
    """Validate a solver name and check that it is installed.

    Raises
    ------
    SchedulingError
        Unknown name (listing the valid ones) or solver not available.
    """
    name = (name or "highs").lower()
    if name not in SOLVERS:
        raise SchedulingError(f"unknown solver {name!r}; expected one of {list(SOLVERS)}")
    if name not in available_solvers():
        hint = ("install highspy" if name == "highs" else
                "install CBC, e.g. 'apt-get install coinor-cbc' or 'pip install pulp[cbc]'")
        raise SchedulingError(f"solver {name!r} is not available on this machine ({hint}); "
                              f"available: {available_solvers()}")
    return name


def rel_gap(obj: float | None, bound: float | None) -> float | None:
    """``(obj - bound) / |obj|`` (0 when the bound is above), None without both."""
    if obj is None or bound is None or not math.isfinite(obj) or not math.isfinite(bound):
        return None
    return max(0.0, obj - bound) / max(abs(obj), 1e-9)


def _is_mip(problem: pulp.LpProblem, mip: bool) -> bool:
    return mip and any(v.cat == pulp.LpInteger for v in problem.variables())


class StopEvent(threading.Event):
    """A ``stop`` for :func:`solve` that also ends a HiGHS MIP whose best bound exceeds
    :attr:`bound_above` (infinite until set; it may be set while the MIP runs)."""

    bound_above: float = math.inf


class _HiGHSWithStart(pulp.HiGHS):
    """PuLP's HiGHS interface handing HiGHS a (partial) start, if any, before it runs.

    HiGHS completes a start given for some variables (here: the integer ones)
    by solving for the rest, and ignores it if it is infeasible.
    """

    def __init__(self, start: dict[pulp.LpVariable, float],
                 stop: threading.Event | None = None, **kwargs):
        super().__init__(**kwargs)
        self.start = start
        self.stop = stop

    def callSolver(self, lp):
        if self.stop is not None:
            # checked at each interior-point iteration and at the MIP
            # solver's checks of its limits only: a callback takes the GIL,
            # which a simplex iteration's check would do thousands of times
            # while the calling thread's neighbours run Python
            def interrupt(event, stop=self.stop):
                if stop.is_set():
                    event.data_in.user_interrupt = True

            def interrupt_mip(event, stop=self.stop):
                if stop.is_set() or event.data_out.mip_dual_bound > getattr(
                        stop, "bound_above", math.inf):
                    event.data_in.user_interrupt = True

            lp.solverModel.cbIpmInterrupt.subscribe(interrupt)
            lp.solverModel.cbMipInterrupt.subscribe(interrupt_mip)
        pairs = [(v.index, float(x)) for v, x in self.start.items()
                 if getattr(v, "index", None) is not None]
        if pairs:
            idx, val = zip(*pairs)
            lp.solverModel.setSolution(len(idx), list(idx), list(val))
        super().callSolver(lp)


#: Thread count each calling thread last ran HiGHS with (0: HiGHS's default).
_highs_threads = threading.local()


def _match_highs_threads(threads: int | None) -> None:
    """Let this thread run HiGHS with ``threads`` after runs with another count.

    HiGHS keeps one task scheduler per calling thread, sized by its first
    run, and refuses a later run asking for another number of threads
    ("the scheduler has already been initialized"); it is reset here.
    """
    import highspy

    want = int(threads or 0)
    if getattr(_highs_threads, "count", want) != want:
        highspy.Highs.resetThreadScheduler(True)
    _highs_threads.count = want


#: Relative difference between HiGHS's objective of a MIP and that of the
#: solution it returns above which the run counts as misled by its start.
START_MISPRICED_TOLERANCE = 1e-6
#: A misled run is re-solved only with at least this many seconds left.
START_RETRY_MIN_SECONDS = 0.5


def _own_objective(h) -> float:
    """The objective of the solution HiGHS returns, from the model's costs."""
    lp = h.getLp()
    return float(np.dot(lp.col_cost_, h.getSolution().col_value)) + float(lp.offset_)


def _solve_highs(problem: pulp.LpProblem, time_limit: float | None, gap: float | None,
                 msg: bool, threads: int | None, mip: bool, options: dict | None,
                 start: dict | None = None, stop: threading.Event | None = None
                 ) -> SolveReport:
    """HiGHS on ``problem``, re-run without presolve where a start misled it.

    HiGHS 1.16.0 can price a MIP start wrongly in its presolved model ("MIP
    start solution is feasible in the reduced space: objective value is
    29.81" for a start of 39.53): it then takes the start for better than it
    is, reports that objective for it and stops, often at once as
    "optimal", short of solutions it would have found (the step-2 MILP of a
    one-agent group at 20 agents: 35.56 returned as 11.08; HiGHS 1.12 and
    1.15 price it right). The run's best bound stays a bound. Such a run
    (its objective off that of the solution it returns) is solved again
    from its solution with presolve off, which prices it right, in the time
    left; the better of the two solutions is kept, with its own objective.
    """
    t = time.perf_counter()
    first = _run_highs(problem, time_limit, gap, msg, threads, mip, options, start, stop)
    if not (start and first.has_solution and _is_mip(problem, mip)):
        return first
    own = _own_objective(problem.solverModel)
    if abs(own - first.objective) <= START_MISPRICED_TOLERANCE * max(1.0, abs(own)):
        return first
    values = {v: v.varValue for v in problem.variables()}
    left = None if time_limit is None else time_limit - first.seconds
    best, bound, status = own, first.best_bound, "time_limit"
    if (left is None or left >= START_RETRY_MIN_SECONDS) and not (stop and stop.is_set()):
        again = _run_highs(problem, left, gap, msg, threads, mip,
                           {**(options or {}), "presolve": "off"},
                           {v: x for v, x in values.items() if x is not None}, stop)
        if again.best_bound is not None:
            bound = again.best_bound if bound is None else max(bound, again.best_bound)
        if again.has_solution and again.objective <= own:
            best, status = again.objective, again.status
        else:
            for v, x in values.items():
                v.varValue = x
            if again.status != "time_limit":
                status = "feasible"
    return SolveReport(status, best, bound, rel_gap(best, bound), time.perf_counter() - t,
                       "highs", True)


def _run_highs(problem: pulp.LpProblem, time_limit: float | None, gap: float | None,
               msg: bool, threads: int | None, mip: bool, options: dict | None,
               start: dict | None = None, stop: threading.Event | None = None
               ) -> SolveReport:
    import highspy

    _match_highs_threads(threads)
    kwargs = dict(options or {})
    if not mip:
        kwargs["mip"] = False
    solver = _HiGHSWithStart(start or {}, stop, msg=msg, timeLimit=time_limit, gapRel=gap,
                             threads=threads, **kwargs)
    t = time.perf_counter()
    problem.solve(solver)
    seconds = time.perf_counter() - t
    h = problem.solverModel
    ms = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    obj = float(info.objective_function_value) if has_sol else None
    is_mip = _is_mip(problem, mip)
    if is_mip:
        bound = float(info.mip_dual_bound)
        if not math.isfinite(bound):
            bound = None
    else:
        bound = obj if ms == S.kOptimal else None
    if ms == S.kOptimal:
        status = "optimal"
        if bound is None:
            bound = obj
    elif ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
        status, has_sol = "infeasible", False
    elif ms in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt):
        status = "time_limit"
    elif has_sol:
        status = "feasible"
    else:
        raise SchedulingError(f"HiGHS stopped without a solution: {h.modelStatusToString(ms)}")
    return SolveReport(status, obj, bound, rel_gap(obj, bound), seconds, "highs", has_sol)


#: Share and seconds of a time limit kept for writing and reading CBC's files.
CBC_OVERHEAD_SHARE = 0.1
CBC_OVERHEAD_SECONDS = 0.5

_CBC_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def _solve_cbc(problem: pulp.LpProblem, time_limit: float | None, gap: float | None,
               msg: bool, threads: int | None, mip: bool, options: dict | None,
               start: dict | None = None) -> SolveReport:
    cls = _cbc_solver_class()
    warm = bool(start) and _is_mip(problem, mip)
    if warm:
        # PuLP hands CBC every variable's current value as a MIP start
        # ("-mips"; missing values as 0); CBC takes the integer ones, solves
        # for the rest and drops the start if it is infeasible
        for v in problem.variables():
            v.varValue = start.get(v)
    # PuLP writes the model, the start and the solution next to the log and
    # leaves them behind when CBC aborts: all go in one directory, removed
    # whatever happens
    with tempfile.TemporaryDirectory(prefix="wfm_cbc_") as tmp:
        log_path = os.path.join(tmp, "cbc.log")
        extra = [k if v is None else f"{k} {v}" for k, v in (options or {}).items()]
        # CBC's clock starts once PuLP has written the model and CBC has read
        # it, and the solution is read back after it stops (together 2-3 s of
        # the rounding MILP's 16 s at 50 agents): it gets a shorter limit
        limit = None if time_limit is None else \
            max(0.5, time_limit * (1.0 - CBC_OVERHEAD_SHARE) - CBC_OVERHEAD_SECONDS)

        def run(limit: float | None, warm_start: bool) -> None:
            cbc = cls(msg=False, mip=mip, timeLimit=limit, gapRel=gap, threads=threads,
                      logPath=log_path, options=extra, warmStart=warm_start)
            cbc.tmpDir = tmp
            problem.solve(cbc)

        t = time.perf_counter()
        try:
            run(limit, warm)
        except pulp.PulpSolverError:
            if not warm:
                raise
            # CBC 2.10 can abort on a start after its preprocessing ("Illegal
            # index in ClpModel::getColumnName", seen on the step-2 models):
            # the same solve without the start, in the time left
            run(None if limit is None else max(0.5, limit - (time.perf_counter() - t)),
                False)
        seconds = time.perf_counter() - t
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
    if msg:
        print(log)
    is_mip = _is_mip(problem, mip)
    sol_status = problem.sol_status
    has_sol = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    stopped = bool(re.search(r"Result - Stopped on (time|iterations|nodes)", log)) or \
        "Stopped on time" in log
    if problem.status == pulp.LpStatusInfeasible or "Result - Problem proven infeasible" in log:
        return SolveReport("infeasible", None, None, None, seconds, "cbc", False)
    obj = pulp.value(problem.objective) if has_sol else None
    obj = float(obj) if obj is not None else None
    bound = None
    if is_mip:
        m = re.search(r"Lower bound:\s*" + _CBC_NUM, log)
        if m:
            bound = float(m.group(1))
        elif not stopped and has_sol:
            bound = obj  # "Optimal solution found" prints no separate bound
        if bound is None:
            m = re.findall(r"best possible " + _CBC_NUM, log)
            if m:
                bound = float(m[-1])
    elif has_sol and not stopped:
        bound = obj
    if stopped:
        status = "time_limit"
    elif problem.status == pulp.LpStatusOptimal and has_sol:
        status = "optimal"
    elif has_sol:
        status = "feasible"
    else:
        raise SchedulingError(f"CBC stopped without a solution (status "
                              f"{pulp.LpStatus[problem.status]})")
    return SolveReport(status, obj, bound, rel_gap(obj, bound), seconds, "cbc", has_sol)


def solve(problem: pulp.LpProblem, solver: str = "highs", time_limit: float | None = None,
          gap: float | None = None, msg: bool = False, threads: int | None = None,
          mip: bool = True, options: dict | None = None,
          start: dict[pulp.LpVariable, float] | None = None,
          stop: threading.Event | None = None) -> SolveReport:
    """Solve ``problem`` in place and report the outcome.

    Parameters
    ----------
    problem : LpProblem
        A minimisation problem; variable values are set on return.
    solver : {"highs", "cbc"}
        Solver by name.
    time_limit : float, optional
        Wall-clock limit [s].
    gap : float, optional
        Relative MIP gap to stop at (0-1).
    msg : bool
        Print the solver's own log.
    threads : int, optional
        Solver threads.
    mip : bool
        False solves the LP relaxation (integer variables continuous).
    options : dict, optional
        Solver-specific options: HiGHS option names and values (e.g.
        ``{"solver": "ipm", "run_crossover": "off"}``); for CBC, command-line
        options as ``{name: value}`` (``None`` for a flag).
    start : dict, optional
        Values of some variables of a solution to start from: HiGHS completes
        a partial start; CBC reads the integer variables' values (missing
        ones as 0) and solves for the continuous ones. Both ignore an
        infeasible start. A HiGHS run that prices its start wrongly is
        solved again without presolve (see :func:`_solve_highs`).
    stop : threading.Event, optional
        Once the event is set, HiGHS stops (status ``time_limit``, with the
        MIP's incumbent if any) at its next interior-point iteration or its
        MIP solver's next check of its limits; for a solve in another
        thread. A :class:`StopEvent` also stops the MIP at such a check once
        its best bound exceeds the event's ``bound_above``. CBC ignores it.

    Returns
    -------
    SolveReport

    Raises
    ------
    SchedulingError
        Unknown or unavailable solver, or a solver failure without solution.
    """
    name = check_solver(solver)
    if time_limit is not None:
        time_limit = max(0.1, float(time_limit))
    if name == "highs":
        return _solve_highs(problem, time_limit, gap, msg, threads, mip, options, start, stop)
    return _solve_cbc(problem, time_limit, gap, msg, threads, mip, options, start)
