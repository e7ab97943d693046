"""The spent privacy budget, computed from an Opacus accountant history and nothing else.

A DP-SGD run is fully described, for accounting, by ``(noise_multiplier,
sample_rate, steps)`` triples (Opacus' ``accountant.history``). Keeping the
computation here, separate from training, lets the report say exactly how the
epsilon was obtained and lets a reviewer (or a test) recompute it from the
numbers in results.json with Opacus alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

ACCOUNTANTS: tuple[str, ...] = ("prv", "rdp", "gdp")
#: Numerical precision asked of the PRV accountant (Opacus' default); the PRV
#: accountant returns an upper bound with at most this error above the estimate.
PRV_EPS_ERROR = 0.01


@dataclass(frozen=True)
class Spent:
    """Epsilon spent for a delta: the guarantee (``epsilon``) and, for PRV, its numerical bracket."""

    epsilon: float
    lower: float | None = None
    estimate: float | None = None


def _accountant(mechanism: str, history: Sequence[tuple[float, float, int]]):  # type: ignore[no-untyped-def]
    from opacus.accountants.utils import create_accountant

    accountant = create_accountant(mechanism=mechanism)
    accountant.history = [(float(s), float(q), int(n)) for s, q, n in history]
    return accountant


def spent_epsilon(mechanism: str, history: Sequence[tuple[float, float, int]], delta: float) -> Spent:
    """Epsilon at ``delta`` for the given history, as Opacus' accountant ``mechanism`` computes it.

    For ``prv`` the value is Opacus' ``get_epsilon`` (the upper end of the
    PRV accountant's numerical bracket), and the bracket's lower end and
    estimate are returned too; ``rdp`` and ``gdp`` give a single number.
    """
    if mechanism not in ACCOUNTANTS:
        raise ValueError(f"unknown accountant {mechanism!r}; expected one of {', '.join(ACCOUNTANTS)}")
    if not history or sum(int(n) for _, _, n in history) == 0:
        return Spent(epsilon=0.0, lower=0.0, estimate=0.0)
    accountant = _accountant(mechanism, history)
    epsilon = float(accountant.get_epsilon(delta=delta, eps_error=PRV_EPS_ERROR) if mechanism == "prv" else accountant.get_epsilon(delta=delta))
    if mechanism != "prv":
        return Spent(epsilon=epsilon)
    delta_error = delta / 1000  # Opacus' default in PRVAccountant.get_epsilon
    dprv = accountant._get_dprv(eps_error=PRV_EPS_ERROR, delta_error=delta_error)
    lower, estimate, _upper = dprv.compute_epsilon(delta, delta_error, PRV_EPS_ERROR)
    return Spent(epsilon=epsilon, lower=float(lower), estimate=float(estimate))


def total_steps(history: Sequence[tuple[float, float, int]]) -> int:
    return int(sum(int(n) for _, _, n in history))
