"""Executors: same results serially, on a process pool and on Dask; failures and lost workers."""

from __future__ import annotations

import os
import signal
import time

import pytest

from wfm.errors import ConfigError
from wfm.parallel import Executor, Runner, TaskFailure, failures, run_tasks


def square_or_fail(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


def slow_double(x: int) -> tuple[int, int]:
    time.sleep(0.8)
    return 2 * x, os.getpid()


@pytest.mark.parametrize("kind", ["serial", "local", "dask"])
def test_results_in_task_order_and_failures_reported(kind):
    if kind == "dask":
        pytest.importorskip("distributed")
    out = run_tasks(Executor(kind, workers=2), square_or_fail, range(6),
                    [f"item {i}" for i in range(6)])
    assert [r for r in out if not isinstance(r, TaskFailure)] == [0, 1, 4, 16, 25]
    (bad,) = failures(out)
    assert out[3] is bad
    assert bad.label == "item 3" and bad.error_type == "ValueError"
    assert "three is not allowed" in bad.describe()


def test_local_with_one_worker_runs_in_this_process():
    assert Executor().in_process and Executor("local", workers=1).in_process
    assert not Executor("local", workers=2).in_process
    assert Executor().describe() == "serial (this process)"
    assert Executor("local", 2).describe() == "local process pool (2 workers)"
    assert run_tasks(Executor(), lambda _: os.getpid(), [None]) == [os.getpid()]


def test_progress_lines_name_each_task():
    lines: list[str] = []
    run_tasks(Executor(), abs, [-1, -2], ["a", "b"], progress=lines.append, name="demo")
    assert lines == ["demo 1/2 done: a", "demo 2/2 done: b"]


def test_bad_executor_settings_are_clear_errors():
    with pytest.raises(ConfigError, match="expected one of local, dask, serial"):
        Executor("spark")
    with pytest.raises(ConfigError, match="--executor dask"):
        Executor("local", address="tcp://10.0.0.1:8786")
    with pytest.raises(ConfigError, match="workers must be >= 1"):
        Executor("local", workers=0)
    with pytest.raises(ValueError, match="2 labels for 3 tasks"):
        run_tasks(Executor(), abs, [1, 2, 3], ["a", "b"])


@pytest.mark.slow
def test_dask_worker_killed_mid_run_loses_no_result():
    pytest.importorskip("distributed")
    tasks = list(range(8))
    killed: list[int] = []
    with Runner(Executor("dask", workers=2, retries=2)) as run:
        pids = sorted(run.client.run(os.getpid).values())
        assert len(pids) == 2

        def kill_once(_msg: str) -> None:
            # the first result is in: the other tasks are queued or running;
            # take one worker process down hard, as a crashed machine would
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        out = run.map(slow_double, tasks, [f"t{i}" for i in tasks], progress=kill_once)
    assert killed, "no worker was killed"
    assert not failures(out)
    assert [r[0] for r in out] == [2 * t for t in tasks]
    # the surviving worker (or the restarted one) finished the killed worker's tasks
    assert any(pid != pids[0] for _, pid in out)
