"""PNG charts of a plan for people who would rather look than read.

Matplotlib with the non-interactive Agg backend, so the batch CLI works on a
server without a display. Each function writes one file atomically and
returns its path.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def coverage_lines_png(coverage: pd.DataFrame, path: Path | str) -> Path:
    """Required vs scheduled agents over time, one panel per channel.

    Parameters
    ----------
    coverage : DataFrame
        The coverage frame (``timestamp, channel, required, scheduled, gap``).
    path : path
        PNG file to write.
    """
    plt = _pyplot()
    channels = list(dict.fromkeys(coverage["channel"]))
    n = max(len(channels), 1)
    fig, axes = plt.subplots(n, 1, figsize=(12, 2.2 * n), sharex=True, squeeze=False)
    for ax, ch in zip(axes[:, 0], channels):
        d = coverage[coverage["channel"] == ch].sort_values("timestamp")
        ts = pd.DatetimeIndex(d["timestamp"]).tz_localize(None)
        ax.fill_between(ts, d["required"], d["scheduled"],
                        where=d["scheduled"] < d["required"], step="post",
                        color="#d62728", alpha=0.35, label="under")
        ax.step(ts, d["required"], where="post", color="black", lw=1.0, label="required")
        ax.step(ts, d["scheduled"], where="post", color="#1f77b4", lw=1.0, label="scheduled")
        ax.set_ylabel(f"{ch}\nagents")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", ncol=3, fontsize=8)
    axes[0, 0].set_title("Required vs scheduled agents per channel")
    fig.autofmt_xdate()
    try:
        return _save(fig, Path(path))
    finally:
        plt.close(fig)


def gap_matrix(coverage: pd.DataFrame, channel: str | None = None) -> pd.DataFrame:
    """Day x time-of-day table of the gap (scheduled - required) [agents].

    ``channel=None`` sums all channels. Rows are local dates, columns 'HH:MM'.
    """
    d = coverage if channel is None else coverage[coverage["channel"] == channel]
    ts = pd.DatetimeIndex(d["timestamp"]).tz_localize(None)
    frame = pd.DataFrame({"date": ts.date, "time": ts.strftime("%H:%M"),
                          "gap": d["gap"].to_numpy(dtype=float)})
    return frame.pivot_table(index="date", columns="time", values="gap", aggfunc="sum")


def gap_heatmap_png(coverage: pd.DataFrame, path: Path | str) -> Path:
    """Heatmap day x interval of the gap per channel (red under, blue over)."""
    plt = _pyplot()
    channels = list(dict.fromkeys(coverage["channel"]))
    panels = channels + ["all channels"]
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 1.9 * len(panels) + 0.6),
                             squeeze=False)
    for ax, ch in zip(axes[:, 0], panels):
        m = gap_matrix(coverage, None if ch == "all channels" else ch)
        lim = float(np.nanmax(np.abs(m.to_numpy()))) if m.size else 1.0
        lim = max(lim, 0.5)
        im = ax.imshow(m.to_numpy(), aspect="auto", cmap="RdBu", vmin=-lim, vmax=lim,
                       interpolation="nearest")
        ax.set_yticks(range(len(m.index)))
        ax.set_yticklabels([pd.Timestamp(x).strftime("%a %d.%m") for x in m.index],
                           fontsize=7)
        step = max(len(m.columns) // 12, 1)
        ax.set_xticks(range(0, len(m.columns), step))
        ax.set_xticklabels(list(m.columns)[::step], fontsize=7)
        ax.set_title(f"{ch}: scheduled - required", fontsize=9, loc="left")
        cb = fig.colorbar(im, ax=ax, pad=0.01)
        cb.set_label("agents", fontsize=7)
    fig.suptitle("Coverage gaps (red: under-staffed, blue: over-staffed)")
    fig.tight_layout()
    try:
        return _save(fig, Path(path))
    finally:
        plt.close(fig)
