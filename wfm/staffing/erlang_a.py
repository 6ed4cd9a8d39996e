"""Erlang A (M/M/N+M) kernels: queues whose callers abandon, vectorised.

Model: Poisson arrivals (rate ``lambda = traffic / aht``), exponential handle
times (mean ``aht_seconds``), ``agents`` servers, FCFS, and every waiting
caller abandons after an exponential patience with mean ``patience_seconds``
(Palm's model; Garnett, Mandelbaum & Reiman 2002, "Designing a call center
with impatient customers", M&SOM 4(3)). Abandoned callers do not retry.

Closed forms
------------
With ``x = N * patience / aht`` and ``y = traffic * patience / aht``
(``N mu / theta`` and ``lambda / theta``), ``g(a, y) = y**a e**-y / Gamma(a+1)``,
``P`` the regularized lower incomplete gamma function and ``E`` the Erlang B
formula ``B(N, traffic)``:

- ``J = sum_j y**j / ((x+1)...(x+j)) = P(x, y) / g(x, y)``
  (Mandelbaum & Zeltyn's ``A(x, y)``), and ``pi_N = 1 / (1/E + J - 1)``
  is the probability that exactly N are in the system;
- probability of waiting ``P(W > 0) = pi_N J``;
- abandonment ``P(Ab) = P(W > 0) [1 - 1/rho + 1/(rho J)]``, ``rho = y / x``;
- a caller who finds ``j`` others queued waits a sum of exponentials with
  rates ``N mu + k theta`` (k = 0..j) and is served if that wait is shorter
  than its own patience; summing over the stationary distribution gives
  the share *answered within T* (abandoned callers count as not answered)::

      SL(T) = P(n < N) + pi_N * x/(x+1) * [P(x+1, y) - P(x+1, y e**(-T/patience))]
                                       / g(x+1, y)

- answered callers' mean wait (ASA), from
  ``E[W; served] = pi_N x/(x+1) patience/g(x+1, y) * sum_{k>=1} P(x+k, y)/(x+k)``
  divided by ``1 - P(Ab)``.

Derivation of the last two: the wait of a caller who finds ``j`` queued,
tilted by its own survival ``exp(-theta W)``, is a sum of exponentials with
rates ``theta (x + k)``, k = 1..j+1, i.e. the (j+1)-th order statistic of
``x + j + 1`` exponentials, whose CDF is a regularized incomplete beta
function; summing the beta integrals over the stationary distribution
collapses to the incomplete gamma difference above, and integrating its
complement over T gives the ASA series. The tests check all of them against
an independent computation from the model alone (stationary distribution in
mpmath, the tagged caller's absorbing chain by matrix exponential) and a
discrete-event simulation.

Every quantity is assembled in log space (no overflow for thousands of
Erlangs) and the regimes where an incomplete gamma function underflows use
its series or continued fraction instead. Non-integer ``agents`` use the
same formulas (the continuous extension), so requirements have a
principled fractional value, as in :mod:`wfm.staffing.erlang`.

Examples
--------
>>> from wfm.staffing import erlang_a
>>> m = erlang_a.metrics(10.0, 12, 180, 120, 20)
>>> round(float(m.service_level), 4), round(float(m.abandonment), 4)
(0.8256, 0.0616)
"""

from __future__ import annotations

import numpy as np
from scipy import special as sc

from wfm.errors import StaffingError
from wfm.staffing.erlang import (
    QueueMetrics,
    RequiredAgents,
    _like,
    log_poisson_pmf,
    _ceil_tol,
    _check_targets,
    solve_increasing,
    whole_agents_sl,
)

__all__ = [
    "abandonment",
    "asa",
    "metrics",
    "occupancy",
    "required_agents",
    "service_level",
    "wait_probability",
]

_TINY = 1e-290   # below this an incomplete gamma value has lost its precision


def _log(v):
    with np.errstate(divide="ignore"):
        return np.log(v)


def _series_m(a, z):
    """``sum_{j>=0} z**j / ((a+1)(a+2)...(a+j))`` for z < a + 1 (positive terms)."""
    a = np.asarray(a, dtype=float)
    z = np.asarray(z, dtype=float)
    total = np.ones_like(a)
    term = np.ones_like(a)
    idx = np.arange(a.size)
    aa, zz = a.ravel(), z.ravel()
    tot, tm = total.ravel(), term.ravel()
    j = 0
    while idx.size and j < 100000:
        j += 1
        tm[idx] *= zz[idx] / (aa[idx] + j)
        tot[idx] += tm[idx]
        idx = idx[tm[idx] > 1e-17 * tot[idx]]
    return tot.reshape(a.shape)


def _upper_cf(a, z):
    """``Q(a, z) Gamma(a) / (z**a e**-z)`` by Lentz's continued fraction (z > a - 1)."""
    a = np.asarray(a, dtype=float).ravel()
    z = np.asarray(z, dtype=float).ravel()
    tiny = 1e-300
    b = z + 1.0 - a
    c = np.full(a.shape, 1.0 / tiny)
    d = 1.0 / np.where(np.abs(b) < tiny, tiny, b)
    h = d.copy()
    active = np.ones(a.shape, bool)
    for i in range(1, 100000):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        an = -i * (i - a[idx])
        b[idx] += 2.0
        dd = an * d[idx] + b[idx]
        dd = np.where(np.abs(dd) < tiny, tiny, dd)
        cc = b[idx] + an / c[idx]
        cc = np.where(np.abs(cc) < tiny, tiny, cc)
        dd = 1.0 / dd
        delta = dd * cc
        d[idx], c[idx] = dd, cc
        h[idx] *= delta
        active[idx] = np.abs(delta - 1.0) > 1e-16
    return h


def _log_inv_b(a, n):
    """``log(1/E)`` and ``log(1/E - 1)`` of Erlang B(n, a), a > 0, n >= 0."""
    pos = n > 0
    npos = np.where(pos, n, 1.0)
    lp = log_poisson_pmf(npos, a)
    q1 = sc.gammaincc(npos + 1.0, a)
    # Q(n, a) = Q(n+1, a) - pmf(n; a): exact to a few ulp while pmf <= Q(n+1)/2
    pmf = np.exp(lp)
    q0 = q1 - pmf
    cancel = q1 < 2.0 * pmf
    if np.any(cancel):
        q0[cancel] = sc.gammaincc(npos[cancel], a[cancel])
    l_inv = _log(q1) - lp
    l_inv1 = _log(q0) - lp
    # far below the traffic the Poisson CDF underflows: use the continued
    # fraction, 1/E = a * cf(n+1, a) and 1/E - 1 = n * cf(n, a)
    uf1 = pos & (q1 < _TINY)
    if np.any(uf1):
        l_inv[uf1] = np.log(a[uf1]) + np.log(_upper_cf(npos[uf1] + 1.0, a[uf1]))
    uf0 = pos & (q0 < _TINY)
    if np.any(uf0):
        l_inv1[uf0] = np.log(npos[uf0]) + np.log(_upper_cf(npos[uf0], a[uf0]))
    return np.where(pos, l_inv, 0.0), np.where(pos, l_inv1, -np.inf)


def _log_j(x, y):
    """``log J(x, y)`` with ``J = P(x, y) / g(x, y) >= 1``; also P(x, y) and log g(x, y)."""
    px = sc.gammainc(x, y)
    lg = log_poisson_pmf(x, y)
    lj = _log(px) - lg
    uf = px < _TINY
    if np.any(uf):
        lj[uf] = np.log(_series_m(x[uf], y[uf]))
    return np.maximum(lj, 0.0), px, lg


def _log_served_within(x, y, u, px, lg):
    """``log(x/(x+1) [P(x+1, y) - P(x+1, y u)] / g(x+1, y))``.

    ``px = P(x, y)`` and ``lg = log g(x, y)`` are reused:
    ``P(x+1, y) = P(x, y) - g(x, y)`` and ``g(x+1, y) = g(x, y) y / (x+1)``.
    """
    g = np.exp(lg)
    p1 = px - g
    cancel = px < 2.0 * g
    if np.any(cancel):
        p1[cancel] = sc.gammainc(x[cancel] + 1.0, y[cancel])
    # T = 0 (u = 1) answers nobody from the queue; elsewhere clip the rounding
    # of two nearly equal CDFs at 0
    diff = np.where(u < 1.0, np.maximum(p1 - sc.gammainc(x + 1.0, y * u), 0.0), 0.0)
    lg1 = lg + np.log(y) - np.log(x + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = _log(x / (x + 1.0)) + _log(diff) - lg1
    uf = (p1 < _TINY) & (x > 0)
    if np.any(uf):
        xs, ys, us = x[uf], y[uf], u[uf]
        scale = np.exp(-(xs + 1.0) * -np.log(us) + ys * (1.0 - us))
        val = _series_m(xs + 1.0, ys) - scale * _series_m(xs + 1.0, ys * us)
        ls[uf] = np.log(xs / (xs + 1.0)) + _log(np.maximum(val, 0.0))
    return ls


def _log_sum_p_over_a(x, y):
    """``log sum_{k>=1} P(x+k, y) / (x+k)``, stable for any x >= 0, y > 0.

    Terms with ``x + k`` more than 10 standard deviations below ``y`` have
    ``P = 1`` to 1e-22 and are summed with the digamma function; the rest is
    summed downward with ``P(a, y) = P(a+1, y) + g(a, y)`` (positive terms
    only), scaled by the largest ``g`` so nothing over- or underflows.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    sd = np.sqrt(y)
    k0 = np.maximum(1.0, np.floor(y - x - 10.0 * sd))
    kmax = np.maximum(k0, np.ceil(y - x)) + np.ceil(10.0 * sd) + 30.0
    psi_part = sc.digamma(x + k0) - sc.digamma(x + 1.0)
    a_star = np.clip(y - 0.5, x + k0, x + kmax)
    m = log_poisson_pmf(a_star, y)
    n_terms = (kmax - k0).astype(np.int64)          # terms below kmax
    order = np.argsort(-n_terms, kind="stable")
    xs, ys, ks, ms, nt = x[order], y[order], kmax[order], m[order], n_terms[order]
    logy = np.log(ys)
    lg = log_poisson_pmf(xs + ks, ys) - ms
    top_ratio = ys / (xs + ks + 1.0)
    r = np.exp(lg) / np.where(top_ratio < 1.0, 1.0 - top_ratio, 1.0)
    acc = r / (xs + ks)
    counts = np.bincount(nt, minlength=int(nt.max()) + 1 if nt.size else 1)
    active = nt.size - np.concatenate(([0], np.cumsum(counts)))   # elements with nt > s
    for s in range(int(nt.max()) if nt.size else 0):
        p = int(active[s + 1])
        if p == 0:
            break
        k = ks[:p] - 1.0 - s
        lg[:p] += np.log(xs[:p] + k + 1.0) - logy[:p]
        r[:p] += np.exp(lg[:p])
        acc[:p] += r[:p] / (xs[:p] + k)
    out_sorted = np.logaddexp(ms + _log(acc), _log(psi_part[order]))
    out = np.empty_like(out_sorted)
    out[order] = out_sorted
    return out


def _core(a, n, h, p, t, with_asa):
    """Erlang A metrics for a > 0 (flat float arrays)."""
    r = p / h
    x = n * r
    y = a * r
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        l_inv, l_inv1 = _log_inv_b(a, n)
        lj, px, lg = _log_j(x, y)
        lj1 = lj + _log(-np.expm1(-lj))                 # log(J - 1)
        log_d = np.logaddexp(l_inv, lj1)                # log(1/E + J - 1) = -log pi_N
        pw = np.exp(lj - log_d)
        below = np.exp(l_inv1 - log_d)
        u = np.exp(-t / p)
        sl = below + np.exp(_log_served_within(x, y, u, px, lg) - log_d)
        ab = np.where(n > 0, pw - (x / y) * np.exp(lj1 - log_d), 1.0)
        ab = np.clip(ab, 0.0, pw)
        occ = np.where(n > 0, np.minimum(a * (1.0 - ab) / np.where(n > 0, n, 1.0), 1.0),
                       np.nan)
        if with_asa:
            w = np.full(a.shape, np.inf)
            ok = (n > 0) & (ab < 1.0)
            if np.any(ok):
                xo, yo = x[ok], y[ok]
                log_wait_served = (-log_d[ok] + np.log(xo / (xo + 1.0)) + np.log(p[ok])
                                   + _log_sum_p_over_a(xo, yo)
                                 - (lg[ok] + np.log(yo) - np.log(xo + 1.0)))
                w[ok] = np.exp(log_wait_served) / (1.0 - ab[ok])
        else:
            w = np.full(a.shape, np.nan)
    return np.clip(sl, 0.0, 1.0), w, occ, np.clip(pw, 0.0, 1.0), ab


def metrics(traffic, agents, aht_seconds, patience_seconds, answer_seconds, *,
            with_asa: bool = True) -> QueueMetrics:
    """Every Erlang A metric at once.

    Parameters
    ----------
    traffic : float or array
        Offered load [Erlangs], ``volume * aht_seconds / interval_seconds``.
    agents : float or array
        Agents (real values use the continuous extension).
    aht_seconds : float or array
        Average handle time [s].
    patience_seconds : float or array
        Mean customer patience [s], > 0 and finite.
    answer_seconds : float or array
        The T of "X % answered within T seconds" [s].
    with_asa : bool
        Compute ``asa_seconds`` (a short series per interval); NaN if False.

    Returns
    -------
    QueueMetrics
        ``service_level`` is the share of *all offered* contacts answered
        within T (abandoned ones count as not answered); ``asa_seconds`` the
        mean wait of answered contacts; ``occupancy`` the carried load per
        agent; ``abandonment`` the share of contacts that abandon.

    Examples
    --------
    >>> m = metrics(10.0, 12, 180, 120, 20)
    >>> round(float(m.wait_probability), 4), round(float(m.asa_seconds), 2)
    (0.2798, 6.33)
    """
    arrs = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                 (traffic, agents, aht_seconds, patience_seconds,
                                  answer_seconds)))
    shape = arrs[0].shape
    a, n, h, p, t = (v.ravel() for v in arrs)
    sl = np.ones(a.shape)
    w = np.zeros(a.shape)
    occ = np.zeros(a.shape)
    pw = np.zeros(a.shape)
    ab = np.zeros(a.shape)
    busy = a > 0
    if np.any(busy):
        vals = _core(a[busy], n[busy], h[busy], p[busy], t[busy], with_asa)
        for arr, v in zip((sl, w, occ, pw, ab), vals):
            arr[busy] = v
    if not with_asa:
        w[~busy] = np.nan
    ins = (traffic, agents, aht_seconds, patience_seconds, answer_seconds)
    return QueueMetrics(*(_like(v.reshape(shape), *ins) for v in (sl, w, occ, pw, ab)))


def service_level(traffic, agents, aht_seconds, patience_seconds, answer_seconds):
    """Share of offered contacts answered within ``answer_seconds`` (Erlang A).

    Examples
    --------
    >>> round(service_level(10.0, 12, 180, 120, 20), 4)
    0.8256
    """
    return metrics(traffic, agents, aht_seconds, patience_seconds, answer_seconds,
                   with_asa=False).service_level


def abandonment(traffic, agents, aht_seconds, patience_seconds):
    """Share of offered contacts that abandon before being answered (Erlang A).

    Examples
    --------
    >>> round(abandonment(10.0, 12, 180, 120), 4)
    0.0616
    """
    return metrics(traffic, agents, aht_seconds, patience_seconds, 0.0,
                   with_asa=False).abandonment


def wait_probability(traffic, agents, aht_seconds, patience_seconds):
    """Probability that an arriving contact has to wait (Erlang A)."""
    return metrics(traffic, agents, aht_seconds, patience_seconds, 0.0,
                   with_asa=False).wait_probability


def asa(traffic, agents, aht_seconds, patience_seconds):
    """Average speed of answer of answered contacts [s] (Erlang A).

    Examples
    --------
    >>> round(asa(10.0, 12, 180, 120), 2)
    6.33
    """
    return metrics(traffic, agents, aht_seconds, patience_seconds, 0.0).asa_seconds


def occupancy(traffic, agents, aht_seconds, patience_seconds):
    """Carried load per agent, ``traffic (1 - P(Ab)) / N`` (0-1)."""
    return metrics(traffic, agents, aht_seconds, patience_seconds, 0.0,
                   with_asa=False).occupancy


# -- required agents -----------------------------------------------------------

def _constraint(c, x, a, h, p, t, limit):
    """Slack of constraint ``c`` at agents ``x`` (>= 0: met), increasing in x.

    The service-level slack is ``log(1 - target) - log(1 - SL)``: the same
    sign as ``SL - target`` but nearly linear in x, which the secant steps
    of the search like.
    """
    sl, w, occ, _, ab = _core(a, x, h, p, t, with_asa=(c == 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        if c == 0:
            return np.log1p(-limit) - np.log1p(-sl)
        if c == 1:
            return limit - np.where(np.isfinite(w), w, 1e300)
        if c == 2:
            return limit - np.where(np.isnan(occ), 1.0, occ)
        return limit - ab


def _level(c, a, h, p, t, limit, x0):
    """Agent level where constraint ``c`` is met exactly (continuous extension).

    Evaluates the guess ``x0`` and one agent beside it, extrapolates the
    secant to the root and gallops (doubling steps) until the root is
    bracketed, then refines with :func:`wfm.staffing.erlang.solve_increasing`.
    """
    m = a.size

    def f(x, idx):
        return _constraint(c, x, a[idx], h[idx], p[idx], t[idx], limit[idx])

    x0 = np.maximum(x0, 0.0)
    f0 = f(x0, np.arange(m))
    lo = np.where(f0 < 0, x0, np.nan)
    hi = np.where(f0 >= 0, x0, np.nan)
    f_lo = np.where(f0 < 0, f0, np.nan)
    f_hi = np.where(f0 >= 0, f0, np.nan)
    last_x, last_f = x0.copy(), f0.copy()      # the latest evaluation per element
    prev_x, prev_f = np.full(m, np.nan), np.full(m, np.nan)
    zero_ok = np.zeros(m, bool)
    step = np.ones(m)
    idx = np.flatnonzero(~((f0 >= 0) & (x0 <= 0)))
    zero_ok[(f0 >= 0) & (x0 <= 0)] = True
    while idx.size:
        met0 = f0[idx] >= 0
        # secant extrapolation from the last two points, overshooting a little
        # so the next point usually lands on the other side of the root
        with np.errstate(all="ignore"):
            sec = last_x[idx] - last_f[idx] * (last_x[idx] - prev_x[idx]) / (
                last_f[idx] - prev_f[idx])
        direction = np.where(met0, -1.0, 1.0)
        jump = np.abs(sec - last_x[idx]) * 1.3 + 0.1
        ok = np.isfinite(sec) & ((sec - last_x[idx]) * direction > 0) & (
            jump <= np.maximum(step[idx], 8.0))
        dist = np.where(ok, jump, step[idx])
        cand = np.maximum(last_x[idx] + direction * dist, 0.0)
        fc = f(cand, idx)
        met = fc >= 0
        hi[idx[met]], f_hi[idx[met]] = cand[met], fc[met]
        lo[idx[~met]], f_lo[idx[~met]] = cand[~met], fc[~met]
        prev_x[idx], prev_f[idx] = last_x[idx], last_f[idx]
        last_x[idx], last_f[idx] = cand, fc
        zero_ok[idx[met & (cand <= 0)]] = True
        step[idx] *= 2.0
        go = np.where(met0, met & (cand > 0), ~met)
        idx = idx[go]
        if idx.size and np.any(lo[idx] > 1e7):
            raise StaffingError("no staffing level up to 10 million agents meets the "
                                "Erlang A targets")
    out = np.zeros(m)
    todo = np.flatnonzero(~zero_ok)
    if todo.size:
        lx, px = last_x[todo], prev_x[todo]
        lf, pf = last_f[todo], prev_f[todo]
        with np.errstate(all="ignore"):
            guess = lx - lf * (lx - px) / (lf - pf)

        def g(x, idx):
            return f(x, todo[idx])

        out[todo] = solve_increasing(g, lo[todo], hi[todo], f_lo[todo], f_hi[todo],
                                     x0=guess, partner=(lx, lf))
    return out


def required_agents(traffic, aht_seconds, patience_seconds, answer_seconds, target, *,
                    asa_target=None, max_occupancy=None,
                    max_abandonment=None) -> RequiredAgents:
    """Minimal agents meeting service-level (and optional) targets, Erlang A.

    Every metric is continuous and monotone in the number of agents on the
    continuous extension, so the fractional requirement is found first: the
    level at which each constraint is met exactly (a bracketing search that
    starts from the Erlang C requirement, usually within a few agents), the
    largest of them binding. The whole requirement is its ceiling, checked
    against the exact metrics. Vectorised over intervals.

    Parameters
    ----------
    traffic : float or array
        Offered load [Erlangs].
    aht_seconds, patience_seconds, answer_seconds : float or array
        Handle time, mean patience and answer-time threshold [s].
    target : float or array
        Service-level target in [0, 1) (share of offered contacts answered
        within ``answer_seconds``).
    asa_target : float or array, optional
        Maximum ASA of answered contacts [s].
    max_occupancy : float or array, optional
        Occupancy cap (0-1].
    max_abandonment : float or array, optional
        Maximum share of abandoning contacts (0-1).

    Returns
    -------
    RequiredAgents

    Examples
    --------
    >>> r = required_agents(10.0, 180, 120, 20, 0.8)
    >>> int(r.whole), round(float(r.fractional), 4)
    (12, 11.6659)
    """
    _check_targets(target, asa_target, max_occupancy)
    if max_abandonment is not None and np.any(~(np.asarray(max_abandonment, float) > 0)):
        raise StaffingError(f"maximum abandonment must be > 0 (got {max_abandonment!r})")
    inputs = [traffic, aht_seconds, patience_seconds, answer_seconds, target,
              np.inf if asa_target is None else asa_target,
              1.0 if max_occupancy is None else max_occupancy,
              1.0 if max_abandonment is None else max_abandonment]
    arrs = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in inputs))
    shape = arrs[0].shape
    flat = [v.ravel() for v in arrs]
    a = flat[0]
    whole = np.zeros(a.shape, dtype=np.int64)
    frac = np.zeros(a.shape)
    pos = np.flatnonzero(a > 0)
    if pos.size:
        ap, hp, pp, tp, gp, atp, mop, abp = (v[pos] for v in flat)
        # the Erlang C requirement is a close, cheap first guess
        x0 = whole_agents_sl(ap, hp, tp, gp) - 0.5
        active = [(0, gp)]
        if asa_target is not None:
            active.append((1, atp))
        if max_occupancy is not None:
            active.append((2, mop))
        if max_abandonment is not None:
            active.append((3, abp))
        level = np.zeros(ap.shape)
        for c, limit in active:
            level = np.maximum(level, _level(c, ap, hp, pp, tp, limit, x0))
        n = _ceil_tol(level)
        # the root is known to ~1e-7 agents: where that leaves the integer in
        # doubt, settle it on the exact metrics
        doubt = np.flatnonzero((n - level < 1e-6) | (level - (n - 1.0) < 1e-6))
        if doubt.size:
            nd = n[doubt]
            for _ in range(3):
                miss = np.zeros(doubt.size, bool)
                for c, limit in active:
                    miss |= _constraint(c, nd, ap[doubt], hp[doubt], pp[doubt], tp[doubt],
                                        limit[doubt]) < 0
                if not miss.any():
                    break
                nd = nd + miss
            ok_below = nd > 0
            if np.any(ok_below):
                below = np.ones(doubt.size, bool)
                for c, limit in active:
                    below &= _constraint(c, np.maximum(nd - 1.0, 0.0), ap[doubt], hp[doubt],
                                         pp[doubt], tp[doubt], limit[doubt]) >= 0
                nd = np.where(below & ok_below, nd - 1.0, nd)
            n[doubt] = nd
        whole[pos] = n.astype(np.int64)
        frac[pos] = np.minimum(level, n)
    whole = whole.reshape(shape)
    frac = frac.reshape(shape)
    if not shape:
        return RequiredAgents(int(whole), float(frac))
    return RequiredAgents(whole, frac)
