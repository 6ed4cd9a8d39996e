"""Independent reference for Erlang A (M/M/N+M), built from the model only.

The stationary distribution comes from the birth-death balance equations
(summed in mpmath at high precision). A caller who finds ``j`` others
queued is followed as a small absorbing Markov chain (states: callers ahead
of it; absorbing: answered, abandoned): its chance of being answered within
T is a matrix exponential, its mean wait when answered a phase-type moment.
None of the closed forms of ``wfm.staffing.erlang_a`` is used here.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
from scipy.linalg import expm, solve


def stationary(traffic, agents, aht, patience, tol=1e-30, dps=40):
    """pi_n for n = 0..n_max (mpmath list) from the balance equations."""
    mp.mp.dps = dps
    lam = mp.mpf(traffic) / aht
    mu = mp.mpf(1) / aht
    th = mp.mpf(1) / patience
    w = [mp.mpf(1)]
    n = 0
    while True:
        n += 1
        rate_out = min(n, agents) * mu + max(n - agents, 0) * th
        w.append(w[-1] * lam / rate_out)
        if n > agents + 10 and w[-1] < tol * sum(w[-50:]):
            break
    z = mp.fsum(w)
    return [v / z for v in w]


def tagged_chain(j, agents, aht, patience):
    """Generator of the transient states k = j..0 (callers ahead) and the exit rates."""
    mu, th = 1.0 / aht, 1.0 / patience
    m = j + 1                        # state index i <-> k = j - i callers ahead
    q = np.zeros((m, m))
    served = np.zeros(m)
    for i in range(m):
        k = j - i
        advance = agents * mu + k * th
        q[i, i] = -(advance + th)    # own abandonment at rate theta
        if k > 0:
            q[i, i + 1] = advance
        else:
            served[i] = agents * mu
    return q, served


def reference(traffic, agents, aht, patience, answer):
    """(service_level, abandonment, wait_probability, asa_answered) from first principles."""
    pi = stationary(traffic, agents, aht, patience)
    p_below = float(mp.fsum(pi[:agents]))
    sl = p_below
    served_total = p_below
    wait_served = 0.0
    for j, pj in enumerate(pi[agents:]):
        pj = float(pj)
        if pj < 1e-300:
            break
        q, s = tagged_chain(j, agents, aht, patience)
        e0 = np.zeros(j + 1)
        e0[0] = 1.0
        # answered within T: integral of the flow into "answered" up to T
        big = np.zeros((j + 2, j + 2))
        big[: j + 1, : j + 1] = q
        big[: j + 1, j + 1] = s
        sl += pj * expm(big * answer)[0, j + 1]
        x1 = solve(-q, s)                     # P(answered) from each state
        served_total += pj * x1[0]
        wait_served += pj * solve(-q, x1)[0]  # E[wait; answered] = a (-Q)^-2 s
    pw = float(mp.fsum(pi[agents:]))
    return sl, 1.0 - served_total, pw, wait_served / served_total


def reference_mp(traffic, agents, aht, patience, answer, dps=30):
    """(service_level, abandonment, wait_probability) in mpmath, any traffic.

    Uses the stationary distribution from the balance equations and, for a
    caller finding ``j`` queued, P(answered within T) =
    x/(x+j+1) * I_{1-u}(j+1, x+1) (x = N patience/aht, u = exp(-T/patience)):
    its wait tilted by its own survival is the (j+1)-th order statistic of
    x+j+1 exponentials (checked against the absorbing chain above on small
    cases in the tests). Abandonment from flow balance: carried load =
    E[busy agents].
    """
    pi = stationary(traffic, agents, aht, patience, tol=mp.mpf(10) ** (-dps), dps=dps)
    x = mp.mpf(agents) * patience / aht
    p = 1 - mp.exp(-mp.mpf(answer) / patience)
    sl = mp.fsum(pi[:agents])
    negligible = mp.mpf(10) ** (-dps)
    for j, pj in enumerate(pi[agents:]):
        if pj > negligible:
            sl += pj * x / (x + j + 1) * mp.betainc(j + 1, x + 1, 0, p, regularized=True)
    busy = mp.fsum(min(n, agents) * v for n, v in enumerate(pi))
    carried = busy / mp.mpf(traffic)          # share of offered contacts served
    return sl, 1 - carried, mp.fsum(pi[agents:])
