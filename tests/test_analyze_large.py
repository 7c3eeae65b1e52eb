"""``simtrial analyze`` with groups up to 10^12 patients (issue 11 §7): scalar intervals and Fisher
p-values in memory that does not grow with n, identical to the numba kernel on small supports.

References: the numba kernel (sim.kernels.fisher) table by table; R 4.2.2 ``fisher.test`` where R
accepts the table (entries below 2^31), else R's own ``dhyper``/``phyper`` with R's two-sided rule
(script below); R ``qbeta`` for the intervals; an independent solve of the binomial tail equation
with exact binomial coefficients (``math.comb``); exact symmetry identities.
"""

import json
import math
import os
import re
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from sim.analysis import _hypergeom, binomial_interval, fisher
from sim.analysis.fisher import fisher_exact, rejects
from sim.kernels import fisher as kfisher

from cli_support import invoke

ROOT = Path(__file__).resolve().parents[1]


def test_constants_match_the_kernel():
    """fisher.py writes the kernel's codes out so that importing it needs no numba."""
    assert fisher.ALTERNATIVES == {"two-sided": kfisher.ALTERNATIVE_TWO_SIDED, "less": kfisher.ALTERNATIVE_LESS,
                                   "greater": kfisher.ALTERNATIVE_GREATER}
    assert fisher.REJECTION_TOLERANCE == kfisher.RELATIVE_TIE_TOLERANCE


SMALL_DESIGNS = [(n1, n2) for n1 in range(1, 13) for n2 in range(1, 13)] + [(15, 8), (8, 15), (30, 30), (40, 17), (23, 60)]


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_scalar_path_is_the_kernel_bit_for_bit(alternative):
    """Every table of 149 designs: the numpy twin returns exactly the kernel's p-value."""
    code = fisher.ALTERNATIVES[alternative]
    for n1, n2 in SMALL_DESIGNS:
        table = kfisher.fisher_p_value_table(n1, n2, code)
        for x1 in range(n1 + 1):
            for x2 in range(n2 + 1):
                assert fisher_exact(x1, n1, x2, n2, alternative=alternative).p_value == table[x1, x2], (x1, n1, x2, n2)


@pytest.mark.parametrize("n1,n2", [(15, 8), (30, 30), (50, 70), (200, 200), (1000, 999)])
def test_large_support_path_agrees_with_the_kernel(n1, n2):
    """The tail-sum path (used above 65,536 tables), forced on moderate designs: p-values within
    1e-10 relative of the kernel's and the same decision at every alpha (via rejects)."""
    rng = np.random.default_rng(n1 * 1000 + n2)
    tables = [(x1, x2) for x1 in range(n1 + 1) for x2 in range(n2 + 1)]
    if len(tables) > 600:
        tables = [tables[i] for i in rng.choice(len(tables), 600, replace=False)]
    for alternative, code in fisher.ALTERNATIVES.items():
        kernel = kfisher.fisher_p_value_table(n1, n2, code)
        for x1, x2 in tables:
            p = fisher._p_value_large(x1, n1, x2, n2, code)
            q = kernel[x1, x2]
            if q < 1e-28:  # the kernel bounds far-tail tables (sim.kernels.fisher: LOG_FAR) instead of walking
                assert p < 1e-28, (x1, x2, alternative)
            else:
                assert p == pytest.approx(q, rel=1e-10, abs=1e-300), (x1, x2, alternative)
            for alpha in (0.001, 0.01, 0.05, 0.1):
                assert rejects(p, alpha) == rejects(q, alpha)


# R 4.2.2: m <- matrix(c(x1, n1 - x1, x2, n2 - x2), 2, byrow = TRUE);
#   sapply(c("two.sided", "less", "greater"), function(a) fisher.test(m, alternative = a)$p.value)
R_FISHER = [
    ((6, 10**6, 0, 8), (1.0000000000000002, 1, 0.99995200122397765)),
    ((6, 10**8, 6, 10**8), (1, 0.61279297213379014, 0.61279297213378869)),
    ((50000, 10**5, 49000, 10**5), (7.8982895572148935e-06, 0.99999621268819161, 3.9491447786074425e-06)),
    ((700, 10**5, 560, 90000), (0.038768900354569077, 0.9828326028370824, 0.019730515184296613)),
    ((30000, 70000, 29000, 71000), (1.9244317096333072e-14, 0.9999999999999909, 9.8576208293683741e-15)),
]
# R refuses entries of 2^31 or more in fisher.test; for those, R's dhyper/phyper with R's rule:
#   two <- function(x1, n1, x2, n2) { k <- x1 + x2; lo <- max(0, k - n2); hi <- min(k, n1)
#     md <- floor((k + 1) * (n1 + 1) / (n1 + n2 + 2))
#     thr <- dhyper(x1, n1, n2, k, log = TRUE) + log(1 + 1e-7)
#     un <- function(j) dhyper(j, n1, n2, k, log = TRUE) <= thr
#     if (un(md)) return(1); p <- 0
#     if (un(lo)) { a <- lo; b <- md; while (b - a > 1) { m <- floor((a + b) / 2); if (un(m)) a <- m else b <- m }
#                   p <- p + phyper(a, n1, n2, k) }
#     if (un(hi)) { a <- md; b <- hi; while (b - a > 1) { m <- floor((a + b) / 2); if (un(m)) b <- m else a <- m }
#                   p <- p + phyper(b - 1, n1, n2, k, lower.tail = FALSE) }
#     min(p, 1) }   # less: phyper(x1, n1, n2, k); greater: phyper(x1 - 1, n1, n2, k, lower.tail = FALSE)
# R's phyper itself is off by about 1e-11 relative at 10^12 (see test_tails_at_1e12_by_symmetry).
R_DHYPER = [
    ((6, 10**12, 0, 8), (1, 1, 0.99999999995199995)),
    ((6, 10**12, 3, 10**6), (8.3999118006215872e-17, 8.3999118006215872e-17, 1)),
    ((500000000003, 10**12, 4, 10), (0.75390624999876965, 0.82812500000451195, 0.37695312499446365)),
    ((6, 10**9, 6, 10**9), (1, 0.6127929690883791, 0.61279296908837866)),
    ((500000000000, 10**12, 499999000000, 10**12), (0.15729962215625512, 0.92135060402936997, 0.07864981107812756)),
    ((500000200000, 10**12, 500000000000, 10**12), (0.77729849491575631, 0.61135183667690784, 0.38864924745787816)),
    ((300000000000, 10**12, 300000500000, 10**12), (0.44040172121506849, 0.22020086060753424, 0.77980005363424654)),
]


@pytest.mark.parametrize("table,expected", R_FISHER + R_DHYPER, ids=[str(t) for t, _ in R_FISHER + R_DHYPER])
def test_fisher_against_r(table, expected):
    for alternative, reference in zip(("two-sided", "less", "greater"), expected):
        p = fisher_exact(*table, alternative=alternative).p_value
        assert p == pytest.approx(min(reference, 1.0), rel=1e-9, abs=1e-300), (table, alternative)


def test_fisher_against_scipy_at_moderate_n():
    """scipy.stats.fisher_exact on tables whose support exceeds 65,536 (the tail-sum path)."""
    for table in [(50000, 10**5, 49000, 10**5), (700, 10**5, 560, 90000), (40000, 90000, 39000, 80000)]:
        x1, n1, x2, n2 = table
        for alternative in ("two-sided", "less", "greater"):
            reference = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative=alternative).pvalue
            assert fisher_exact(*table, alternative=alternative).p_value == pytest.approx(reference, rel=1e-9)


def test_tails_at_1e12_by_symmetry():
    """n1 = n2 = k = 10^12 makes X1 symmetric about 5e11: P(X1 <= c) = (1 + P(X1 = c)) / 2 exactly,
    and the two-sided p at c + d equals P(X1 <= c - d) + P(X1 >= c + d) = 2 P(X1 >= c + d)."""
    n = 10**12
    c = n // 2
    pmf = math.exp(_hypergeom.log_pmf(c, n, n, n))
    # R 4.2.2: dhyper(5e11, 1e12, 1e12, 1e12, log = TRUE) = -13.694728320329407
    assert _hypergeom.log_pmf(c, n, n, n) == pytest.approx(-13.694728320329407, abs=1e-12)
    assert _hypergeom.tail_le(c, n, n, n) == pytest.approx((1 + pmf) / 2, rel=1e-13)
    # Within about 158 of the mode, densities differ by less than the tie tolerance 1e-7
    # (t² / (2 var) < 1e-7, var = 1.25e11), so every table counts as "no more likely": p = 1.
    assert fisher_exact(c + 150, n, n - (c + 150), n).p_value == 1.0
    assert fisher_exact(c + 170, n, n - (c + 170), n).p_value < 1.0
    for d in (1000, 3 * 10**5, 10**6):
        # Tables a little closer to the mode than d are tied with it within 1e-7: found by a scan.
        threshold = _hypergeom.log_pmf(c + d, n, n, n) + math.log(1 + 1e-7)
        tied = d
        while _hypergeom.log_pmf(c + tied - 1, n, n, n) <= threshold:
            tied -= 1
        assert 0 <= d - tied < 20
        two_sided = fisher_exact(c + d, n, n - (c + d), n).p_value
        assert two_sided == pytest.approx(2 * _hypergeom.tail_ge(c + tied, n, n, n), rel=1e-12)
        assert two_sided == pytest.approx(2 * _hypergeom.tail_le(c - tied, n, n, n), rel=1e-12)


def _binomial_cdf(x, n, p):
    """P(Binomial(n, p) <= x) for small x: exact coefficients, (1 - p)^(n - j) through log1p."""
    return math.fsum(math.comb(n, j) * p**j * math.exp((n - j) * math.log1p(-p)) for j in range(x + 1))


@pytest.mark.parametrize("n", [10**6, 10**9, 10**12])
def test_six_events_in_huge_groups(n):
    """6/N: Clopper-Pearson bounds solve the binomial tail equations (solved here independently),
    and equal R qbeta; Fisher against a second group answers."""
    ci = binomial_interval(6, n)
    upper = optimize.brentq(lambda p: _binomial_cdf(6, n, p) - 0.025, 1e-3 / n, 100 / n, xtol=1e-30, rtol=1e-15)
    lower = optimize.brentq(lambda p: 1 - _binomial_cdf(5, n, p) - 0.025, 1e-3 / n, 100 / n, xtol=1e-30, rtol=1e-15)
    # scipy's beta quantile (Boost ibeta_inv) is good to about 1e-8 relative at n = 10^9.
    assert ci.low == pytest.approx(lower, rel=1e-8)
    assert ci.high == pytest.approx(upper, rel=1e-8)
    # R 4.2.2: qbeta(0.025, 6, n - 5), qbeta(0.975, 7, n - 6)
    r_qbeta = {10**6: (2.2018973340649711e-06, 1.3059427926055737e-05),
               10**9: (2.2018942565714225e-09, 1.3059473976422165e-08),
               10**12: (2.2018942534939253e-12, 1.3059474022472576e-11)}[n]
    assert (ci.low, ci.high) == pytest.approx(r_qbeta, rel=1e-8)
    wilson = binomial_interval(6, n, method="wilson")
    z = stats.norm.ppf(0.975)
    centre = (6 + z * z / 2) / (n + z * z)
    half = z * math.sqrt(6 * (n - 6) / n + z * z / 4) / (n + z * z)
    assert (wilson.low, wilson.high) == pytest.approx((centre - half, centre + half), rel=1e-9)
    # Against 0/8: P(X1 >= 6) = P(X1 = 6) = C(n, 6) / C(n + 8, 6), exactly, as a fraction.
    exact = Fraction(math.comb(n, 6), math.comb(n + 8, 6))
    assert fisher_exact(6, n, 0, 8, alternative="greater").p_value == pytest.approx(float(exact), rel=1e-13)
    assert fisher_exact(6, n, 0, 8, alternative="less").p_value == 1.0
    assert fisher_exact(6, n, 6, n).p_value == 1.0  # the symmetric table is the most likely one


def test_count_near_half_of_1e12():
    """x = 5e11 + 1 of 10^12: intervals against R qbeta, Fisher against R's dhyper/phyper (above)."""
    n = 10**12
    x = n // 2 + 1
    cp = binomial_interval(x, n)
    jeffreys = binomial_interval(x, n, method="jeffreys")
    # R 4.2.2: qbeta(0.025, x, n - x + 1), qbeta(0.975, x + 1, n - x); Jeffreys qbeta(., x + .5, n - x + .5)
    assert (cp.low, cp.high) == pytest.approx((0.49999902001850777, 0.50000097998349224), rel=1e-12)
    assert (jeffreys.low, jeffreys.high) == pytest.approx((0.49999902001900776, 0.50000097998299231), rel=1e-12)
    # The normal approximation is exact to ~1e-6 of the half-width here.
    half = stats.norm.ppf(0.975) * math.sqrt(0.25 / n)
    assert cp.high - cp.low == pytest.approx(2 * half, rel=1e-5)


def test_analyze_huge_groups_json(capsys):
    code, out, err = invoke(capsys, "analyze", "--group", "a=6/1000000000000", "--group", "b=500000000003/1000000000000",
                            "--group", "c=4/10", "--json")
    assert code == 0, err
    report = json.loads(out)
    fisher_rows = {tuple(c["groups"]): c for c in report["comparisons"]}
    # R 4.2.2 two() above for b vs c
    assert fisher_rows[("b", "c")]["p_values"]["two-sided"] == pytest.approx(0.75390624999876965, rel=1e-9)
    effects = fisher_rows[("a", "b")]["effects"]
    assert effects["risk_difference"]["estimate"] == pytest.approx(6e-12 - 0.500000000003)
    assert set(effects) == {"risk_difference", "odds_ratio", "relative_risk"}


@pytest.mark.parametrize("group,pattern", [
    ("a=6/100000000000000000000", r"--group a: got 6/100000000000000000000; expected N <= 10\^12"),
    ("a=6/1000000000001", r"expected N <= 10\^12"),
    ("a=6.5/10", r"--group: got 'a=6.5/10'; expected NAME=X/N"),
])
def test_beyond_what_is_supported_is_one_line(capsys, group, pattern):
    code, out, err = invoke(capsys, "analyze", "--group", group, "--group", "b=0/8")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")
    assert re.search(pattern, err), err


_RUN_ANALYZE = textwrap.dedent("""
    import json, resource, sys
    {prelude}
    from sim.cli import main
    try:
        main(["analyze", "--group", "a=6/1000000000000", "--group", "b=500000000000/1000000000000",
              "--group", "c=499999000000/1000000000000", "--json"])
    except SystemExit as exc:
        assert not exc.code, exc.code
    # VmHWM: the peak resident set of this process image. (ru_maxrss would also count the parent's
    # pages at fork/exec time: the pytest process, hundreds of MB late in a full run.)
    peak_kb = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    peak_mb = peak_kb[0] / 1024 if peak_kb else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({{"numba": "numba" in sys.modules, "max_rss_mb": peak_mb}}), file=sys.stderr)
""")

# Imports sim's subpackages without running sim/__init__.py (which imports the runner and so numba).
_WITHOUT_PACKAGE_INIT = (
    "import types; _sim = types.ModuleType('sim'); _sim.__path__ = [{path!r}]; sys.modules['sim'] = _sim"
)


def _run(prelude: str) -> dict:
    script = _RUN_ANALYZE.format(prelude=prelude)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # the JSON report itself is well formed
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_analyze_path_needs_no_numba_and_little_memory():
    """Groups of 10^12 in a fresh process: no numba module imported by the analyze path, and a peak
    resident set far below the 5 GB the table-per-count implementation reached (about 170 MB,
    nearly all of it numpy, scipy, pandas, rich and click)."""
    result = _run(_WITHOUT_PACKAGE_INIT.format(path=str(ROOT / "sim")))
    assert result["numba"] is False
    assert result["max_rss_mb"] < 300


def test_entry_point_imports_no_numba_once_sim_is_lazy():
    """The whole ``simtrial analyze`` entry point. While ``import sim`` itself imports numba (the
    package __init__ re-exports the runner), that part is not this path's doing: skip then."""
    probe = subprocess.run([sys.executable, "-c", "import sys, sim; print('numba' in sys.modules)"],
                           capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if probe.stdout.strip() == "True":
        pytest.skip("`import sim` imports numba (sim/__init__.py re-exports the runner)")
    assert _run("")["numba"] is False
