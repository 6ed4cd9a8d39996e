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
    root_increasing,
)
from wfm.staffing.erlang import required_agents as _erlang_c_required

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
    q0 = sc.gammaincc(npos, a)
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
    """``log J(x, y)`` with ``J = P(x, y) / g(x, y) >= 1``."""
    px = sc.gammainc(x, y)
    lj = _log(px) - log_poisson_pmf(x, y)
    uf = px < _TINY
    if np.any(uf):
        lj[uf] = np.log(_series_m(x[uf], y[uf]))
    return np.maximum(lj, 0.0)


def _log_served_within(x, y, u):
    """``log(x/(x+1) [P(x+1, y) - P(x+1, y u)] / g(x+1, y))``."""
    p1 = sc.gammainc(x + 1.0, y)
    diff = p1 - sc.gammainc(x + 1.0, y * u)
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = _log(x / (x + 1.0)) + _log(diff) - log_poisson_pmf(x + 1.0, y)
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
        lj = _log_j(x, y)
        lj1 = lj + _log(-np.expm1(-lj))                 # log(J - 1)
        log_d = np.logaddexp(l_inv, lj1)                # log(1/E + J - 1) = -log pi_N
        pw = np.exp(lj - log_d)
        below = np.exp(l_inv1 - log_d)
        u = np.exp(-t / p)
        sl = below + np.exp(_log_served_within(x, y, u) - log_d)
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
                                   + _log_sum_p_over_a(xo, yo) - log_poisson_pmf(xo + 1.0, yo))
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

def _slacks(x, a, h, p, t, target, asa_t, occ_t, ab_t, with_asa):
    """Each constraint's slack (>= 0 means met), shape (4, len(x))."""
    sl, w, occ, _, ab = _core(a, x, h, p, t, with_asa)
    with np.errstate(invalid="ignore"):
        w = np.where(np.isfinite(w), w, 1e300)
        occ = np.where(np.isnan(occ), 1.0, occ)
        return np.stack([sl - target,
                         (asa_t - w) if with_asa else np.zeros_like(sl),
                         occ_t - occ,
                         ab_t - ab])


def _meets(x, idx, args, with_asa):
    s = _slacks(x, *(v[idx] for v in args), with_asa)
    return np.all(s >= 0.0, axis=0)


def _min_integer(pred, guess):
    """Smallest integer ``n >= 0`` with ``pred(n, idx)`` true (pred monotone in n).

    Gallops from ``guess`` with doubling steps until the answer is bracketed,
    then bisects; vectorised over elements, ~2 log2 |answer - guess| + 1
    evaluations each.
    """
    m = guess.size
    ok = pred(guess, np.arange(m))
    lo = np.where(ok, -1.0, guess)       # a failing level (-1: below every level)
    hi = np.where(ok, guess, np.inf)     # a meeting level
    step = np.ones(m)
    idx = np.flatnonzero(ok & (guess > 0))
    while idx.size:                      # met at the guess: walk down
        cand = np.maximum(hi[idx] - step[idx], 0.0)
        res = pred(cand, idx)
        hi[idx[res]] = cand[res]
        lo[idx[~res]] = cand[~res]
        step[idx] *= 2.0
        idx = idx[res & (cand > 0)]
    step[:] = 1.0
    idx = np.flatnonzero(~ok)
    while idx.size:                      # missed at the guess: walk up
        cand = lo[idx] + step[idx]
        res = pred(cand, idx)
        hi[idx[res]] = cand[res]
        lo[idx[~res]] = cand[~res]
        step[idx] *= 2.0
        idx = idx[~res]
        if idx.size and np.any(lo[idx] > 1e7):
            raise StaffingError("no staffing level up to 10 million agents meets the "
                                "Erlang A targets")
    idx = np.flatnonzero(hi - lo > 1.0)
    while idx.size:                      # bisect the bracket (lo fails, hi meets)
        mid = np.floor((lo[idx] + hi[idx]) / 2.0)
        res = pred(mid, idx)
        hi[idx[res]] = mid[res]
        lo[idx[~res]] = mid[~res]
        idx = idx[hi[idx] - lo[idx] > 1.0]
    return hi


def required_agents(traffic, aht_seconds, patience_seconds, answer_seconds, target, *,
                    asa_target=None, max_occupancy=None,
                    max_abandonment=None) -> RequiredAgents:
    """Minimal agents meeting service-level (and optional) targets, Erlang A.

    The search starts from the Erlang C requirement (usually within a few
    agents of the answer) and gallops/bisects over integers, vectorised over
    intervals; the fractional requirement is the root of the binding
    constraint on the continuous extension in ``[N - 1, N]``.

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
    >>> int(r.whole)
    12
    """
    from wfm.staffing.erlang import _check_targets
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
    with_asa = asa_target is not None
    whole = np.zeros(a.shape, dtype=np.int64)
    frac = np.zeros(a.shape)
    pos = np.flatnonzero(a > 0)
    if pos.size:
        args = [v[pos] for v in flat]
        ap, hp, pp, tp, gp, atp, mop, abp = args
        guess = np.asarray(_erlang_c_required(ap, hp, tp, gp).whole, dtype=float)

        def pred(n, idx):
            return _meets(n, idx, args, with_asa)

        n = _min_integer(pred, guess)
        level = np.zeros(n.shape)
        lo = np.maximum(n - 1.0, 0.0)
        s_lo = _slacks(lo, *args, with_asa)
        s_lo[:, n <= 0] = 0.0
        funcs = (_sl_fn, _asa_fn, _occ_fn, _ab_fn)
        limits = (gp, atp, mop, abp)
        for c in range(4):
            i = np.flatnonzero(s_lo[c] < 0)
            if i.size == 0:
                continue
            xr = root_increasing(funcs[c], lo[i], n[i],
                                 (ap[i], hp[i], pp[i], tp[i], limits[c][i]))
            level[i] = np.maximum(level[i], xr)
        whole[pos] = n.astype(np.int64)
        frac[pos] = np.minimum(level, n)
    whole = whole.reshape(shape)
    frac = frac.reshape(shape)
    if not shape:
        return RequiredAgents(int(whole), float(frac))
    return RequiredAgents(whole, frac)


def _sl_fn(x, a, h, p, t, target):
    return _core(a, x, h, p, t, False)[0] - target


def _asa_fn(x, a, h, p, t, asa_t):
    w = _core(a, x, h, p, t, True)[1]
    return asa_t - np.where(np.isfinite(w), w, 1e300)


def _occ_fn(x, a, h, p, t, occ_t):
    occ = _core(a, x, h, p, t, False)[2]
    return occ_t - np.where(np.isnan(occ), 1.0, occ)


def _ab_fn(x, a, h, p, t, ab_t):
    return ab_t - _core(a, x, h, p, t, False)[4]
