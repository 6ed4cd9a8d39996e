"""Run independent tasks serially, on a local process pool, or on a Dask cluster.

The plan's heavy stages are independent per series and per site: the
forecast (with its backtest) of each site x channel series, and the
requirements, schedule and coverage of each site. :func:`run_tasks` runs one
function over a list of such tasks with any of three executors and returns
the results in task order, so that the same code gives the same results
serially, on a process pool and on Dask:

``local`` (the default)
    On this machine: with one worker (the default) in this process, one task
    after the other; with ``workers`` > 1 on a pool of that many processes.
    ``serial`` is another name for ``local`` with one worker.
``dask``
    A ``dask.distributed`` cluster: the scheduler at ``address``
    (``tcp://HOST:PORT``, a cluster started with ``dask scheduler`` and
    ``dask worker`` on other machines), or a ``LocalCluster`` of ``workers``
    single-threaded worker processes started for the run. A task whose worker
    dies is re-run by Dask on another worker (plus ``retries`` re-runs for
    errors of the transport); its result is not lost.

A task that raises does not stop the others: its exception becomes a
:class:`TaskFailure` (task label, error type and message) in its place of
the result list, and the caller reports it.

Examples
--------
>>> from wfm.parallel import Executor, run_tasks
>>> run_tasks(Executor(), abs, [-1, 2, -3])
[1, 2, 3]
"""

from __future__ import annotations

import dataclasses
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from wfm.errors import ConfigError

ExecutorKind = Literal["serial", "local", "dask"]
EXECUTOR_KINDS: tuple[str, ...] = ("local", "dask", "serial")


@dataclasses.dataclass(frozen=True)
class TaskFailure:
    """A task that raised instead of returning: who, what and why."""

    label: str
    error_type: str
    message: str
    traceback: str = ""

    def describe(self) -> str:
        return f"{self.label}: {self.error_type}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Executor:
    """Where tasks run; see the module docstring.

    Parameters
    ----------
    kind : {"local", "dask", "serial"}
    workers : int, optional
        Processes of the local pool (default 1: in this process) / workers of
        the ``LocalCluster`` (default: the number of CPU cores).
    address : str, optional
        Dask scheduler address ``tcp://HOST:PORT``; None starts a ``LocalCluster``.
    retries : int
        Extra attempts Dask makes for a task that failed in transport.
    """

    kind: ExecutorKind = "local"
    workers: int | None = None
    address: str | None = None
    retries: int = 2

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise ConfigError(f"executor {self.kind!r} unknown; expected one of "
                              f"{', '.join(EXECUTOR_KINDS)}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        if self.address is not None and self.kind != "dask":
            raise ConfigError("a scheduler address needs the dask executor "
                              "(--executor dask)")

    @property
    def n_workers(self) -> int:
        if self.kind == "serial":
            return 1
        if self.kind == "local":
            return self.workers or 1
        return self.workers or os.cpu_count() or 1

    @property
    def in_process(self) -> bool:
        """True when tasks run one after the other in this process."""
        return self.kind != "dask" and self.n_workers == 1

    def describe(self) -> str:
        if self.in_process:
            return "serial (this process)"
        if self.kind == "local":
            return f"local process pool ({self.n_workers} workers)"
        if self.address:
            return f"Dask cluster at {self.address}"
        return f"Dask LocalCluster ({self.n_workers} workers)"


def _guarded(func: Callable[[Any], Any], label: str, task: Any) -> Any:
    """Run one task; an exception becomes a :class:`TaskFailure` (picklable)."""
    try:
        return func(task)
    except Exception as exc:  # noqa: BLE001 - every task error is reported, none stops the run
        return TaskFailure(label, type(exc).__name__, str(exc),
                           "".join(traceback.format_exception(exc, limit=-4)))


def run_tasks(executor: Executor, func: Callable[[Any], Any], tasks: Sequence[Any],
              labels: Sequence[str] | None = None,
              progress: Callable[[str], None] | None = None,
              name: str = "task") -> list[Any]:
    """``[func(t) for t in tasks]`` on ``executor``; failures become :class:`TaskFailure`.

    Starts the executor's workers for this call only; to run several stages
    on the same workers, use ``with Runner(executor) as run: run.map(...)``.
    Parameters and result as :meth:`Runner.map`.
    """
    with Runner(executor) as runner:
        return runner.map(func, tasks, labels, progress=progress, name=name)


class Runner:
    """The executor's workers, started on ``__enter__`` and stopped on ``__exit__``.

    Examples
    --------
    >>> with Runner(Executor("serial")) as run:
    ...     run.map(len, ["ab", "c"])
    [2, 1]
    """

    def __init__(self, executor: Executor, client: Any = None):
        self.executor = executor
        self.client = client
        self._pool = None
        self._close: Callable[[], None] | None = None

    def __enter__(self) -> Runner:
        kind = self.executor.kind
        if kind == "local" and not self.executor.in_process:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: workers start clean (no copy of the parent's threads or solver state)
            self._pool = ProcessPoolExecutor(max_workers=self.executor.n_workers,
                                             mp_context=multiprocessing.get_context("spawn"))
            self._close = self._pool.shutdown
        elif kind == "dask" and self.client is None:
            self.client, self._close = dask_client(self.executor)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def map(self, func: Callable[[Any], Any], tasks: Sequence[Any],
            labels: Sequence[str] | None = None,
            progress: Callable[[str], None] | None = None,
            name: str = "task") -> list[Any]:
        """``[func(t) for t in tasks]`` on the workers; failures become :class:`TaskFailure`.

        Parameters
        ----------
        func : callable
            A module-level function (it is pickled for the process pool and Dask).
        tasks : sequence
            One argument per task; keep each small (a slice of the data or a
            path to read it from): it is shipped to the worker that runs it.
        labels : sequence of str, optional
            One label per task, used in failures, progress lines and Dask keys.
        progress : callable, optional
            Receives ``"name i/n done: label"`` as tasks finish.
        name : str
            Stage name for progress lines and Dask keys.

        Returns
        -------
        list
            Results in task order; a :class:`TaskFailure` where a task raised.
        """
        tasks = list(tasks)
        labels = [str(x) for x in labels] if labels is not None else \
            [f"{name} {i}" for i in range(len(tasks))]
        if len(labels) != len(tasks):
            raise ValueError(f"{len(labels)} labels for {len(tasks)} tasks")
        say = progress or (lambda _msg: None)
        if not tasks:
            return []
        if self.executor.in_process:
            out = []
            for i, (label, task) in enumerate(zip(labels, tasks, strict=True)):
                out.append(_guarded(func, label, task))
                say(f"{name} {i + 1}/{len(tasks)} done: {label}")
            return out
        if self.executor.kind == "local":
            return self._map_pool(func, tasks, labels, say, name)
        return self._map_dask(func, tasks, labels, say, name)

    def _map_pool(self, func, tasks, labels, say, name) -> list[Any]:
        from concurrent.futures import as_completed

        if self._pool is None:
            raise RuntimeError("Runner.map outside 'with Runner(...)'")
        futures = {self._pool.submit(_guarded, func, label, task): i
                   for i, (label, task) in enumerate(zip(labels, tasks, strict=True))}
        out: list[Any] = [None] * len(tasks)
        for done, fut in enumerate(as_completed(futures), start=1):
            i = futures[fut]
            try:
                out[i] = fut.result()
            except Exception as exc:  # noqa: BLE001 - a crashed worker process
                out[i] = TaskFailure(labels[i], type(exc).__name__, str(exc))
            say(f"{name} {done}/{len(tasks)} done: {labels[i]}")
        return out

    def _map_dask(self, func, tasks, labels, say, name) -> list[Any]:
        from distributed import as_completed

        if self.client is None:
            raise RuntimeError("Runner.map outside 'with Runner(...)'")
        futures = []
        for i, (label, task) in enumerate(zip(labels, tasks, strict=True)):
            key = f"wfm-{name}-{i}-{_slug(label)}-{os.urandom(4).hex()}"
            futures.append(self.client.submit(_guarded, func, label, task, key=key,
                                              pure=False, retries=self.executor.retries))
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(tasks)
        for done, fut in enumerate(as_completed(futures), start=1):
            i = index[fut.key]
            try:
                out[i] = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after every retry
                out[i] = TaskFailure(labels[i], type(exc).__name__, str(exc))
            say(f"{name} {done}/{len(tasks)} done: {labels[i]}")
        return out


def dask_client(executor: Executor):
    """A ``distributed.Client`` for ``executor`` and a closer for what was started.

    Raises
    ------
    ConfigError
        When dask.distributed is not installed (``pip install "wfm[dask]"``).
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("the dask executor needs dask.distributed: "
                          "pip install \"wfm[dask]\"") from None
    if executor.address:
        client = Client(executor.address)
        return client, client.close
    cluster = LocalCluster(n_workers=executor.n_workers, threads_per_worker=1,
                           processes=True, dashboard_address=None)
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()
    return client, close


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:60]


def failures(results: Iterable[Any]) -> list[TaskFailure]:
    """The :class:`TaskFailure` entries of a result list."""
    return [r for r in results if isinstance(r, TaskFailure)]
