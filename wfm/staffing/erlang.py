"""Erlang B and Erlang C (M/M/N) kernels, vectorised over intervals.

Model (Erlang C): Poisson arrivals, exponential handle times with mean
``aht_seconds``, ``agents`` identical servers, first come first served,
infinite patience. ``traffic`` is the offered load in Erlangs,
``volume * aht_seconds / interval_seconds``.

Numerics
--------
No factorials, no per-interval loops, no O(N) sums: Erlang B is computed from
the regularized upper incomplete gamma function, which also extends it to
any real number of agents ``x > 0`` (Jagerman's continuous extension)::

    B(x, A) = A**x * exp(-A) / Gamma(x + 1, A)
            = poisson_pmf(x; A) / Q(x + 1, A)

where ``Q = scipy.special.gammaincc`` (for integer ``x`` it is the Poisson
CDF ``P(Poisson(A) <= x)``) and the generalised Poisson pmf
``A**x e**-A / Gamma(x + 1)`` is evaluated with Loader's saddle-point form
(``stirlerr`` and ``bd0``), which keeps ~1e-15 relative accuracy even at
10,000 Erlangs, where ``x*log(A) - lgamma(x+1)`` would lose five digits to
cancellation. Erlang C follows from B, and the service level is assembled
from positive terms only, ``SL = (1 - C) + C * (1 - exp(-(x - A) t / aht))``,
so it keeps its relative accuracy even when it is tiny.

The continuous extension makes every metric a continuous, monotone function
of the number of agents, so the *fractional* requirement (the agent level
at which a target is met exactly) is a well-defined root, not an ad-hoc
linear interpolation between two integers; :func:`required_agents` returns
it next to the minimal whole number.

Conventions at the edges
------------------------
- ``traffic == 0``: nothing to serve; B = C = 0, service level 1, ASA 0,
  occupancy 0, and 0 agents are required.
- ``agents <= traffic`` (with traffic > 0): the queue is unstable; C = 1,
  service level 0, ASA = inf, occupancy 1.
- ``agents == 0`` with traffic > 0: as above, occupancy NaN (no one works).

Examples
--------
>>> from wfm.staffing.erlang import required_agents, service_level
>>> traffic = 100 * 180 / 1800     # 100 calls in 30 min, AHT 180 s: 10 Erlangs
>>> round(float(service_level(traffic, 14, 180, 20)), 4)
0.8884
>>> r = required_agents(traffic, 180, 20, 0.8)
>>> int(r.whole), round(float(r.fractional), 3)
(14, 13.037)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special as sc

from wfm.errors import StaffingError

__all__ = [
    "QueueMetrics",
    "RequiredAgents",
    "asa",
    "erlang_b",
    "erlang_c",
    "metrics",
    "occupancy",
    "required_agents",
    "service_level",
    "traffic_erlangs",
]

_LN_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
# Tolerance on the fractional agent level returned by the root finders [agents].
FRACTION_XTOL = 1e-7


class QueueMetrics(NamedTuple):
    """Performance of a queue at a given number of agents (arrays or scalars).

    Attributes
    ----------
    service_level : share of contacts answered within ``answer_seconds`` (0-1)
    asa_seconds : average speed of answer of answered contacts [s]
    occupancy : share of agent time busy with contacts (0-1)
    wait_probability : probability a contact has to wait (0-1)
    abandonment : share of contacts that abandon (0-1; 0 for Erlang C)
    """

    service_level: np.ndarray | float
    asa_seconds: np.ndarray | float
    occupancy: np.ndarray | float
    wait_probability: np.ndarray | float
    abandonment: np.ndarray | float


class RequiredAgents(NamedTuple):
    """Agents needed to meet every target.

    Attributes
    ----------
    whole : the minimal whole number of agents (int array or int)
    fractional : the agent level at which the binding target is met exactly,
        on the continuous extension, to ``FRACTION_XTOL`` (1e-7) agents
        (``whole - 1 < fractional <= whole`` except at the stability limit,
        where it equals the traffic)
    """

    whole: np.ndarray | int
    fractional: np.ndarray | float


def traffic_erlangs(volume, aht_seconds, interval_minutes):
    """Offered load [Erlangs] of ``volume`` contacts in one interval.

    Examples
    --------
    >>> traffic_erlangs(100, 180, 30)
    10.0
    """
    out = np.asarray(volume, dtype=float) * np.asarray(aht_seconds, dtype=float) / (
        60.0 * np.asarray(interval_minutes, dtype=float))
    return _like(out, volume, aht_seconds, interval_minutes)


# -- helpers -----------------------------------------------------------------

def _like(out, *inputs):
    """Return a Python float when every input was a scalar (type-preserving API)."""
    if all(np.ndim(v) == 0 for v in inputs):
        return float(np.asarray(out))
    return out


def _stirlerr(n):
    """``lgamma(n + 1) - ((n + 1/2) log n - n + log sqrt(2 pi))`` for n > 0.

    Loader (2000), "Fast and accurate computation of binomial probabilities":
    the asymptotic series for n > 15, the direct difference below (where it
    loses nothing noticeable because every term is small).
    """
    n = np.asarray(n, dtype=float)
    nn = n * n
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - 1.0 / 1188 / nn) / nn)
                           / nn) / nn) / n
    small = n <= 15.0
    if np.any(small):
        ns = n[small]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[small] = sc.gammaln(ns + 1.0) - (ns + 0.5) * np.log(ns) + ns - _LN_SQRT_2PI
    return out


def _bd0(x, m):
    """``x log(x/m) + m - x`` without cancellation (Loader 2000), x, m > 0."""
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    d = x - m
    s = x + m
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(x / m) - d
    near = np.abs(d) < 0.1 * s
    if np.any(near):
        # near x == m the series in v = (x-m)/(x+m) gains a factor 100 per term
        dn, xn = d[near], x[near]
        v = dn / s[near]
        acc = dn * v
        ej = 2.0 * xn * v
        v2 = v * v
        for j in range(1, 10):
            ej = ej * v2
            acc = acc + ej / (2 * j + 1)
        out[near] = acc
    return out


def log_poisson_pmf(n, mu):
    """``log(mu**n exp(-mu) / Gamma(n + 1))`` for real ``n >= 0`` and ``mu > 0``.

    Accurate to ~1e-15 absolute (so the pmf to ~1e-15 relative) even for
    ``n, mu`` in the tens of thousands.
    """
    n, mu = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(mu, dtype=float))
    shape = n.shape
    n, mu = n.ravel(), mu.ravel()
    pos = n > 0
    npos = np.where(pos, n, 1.0)
    val = -_stirlerr(npos) - _bd0(npos, mu) - 0.5 * np.log(2.0 * np.pi * npos)
    return np.where(pos, val, -mu).reshape(shape)


def _b_core(a, x):
    """Erlang B for a > 0, x > 0 (arrays, no edge handling)."""
    return np.exp(log_poisson_pmf(x, a)) / sc.gammaincc(x + 1.0, a)


def _c_from_b(a, x, b):
    """(C, 1 - C) from Erlang B for x > a > 0; both from positive terms."""
    rho = a / x
    one_minus_b = 1.0 - b
    denom = 1.0 - rho * one_minus_b
    c = b / denom
    not_c = (1.0 - rho) * one_minus_b / denom
    return c, not_c


def _sl_from_c(a, x, c, not_c, aht, t):
    """Service level from C for x > a > 0."""
    return not_c + c * -np.expm1(-(x - a) * t / aht)


# -- public kernels ------------------------------------------------------------

def erlang_b(traffic, agents):
    """Erlang B blocking probability of ``agents`` servers offered ``traffic``.

    Parameters
    ----------
    traffic : float or array
        Offered load [Erlangs], >= 0.
    agents : float or array
        Number of servers, >= 0; non-integers use the continuous extension
        ``B(x, A) = A**x e**-A / Gamma(x + 1, A)``.

    Returns
    -------
    float or array
        Blocking probability (0-1).

    Examples
    --------
    >>> round(erlang_b(10, 10), 6)
    0.214582
    """
    a, x = np.broadcast_arrays(np.asarray(traffic, dtype=float), np.asarray(agents, dtype=float))
    with np.errstate(all="ignore"):
        core = _b_core(np.where(a > 0, a, 1.0), np.where(x > 0, x, 1.0))
    out = np.where(x <= 0, 1.0, np.where(a <= 0, 0.0, core))
    return _like(out, traffic, agents)


def erlang_c(traffic, agents):
    """Erlang C: probability that a contact waits (M/M/N, infinite patience).

    Parameters
    ----------
    traffic : float or array
        Offered load [Erlangs], >= 0.
    agents : float or array
        Number of agents (real values use the continuous extension).

    Returns
    -------
    float or array
        Probability of waiting (0-1); 1 when ``agents <= traffic``.

    Examples
    --------
    >>> round(erlang_c(10, 14), 6)
    0.174132
    """
    a, x = np.broadcast_arrays(np.asarray(traffic, dtype=float), np.asarray(agents, dtype=float))
    stable = (x > a) & (a > 0)
    with np.errstate(all="ignore"):
        aa = np.where(stable, a, 1.0)
        xx = np.where(stable, x, 2.0)
        c, _ = _c_from_b(aa, xx, _b_core(aa, xx))
    out = np.where(a <= 0, 0.0, np.where(stable, c, 1.0))
    return _like(out, traffic, agents)


def metrics(traffic, agents, aht_seconds, answer_seconds) -> QueueMetrics:
    """Every Erlang C metric at once (one incomplete-gamma evaluation).

    Parameters
    ----------
    traffic : float or array
        Offered load [Erlangs].
    agents : float or array
        Agents on the queue (real values use the continuous extension).
    aht_seconds : float or array
        Average handle time [s].
    answer_seconds : float or array
        The T of "X % answered within T seconds" [s].

    Returns
    -------
    QueueMetrics
        ``abandonment`` is 0 (no abandonment in Erlang C).
    """
    a, x, h, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                       (traffic, agents, aht_seconds, answer_seconds)))
    stable = (x > a) & (a > 0)
    with np.errstate(all="ignore"):
        aa = np.where(stable, a, 1.0)
        xx = np.where(stable, x, 2.0)
        c, not_c = _c_from_b(aa, xx, _b_core(aa, xx))
        sl = _sl_from_c(aa, xx, c, not_c, h, t)
        w = c * h / (xx - aa)
        occ = np.where(x > 0, np.minimum(a / np.where(x > 0, x, 1.0), 1.0), np.nan)
    zero = a <= 0
    sl = np.where(zero, 1.0, np.where(stable, sl, 0.0))
    w = np.where(zero, 0.0, np.where(stable, w, np.inf))
    c = np.where(zero, 0.0, np.where(stable, c, 1.0))
    occ = np.where(zero, 0.0, occ)
    ab = np.zeros_like(sl)
    ins = (traffic, agents, aht_seconds, answer_seconds)
    return QueueMetrics(_like(sl, *ins), _like(w, *ins), _like(occ, *ins), _like(c, *ins),
                        _like(ab, *ins))


def service_level(traffic, agents, aht_seconds, answer_seconds):
    """Share of contacts answered within ``answer_seconds`` (Erlang C).

    ``SL = 1 - C(N, A) exp(-(N - A) T / AHT)``; 0 when ``agents <= traffic``.

    Parameters
    ----------
    traffic : float or array
        Offered load [Erlangs].
    agents : float or array
        Agents (real values use the continuous extension).
    aht_seconds : float or array
        Average handle time [s].
    answer_seconds : float or array
        Answer-time threshold T [s].

    Returns
    -------
    float or array
        Service level (0-1).

    Examples
    --------
    >>> round(service_level(10, 14, 180, 20), 6)
    0.88835
    """
    return metrics(traffic, agents, aht_seconds, answer_seconds).service_level


def asa(traffic, agents, aht_seconds):
    """Average speed of answer [s] (Erlang C): ``C * AHT / (N - A)``.

    Infinite when ``agents <= traffic``.

    Examples
    --------
    >>> round(asa(10, 14, 180), 4)
    7.8359
    """
    return metrics(traffic, agents, aht_seconds, 0.0).asa_seconds


def occupancy(traffic, agents):
    """Share of agent time busy, ``min(A / N, 1)`` (NaN for 0 agents with traffic).

    Examples
    --------
    >>> occupancy(10, 14)
    0.7142857142857143
    """
    a, x = np.broadcast_arrays(np.asarray(traffic, dtype=float), np.asarray(agents, dtype=float))
    with np.errstate(all="ignore"):
        out = np.where(a <= 0, 0.0,
                       np.where(x > 0, np.minimum(a / np.where(x > 0, x, 1.0), 1.0), np.nan))
    return _like(out, traffic, agents)


# -- required agents -----------------------------------------------------------

def _check_targets(target, asa_target, max_occupancy):
    t = np.asarray(target, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t >= 1.0) or np.any(t < 0.0):
        raise StaffingError(
            "service-level target must be in [0, 1): no finite number of agents answers "
            f"every contact within the threshold (got {target!r})")
    if asa_target is not None:
        at = np.asarray(asa_target, dtype=float)
        if np.any(~(at > 0)):
            raise StaffingError(f"ASA target must be > 0 seconds (got {asa_target!r})")
    if max_occupancy is not None:
        mo = np.asarray(max_occupancy, dtype=float)
        if np.any(~(mo > 0)) or np.any(mo > 1):
            raise StaffingError(f"maximum occupancy must be in (0, 1] (got {max_occupancy!r})")


def solve_increasing(func, lo, hi, f_lo, f_hi, x0=None, xtol=FRACTION_XTOL, maxiter=100,
                     partner=None):
    """Vectorised root of increasing functions on brackets (safeguarded secant).

    Secant steps through the two latest iterates (superlinear near the
    root), falling back to bisection whenever a step would leave the
    bracket, so it always converges; elements that have converged drop out.

    Parameters
    ----------
    func : callable
        ``func(x, idx) -> array``: the functions of elements ``idx`` at ``x``.
        Any increasing transform of the target function works and a nearly
        linear one converges fastest.
    lo, hi : array
        Brackets with ``f_lo < 0 <= f_hi`` (values given, not re-evaluated).
    x0 : array, optional
        A first guess inside the bracket (e.g. from interpolation).
    partner : (array, array), optional
        A point ``(x, f(x))`` already evaluated near ``x0``, used with ``x0``
        for the first secant step (default: the nearer bracket end).
    xtol : float
        Absolute tolerance on the root.

    Returns
    -------
    numpy.ndarray
        Roots; where ``f_hi == 0`` the root is ``hi``.
    """
    a = np.array(lo, dtype=float)
    b = np.array(hi, dtype=float)
    fa = np.array(f_lo, dtype=float)
    fb = np.array(f_hi, dtype=float)
    m = a.size
    root = b.copy()
    idx = np.flatnonzero((fb > 0) & (b - a > xtol))
    if x0 is not None and idx.size:
        c = np.clip(np.asarray(x0, dtype=float)[idx], a[idx], b[idx])
        inside = (c > a[idx]) & (c < b[idx])
        c = np.where(inside, c, 0.5 * (a[idx] + b[idx]))
        fc = func(c, idx)
        near_a = (c - a[idx]) < (b[idx] - c)
        p_prev = np.where(near_a, a[idx], b[idx])
        f_prev = np.where(near_a, fa[idx], fb[idx])
        if partner is not None:
            px, pf = (np.asarray(v, dtype=float)[idx] for v in partner)
            ok = np.isfinite(px) & np.isfinite(pf) & (px != c)
            p_prev = np.where(ok, px, p_prev)
            f_prev = np.where(ok, pf, f_prev)
        neg = fc < 0
        a[idx[neg]], fa[idx[neg]] = c[neg], fc[neg]
        b[idx[~neg]], fb[idx[~neg]] = c[~neg], fc[~neg]
        root[idx] = c
        keep = (fc != 0) & (b[idx] - a[idx] > xtol)
        idx, p_cur, f_cur, p_prev, f_prev = idx[keep], c[keep], fc[keep], p_prev[keep], \
            f_prev[keep]
    else:
        p_cur, f_cur, p_prev, f_prev = b[idx], fb[idx], a[idx], fa[idx]
    for it in range(maxiter):
        if idx.size == 0:
            break
        ai, bi = a[idx], b[idx]
        with np.errstate(all="ignore"):
            c = p_cur - f_cur * (p_cur - p_prev) / (f_cur - f_prev)
        # bisect when the secant leaves the bracket, and every 8th step so a
        # badly conditioned element cannot stall
        bad = ~np.isfinite(c) | (c <= ai) | (c >= bi) | (it % 8 == 7)
        c = np.where(bad, 0.5 * (ai + bi), c)
        # a secant step below the tolerance means the iterate is converged
        # (superlinear convergence): accept it without another evaluation
        done = ~bad & (np.abs(c - p_cur) <= xtol)
        if np.any(done):
            root[idx[done]] = c[done]
            go = ~done
            idx, c, ai, bi = idx[go], c[go], ai[go], bi[go]
            p_cur, f_cur, p_prev, f_prev, bad = p_cur[go], f_cur[go], p_prev[go], \
                f_prev[go], bad[go]
            if idx.size == 0:
                break
        fc = func(c, idx)
        neg = fc < 0
        a[idx[neg]], fa[idx[neg]] = c[neg], fc[neg]
        b[idx[~neg]], fb[idx[~neg]] = c[~neg], fc[~neg]
        root[idx] = c
        step = np.abs(c - p_cur)
        keep = (fc != 0) & (b[idx] - a[idx] > xtol) & ((step > xtol) | bad)
        p_prev, f_prev, p_cur, f_cur = p_cur[keep], f_cur[keep], c[keep], fc[keep]
        idx = idx[keep]
    return root


def _ceil_tol(v):
    """Ceiling that forgives floating-point noise (10.000000000000002 -> 10)."""
    v = np.asarray(v, dtype=float)
    return np.ceil(v - 1e-9 * np.maximum(1.0, np.abs(v)))


def required_agents(traffic, aht_seconds, answer_seconds, target, *, asa_target=None,
                    max_occupancy=None) -> RequiredAgents:
    """Minimal agents meeting a service-level target (Erlang C), whole and fractional.

    Finds, per interval, the smallest integer ``N > traffic`` with
    ``service_level(traffic, N) >= target`` and, when given,
    ``asa(traffic, N) <= asa_target`` and ``traffic / N <= max_occupancy``.
    The search walks up from ``floor(traffic) + 1`` with the stable
    recursion ``B(n) = A B(n-1) / (n + A B(n-1))`` on the still-unmet
    intervals only (cost ~ ``beta * sqrt(A)`` cheap steps per interval, no
    Python loop over intervals). The fractional requirement is the root of
    the binding constraint on the continuous extension in ``[N - 1, N]``.

    Parameters
    ----------
    traffic : float or array
        Offered load [Erlangs], >= 0.
    aht_seconds : float or array
        Average handle time [s].
    answer_seconds : float or array
        Answer-time threshold T [s].
    target : float or array
        Service-level target in [0, 1).
    asa_target : float or array, optional
        Maximum average speed of answer [s].
    max_occupancy : float or array, optional
        Occupancy cap in (0, 1].

    Returns
    -------
    RequiredAgents
        ``whole`` (int) and ``fractional`` (float); both 0 where traffic is 0.

    Raises
    ------
    StaffingError
        If a target is outside its range (e.g. a service level of 1).

    Examples
    --------
    >>> r = required_agents(10.0, 180, 20, 0.8)
    >>> int(r.whole), round(float(r.fractional), 4)
    (14, 13.0372)
    """
    _check_targets(target, asa_target, max_occupancy)
    inputs = [traffic, aht_seconds, answer_seconds, target,
              np.inf if asa_target is None else asa_target,
              1.0 if max_occupancy is None else max_occupancy]
    arrs = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in inputs))
    shape = arrs[0].shape
    a, h, t, tgt, at, mo = (v.ravel() for v in arrs)
    has_asa = asa_target is not None

    whole = np.zeros(a.shape, dtype=np.int64)
    frac = np.zeros(a.shape, dtype=float)
    pos = np.flatnonzero(a > 0)
    if pos.size:
        ap, hp, tp, gp, atp, mop = a[pos], h[pos], t[pos], tgt[pos], at[pos], mo[pos]
        n_stable = np.floor(ap) + 1.0
        occ_level = ap / mop
        n0 = np.maximum(n_stable, _ceil_tol(occ_level))
        n_sl, n_asa, sl_at, sl_before = _walk_up(ap, hp, tp, gp, atp, n0, has_asa)
        n = np.maximum(np.maximum(n_sl, n_asa), n0)
        # the binding constraint's fractional level; constraints that were
        # already met at N - 1 cannot bind
        level = np.maximum(ap, np.where(_ceil_tol(occ_level) >= n, occ_level, 0.0))
        lo = np.maximum(n - 1.0, ap)
        i = np.flatnonzero(n_sl >= n)
        if i.size:
            # SL at N and N - 1 are known from the walk (0 at the stability limit)
            sl_lo = np.where(lo[i] <= ap[i], 0.0, sl_before[i])
            miss = np.isnan(sl_lo)
            if np.any(miss):
                j = i[miss]
                sl_lo[miss] = metrics(ap[j], lo[j], hp[j], tp[j]).service_level
            level[i] = np.maximum(level[i], _sl_level(ap[i], hp[i], tp[i], gp[i], lo[i], n[i],
                                                      sl_lo, sl_at[i]))
        if has_asa:
            i = np.flatnonzero(n_asa >= n)
            if i.size:
                level[i] = np.maximum(level[i],
                                      _asa_level(ap[i], hp[i], atp[i], lo[i], n[i]))
        whole[pos] = n.astype(np.int64)
        frac[pos] = np.minimum(level, n)
    whole = whole.reshape(shape)
    frac = frac.reshape(shape)
    if not shape:
        return RequiredAgents(int(whole), float(frac))
    return RequiredAgents(whole, frac)


def whole_agents_sl(traffic, aht_seconds, answer_seconds, target):
    """Minimal whole agents for the service-level target only (1-D arrays, traffic > 0).

    The integer walk of :func:`required_agents` without the fractional root;
    a cheap starting point for other searches (Erlang A).
    """
    a = np.asarray(traffic, dtype=float)
    n0 = np.floor(a) + 1.0
    n_sl = _walk_up(a, np.broadcast_to(aht_seconds, a.shape), np.broadcast_to(answer_seconds,
                    a.shape), np.broadcast_to(target, a.shape), np.full(a.shape, np.inf), n0,
                    False)[0]
    return np.maximum(n_sl, n0)


def _sl_level(a, h, t, target, lo, hi, sl_lo=None, sl_hi=None):
    """Agent level in [lo, hi] where the continuous SL equals ``target``.

    Solved on ``log(1 - target) - log(1 - SL)``: since
    ``log(1 - SL) = log C - (x - A) T / AHT`` with a slowly varying ``log C``
    it is nearly linear in x, so the interpolated first guess leaves one or
    two secant steps.
    """
    g_t = np.log1p(-target)

    def f(x, idx):
        sl = metrics(a[idx], x, h[idx], t[idx]).service_level
        with np.errstate(divide="ignore"):
            return g_t[idx] - np.log1p(-sl)

    every = np.arange(a.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_lo = f(lo, every) if sl_lo is None else g_t - np.log1p(-sl_lo)
        f_hi = f(hi, every) if sl_hi is None else g_t - np.log1p(-sl_hi)
        x0 = lo - f_lo * (hi - lo) / (f_hi - f_lo)
    x0 = np.where(np.isfinite(x0), x0, 0.5 * (lo + hi))
    return solve_increasing(f, lo, hi, f_lo, f_hi, x0=x0)


def _asa_level(a, h, asa_target, lo, hi):
    """Agent level in [lo, hi] where the continuous ASA equals ``asa_target``."""
    def f(x, idx):
        with np.errstate(all="ignore"):
            w = metrics(a[idx], x, h[idx], 0.0).asa_seconds
        return asa_target[idx] - np.where(np.isfinite(w), w, 1e300)

    f_lo = f(lo, np.arange(a.size))
    f_hi = f(hi, np.arange(a.size))
    return solve_increasing(f, lo, hi, f_lo, f_hi)


def _walk_up(a, h, t, target, asa_target, n0, has_asa):
    """First integer n >= n0 meeting the SL (and ASA) target, per element.

    Returns the first n meeting each constraint separately, except that a
    constraint already met at ``n0`` is reported as ``n0 - 1`` when it is also
    met at ``n0 - 1`` (so callers know it does not bind) and ``n0`` otherwise.
    """
    m = a.size
    n_sl = np.full(m, -1.0)
    n_asa = np.full(m, -1.0) if has_asa else np.zeros(m)
    idx = np.arange(m)
    n = n0.copy()
    with np.errstate(all="ignore"):
        b = _b_core(a, n)
    aa, hh, tt, gg, at = a, h, t, target, asa_target
    first = True
    sl_at = np.full(m, np.nan)        # SL at the first meeting level ...
    sl_before = np.full(m, np.nan)    # ... and one agent below it
    sl_prev = np.full(m, np.nan)
    while idx.size:
        c, not_c = _c_from_b(aa, n, b)
        sl = _sl_from_c(aa, n, c, not_c, hh, tt)
        sl_ok = sl >= gg
        asa_ok = (c * hh / (n - aa) <= at) if has_asa else np.ones(idx.size, bool)
        new_sl = sl_ok & (n_sl[idx] < 0)
        n_sl[idx[new_sl]] = n[new_sl]
        sl_at[idx[new_sl]] = sl[new_sl]
        sl_before[idx[new_sl]] = sl_prev[new_sl]
        if has_asa:
            new_asa = asa_ok & (n_asa[idx] < 0)
            n_asa[idx[new_asa]] = n[new_asa]
        if first:
            _mark_nonbinding_at_start(a, h, t, target, asa_target, n0, n_sl, n_asa, has_asa)
            first = False
        done = (n_sl[idx] >= 0) & (n_asa[idx] >= 0)
        keep = ~done
        if not keep.any():
            break
        idx, aa, hh, tt, gg, at, n, b, sl_prev = (
            v[keep] for v in (idx, aa, hh, tt, gg, at, n, b, sl))
        n = n + 1.0
        ab = aa * b
        b = ab / (n + ab)
    return n_sl, n_asa, sl_at, sl_before


def _mark_nonbinding_at_start(a, h, t, target, asa_target, n0, n_sl, n_asa, has_asa):
    """For constraints met already at the starting level, check n0 - 1."""
    for arr, is_sl in ((n_sl, True), (n_asa, False)):
        if not is_sl and not has_asa:
            continue
        met0 = np.flatnonzero(arr == n0)
        if met0.size == 0:
            continue
        prev = n0[met0] - 1.0
        sub = met0[prev > a[met0]]
        if sub.size == 0:
            continue
        mm = metrics(a[sub], n0[sub] - 1.0, h[sub], t[sub])
        ok = (mm.service_level >= target[sub]) if is_sl else (mm.asa_seconds <= asa_target[sub])
        arr[sub[ok]] = n0[sub[ok]] - 1.0
