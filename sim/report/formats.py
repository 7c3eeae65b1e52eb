"""How numbers are written for people, in one place (terminal tables, plots, the HTML report).

- Rates and probabilities in percent (``40.0%``); interval widths in percentage points
  (``36.2 pp``), so a width never stands as ``0.362`` beside a rate of ``40.0%``.
- A Monte Carlo estimate carries its standard error to two significant digits, and the estimate
  as many decimals as its SE (``76.71% ± 0.30%``; ``36.225 ± 0.012 pp``): an SE never shows as
  ``0.0000``.
- Beside a target, enough digits that a value below it never prints as the target itself
  (0.89987 against 0.9 is ``89.99%``, not ``90.0%``).
- p-values with four significant digits, trailing zeros kept (``0.05818``, ``1.000``).
"""

from __future__ import annotations

import math
from typing import Optional

DASH = "—"
MAX_DECIMALS = 6


def pct(value: Optional[float], digits: int = 1) -> str:
    """``0.4`` as ``40.0%``.

    Examples
    --------
    >>> pct(0.4), pct(0.80707, 2), pct(None)
    ('40.0%', '80.71%', '—')
    """
    return DASH if value is None else f"{100 * value:.{digits}f}%"


def pp(width: Optional[float], digits: int = 1) -> str:
    """An interval width in percentage points: ``0.362`` as ``36.2 pp``."""
    return DASH if width is None else f"{100 * width:.{digits}f} pp"


def se_decimals(se: Optional[float], minimum: int) -> int:
    """Decimals (in the display unit) that show ``se`` to two significant digits, at least ``minimum``."""
    if se is None or not math.isfinite(se) or se <= 0:
        return minimum
    return min(MAX_DECIMALS, max(minimum, 1 - math.floor(math.log10(se))))


def with_se(value: Optional[float], se: Optional[float], *, unit: str = "%", minimum: int = 1) -> str:
    """``value ± se`` in percent (``unit="%"``) or percentage points (``unit="pp"``).

    Examples
    --------
    >>> with_se(0.7671, 0.0029887)
    '76.71% ± 0.30%'
    >>> with_se(0.362254, 0.000123, unit="pp")
    '36.225 ± 0.012 pp'
    >>> with_se(0.0, 0.0)
    '0.0% ± 0'
    """
    if value is None:
        return DASH
    scaled_se = None if se is None else 100 * se
    digits = se_decimals(scaled_se, minimum)
    if se is None:
        return f"{100 * value:.{digits}f}{'%' if unit == '%' else ' pp'}"
    se_text = "0" if scaled_se == 0 else f"{scaled_se:.{digits}f}{'%' if unit == '%' else ''}"
    if unit == "%":
        return f"{100 * value:.{digits}f}% ± {se_text}"
    return f"{100 * value:.{digits}f} ± {se_text} pp"


def share_se(share: Optional[float], trials: int) -> Optional[float]:
    """The binomial SE sqrt(p (1 − p) / trials) of a share of trials (None when the share is).

    Examples
    --------
    >>> share_se(0.5, 100), share_se(None, 100)
    (0.05, None)
    """
    return None if share is None else math.sqrt(share * (1.0 - share) / trials)


def mc_and_exact(value: Optional[float], se: Optional[float], exact: Optional[float], *, unit: str = "%",
                 minimum: int = 1) -> tuple[str, str]:
    """The Monte Carlo estimate ± SE and the exact value, written with the same decimals.

    Examples
    --------
    >>> mc_and_exact(0.96515, 0.0029, 0.96238)
    ('96.52% ± 0.29%', '96.24%')
    >>> mc_and_exact(0.362254, 0.000123, 0.3622, unit="pp")
    ('36.225 ± 0.012 pp', '36.220 pp')
    """
    digits = se_decimals(None if se is None else 100 * se, minimum)
    exact_text = DASH if exact is None else (pct(exact, digits) if unit == "%" else pp(exact, digits))
    return with_se(value, se, unit=unit, minimum=minimum), exact_text


def decimals_at_target(values, threshold: float, *, minimum: int = 1) -> int:
    """Decimals (in percent) so that no value on the wrong side of ``threshold`` prints as it.

    Examples
    --------
    >>> decimals_at_target([0.89987, 0.9102], 0.9)
    2
    >>> decimals_at_target([0.807, 0.788], 0.8)
    1
    """
    digits = minimum
    for value in values:
        if value is None or value == threshold:
            continue
        while digits < MAX_DECIMALS and round(100 * value, digits) == round(100 * threshold, digits):
            digits += 1
    return digits


def p_value(p: Optional[float]) -> str:
    """Four significant digits, trailing zeros kept; scientific notation below 0.0001.

    Examples
    --------
    >>> p_value(0.0581818), p_value(1.0), p_value(0.5), p_value(2.3e-7)
    ('0.05818', '1.000', '0.5000', '2.300e-07')
    """
    if p is None or not math.isfinite(p):
        return DASH
    return f"{p:#.4g}"
