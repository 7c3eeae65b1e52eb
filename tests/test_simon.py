"""Simon's two-stage design (sim.designs.simon, ``simtrial simon``).

References:
- Simon R (1989), Controlled Clinical Trials 10:1-10, Table 1 (alpha = 0.05 and 0.10), designs as
  printed (r1/n1, r/n) with E[N | p0] to one decimal and PET(p0) to two; ph2simon reproduces each;
- R 4.2.2, clinfun 1.1.5 built from source (github cran/clinfun): ``twostage.admissible(ph2simon(
  pu, pa, ep1, ep2))`` (r1, n1, r, n, EN(p0), PET(p0), qLo, qHi; q rounded to 3 decimals by clinfun),
  ``oc.twostage.bdry(pu, pa, r1, n1, r, n)`` (alpha and power) and the full ``ph2simon(...)$out``
  (the best design for each n);
- a naive twin: every (n1, r1, r) for every n from 2, no bounds, scipy binomials.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import invoke
from scipy import stats

from sim.designs.monitor import DesignInputError
from sim.designs.simon import neyman_pearson_bound, simon_designs, simon_operating_characteristics

# Simon (1989) Table 1: (p0, p1, alpha, beta) -> optimal and minimax (r1, n1, r, n, EN(p0), PET(p0)).
SIMON_1989 = [
    ((0.05, 0.25, 0.05, 0.20), (0, 9, 2, 17, 12.0, 0.63), (0, 12, 2, 16, 13.8, 0.54)),
    ((0.10, 0.30, 0.05, 0.20), (1, 10, 5, 29, 15.0, 0.74), (1, 15, 5, 25, 19.5, 0.55)),
    ((0.10, 0.30, 0.05, 0.10), (2, 18, 6, 35, 22.5, 0.73), (2, 22, 6, 33, 26.2, 0.62)),
    ((0.20, 0.40, 0.05, 0.20), (3, 13, 12, 43, 20.6, 0.75), (4, 18, 10, 33, 22.3, 0.72)),
    ((0.20, 0.40, 0.10, 0.10), (3, 17, 10, 37, 26.0, 0.55), (3, 19, 10, 36, 28.3, 0.46)),
    ((0.30, 0.50, 0.05, 0.20), (5, 15, 18, 46, 23.6, 0.72), (6, 19, 16, 39, 25.7, 0.67)),
]


@pytest.mark.parametrize("params, optimal, minimax", SIMON_1989)
def test_simon_1989_table(params, optimal, minimax):
    p0, p1, alpha, beta = params
    result = simon_designs(p0, p1, alpha=alpha, power=1 - beta)
    for design, published in ((result.optimal, optimal), (result.minimax, minimax)):
        assert (design.r1, design.n1, design.r, design.n) == published[:4]
        assert round(design.expected_n_p0, 1) == published[4]
        assert round(design.p_early_stop_p0, 2) == published[5]


# R: a <- twostage.admissible(ph2simon(pu, pa, ep1, ep2)); for each row oc.twostage.bdry(pu, pa, r1, n1, r, n)
# rows: (r1, n1, r, n, EN(p0), PET(p0), P(reject | p0), P(reject | p1), qLo, qHi), minimax first, optimal last.
PH2SIMON_R = [
    ((0.1, 0.3, 0.05, 0.2), [
        (1, 15, 5, 25, 19.5095698108094, 0.549043018919064, 0.0328086668152239, 0.8017005704188659, 0.732, 1.0),
        (1, 12, 5, 26, 16.7739684749540, 0.659002251789000, 0.0359671496394094, 0.8047804474940230, 0.482, 0.732),
        (1, 11, 5, 27, 15.8422899168000, 0.697356880200000, 0.0395005174857134, 0.8061954006970724, 0.293, 0.482),
        (1, 10, 5, 29, 15.0141203471000, 0.736098929100000, 0.0470863066438917, 0.8050629131503249, 0.0, 0.293)]),
    ((0.2, 0.4, 0.05, 0.2), [
        (4, 18, 10, 33, 22.2546927640707, 0.716353815728619, 0.0458301341673418, 0.8011416824208376, 0.168, 1.0),
        (3, 14, 11, 38, 21.2434427926938, 0.698189883637760, 0.0494770653198242, 0.8153995362440325, 0.117, 0.168),
        (3, 13, 12, 43, 20.5802707148800, 0.747324309504000, 0.0495814497480526, 0.8002143561881156, 0.0, 0.117)]),
    ((0.05, 0.25, 0.05, 0.2), [
        (0, 12, 2, 16, 13.8385596493495, 0.540360087662637, 0.0426778051935851, 0.8012803853489460, 0.653, 1.0),
        (0, 9, 2, 17, 11.9580047222031, 0.630249409724609, 0.046604957238963, 0.812161111447494, 0.0, 0.653)]),
    ((0.3, 0.5, 0.05, 0.2), [
        (6, 19, 16, 39, 25.6899698594609, 0.665501507026957, 0.0454989961614952, 0.8036229963890945, 0.252, 1.0),
        (6, 18, 17, 42, 24.6792864790431, 0.721696396706538, 0.0436853099382886, 0.8015146243540130, 0.208, 0.252),
        (5, 15, 18, 46, 23.6297353536647, 0.721621440204364, 0.0498650074860288, 0.8032059936744389, 0.0, 0.208)]),
    ((0.1, 0.3, 0.05, 0.1), [
        (2, 22, 6, 33, 26.1795496774691, 0.620040938411903, 0.040857823559603, 0.901768975332295, 0.734, 1.0),
        (2, 19, 6, 34, 23.4183282115616, 0.705444785895896, 0.0438331794982082, 0.9013919891760791, 0.472, 0.734),
        (2, 18, 6, 35, 22.5254680886494, 0.733795994785329, 0.0473859331369983, 0.9015958400981954, 0.0, 0.472)]),
    ((0.2, 0.4, 0.1, 0.1), [
        (3, 19, 10, 36, 28.2634913801216, 0.455088742345789, 0.0860944606833207, 0.9023530139479180, 0.691, 1.0),
        (3, 17, 10, 37, 26.0224759082844, 0.548876204585779, 0.0947843743314959, 0.9032742865924411, 0.0, 0.691)]),
    ((0.05, 0.15, 0.05, 0.2), [
        (1, 30, 5, 52, 39.8220743405007, 0.553542075431786, 0.043047585226184, 0.801995416849650, 0.721, 1.0),
        (1, 27, 5, 53, 37.2414983509486, 0.606096217271207, 0.0447739503097996, 0.8031592334553540, 0.652, 0.721),
        (1, 25, 5, 54, 35.3711002471863, 0.642375853545300, 0.0462873120005977, 0.8012994562903095, 0.473, 0.652),
        (1, 23, 5, 56, 33.5791253333219, 0.679420444444790, 0.049964348016688, 0.800345030069988, 0.0, 0.473)]),
    ((0.2, 0.35, 0.05, 0.05), [
        (15, 68, 25, 95, 75.4409760260616, 0.724408295331051, 0.0499049041811738, 0.9508651890245542, 0.582, 1.0),
        (11, 53, 26, 99, 69.8817072954235, 0.633006363142968, 0.0469922162397258, 0.9504340999947568, 0.0, 0.582)]),
    ((0.05, 0.2, 0.1, 0.2), [
        (0, 12, 2, 21, 16.1367592110363, 0.540360087662637, 0.080399541789379, 0.803306236252640, 0.346, 1.0),
        (0, 9, 2, 24, 14.5462588541309, 0.630249409724609, 0.0931294093228694, 0.8046866556278738, 0.0, 0.346)]),
    ((0.7, 0.9, 0.05, 0.2), [
        (19, 23, 21, 26, 23.1615314638929, 0.946156178702372, 0.0452591110031344, 0.8009634132910404, 0.893, 1.0),
        (4, 6, 22, 27, 14.8236750000000, 0.579825000000000, 0.0492373343709624, 0.8041786902866699, 0.0, 0.893)]),
]


@pytest.mark.parametrize("params, rows", PH2SIMON_R, ids=[str(case[0]) for case in PH2SIMON_R])
def test_matches_clinfun_ph2simon_and_twostage_admissible(params, rows):
    p0, p1, alpha, beta = params
    result = simon_designs(p0, p1, alpha=alpha, power=1 - beta)
    assert len(result.admissible) == len(rows)
    assert result.admissible[0] == result.minimax and result.admissible[-1] == result.optimal
    for design, (low, high), row in zip(result.admissible, result.admissible_weights, rows):
        assert (design.r1, design.n1, design.r, design.n) == row[:4]
        assert design.expected_n_p0 == pytest.approx(row[4], abs=1e-10)
        assert design.p_early_stop_p0 == pytest.approx(row[5], abs=1e-12)
        assert design.alpha == pytest.approx(row[6], abs=1e-12)
        assert design.power == pytest.approx(row[7], abs=1e-12)
        assert (round(low, 3), round(high, 3)) == pytest.approx(row[8:10], abs=1e-12)


# R: ph2simon(0.1, 0.3, 0.05, 0.2)$out[, c("r1", "n1", "r", "n")] for n = 25..52, and EN(p0) at three n.
PH2SIMON_OUT_R = {
    25: (1, 15, 5), 26: (1, 12, 5), 27: (1, 11, 5), 28: (1, 11, 5), 29: (1, 10, 5), 30: (2, 14, 5), 31: (1, 11, 6),
    32: (1, 11, 6), 33: (1, 10, 6), 34: (1, 10, 6), 35: (1, 10, 6), 36: (1, 10, 6), 37: (1, 10, 6), 38: (1, 10, 7),
    39: (1, 10, 7), 40: (1, 10, 7), 41: (1, 10, 7), 42: (2, 14, 8), 43: (2, 14, 8), 44: (2, 14, 8), 45: (2, 14, 8),
    46: (2, 14, 9), 47: (2, 14, 9), 48: (2, 14, 9), 49: (2, 14, 9), 50: (2, 14, 9), 51: (2, 14, 10), 52: (2, 14, 10),
    53: (1, 9, 8), 74: (3, 18, 15), 80: (4, 21, 13), 100: (4, 21, 18),
}
PH2SIMON_OUT_EN_R = {53: 18.906996967999998, 74: 23.499023119824486, 100: 25.120037869856606}


def test_best_design_for_each_n_matches_ph2simon_out():
    result = simon_designs(0.1, 0.3, alpha=0.05, power=0.8)
    by_n = {design.n: design for design in result.by_n}
    assert min(by_n) == 25 and max(by_n) == 100 and len(by_n) == 76
    for n, (r1, n1, r) in PH2SIMON_OUT_R.items():
        assert (by_n[n].r1, by_n[n].n1, by_n[n].r) == (r1, n1, r), n
    for n, expected in PH2SIMON_OUT_EN_R.items():
        assert by_n[n].expected_n_p0 == pytest.approx(expected, abs=1e-10)
    # R: ph2simon(0.7, 0.9, 0.05, 0.2, nmax = 40)$out
    r_out = [(19, 23, 21, 26), (4, 6, 22, 27), (9, 12, 23, 28), (8, 11, 24, 29), (7, 10, 25, 30), (5, 7, 25, 31),
             (10, 13, 26, 32), (10, 13, 27, 33), (11, 14, 27, 34), (5, 7, 28, 35), (5, 7, 29, 36), (5, 7, 30, 37),
             (5, 7, 31, 38), (5, 7, 31, 39), (5, 7, 32, 40)]
    result = simon_designs(0.7, 0.9, alpha=0.05, power=0.8, nmax=40)
    assert [(d.r1, d.n1, d.r, d.n) for d in result.by_n] == r_out


def naive_best_by_n(p0, p1, alpha, power, nmax):
    """Every (n1, r1, r) for every n in 2..nmax; the smallest E[N | p0] per n (first found on ties,
    in ph2simon's order: n1 up, r1 down, r down). Sums written out from the definition."""
    outcomes = np.arange(nmax + 1)
    pmf = {p: stats.binom.pmf(outcomes[None, :], outcomes[:, None], p) for p in (p0, p1)}
    sf = {p: stats.binom.sf(np.arange(-nmax - 1, nmax + 1)[None, :], outcomes[:, None], p) for p in (p0, p1)}

    def reject(p, r1, n1, n2):
        """P(X1 > r1, X1 + X2 > r) for r = 0..n-1: rows x1, columns r (sf index shifted by nmax + 1)."""
        x1 = np.arange(r1 + 1, n1 + 1)[:, None]
        r = np.arange(n1 + n2)[None, :]
        return (pmf[p][n1, x1] * sf[p][n2, r - x1 + nmax + 1]).sum(axis=0)

    best = {}
    for n in range(2, nmax + 1):
        for n1 in range(1, n):
            n2 = n - n1
            for r1 in range(n1 - 1, -1, -1):
                expected = n1 + (1 - pmf[p0][n1, :r1 + 1].sum()) * n2
                size, reach = reject(p0, r1, n1, n2), reject(p1, r1, n1, n2)
                for r in range(n - 1, r1 - 1, -1):
                    if size[r] <= alpha and reach[r] >= power and expected < best.get(n, (np.inf,))[0]:
                        best[n] = (expected, r1, n1, r)
    return best


@pytest.mark.parametrize("p0, p1, alpha, power, nmax", [
    (0.1, 0.3, 0.05, 0.8, 30), (0.05, 0.25, 0.05, 0.8, 20), (0.7, 0.9, 0.05, 0.8, 30), (0.3, 0.6, 0.1, 0.8, 30),
])
def test_bounded_search_agrees_with_the_naive_twin(p0, p1, alpha, power, nmax):
    naive = naive_best_by_n(p0, p1, alpha, power, nmax)
    result = simon_designs(p0, p1, alpha=alpha, power=power, nmax=nmax)
    assert {d.n: (d.r1, d.n1, d.r) for d in result.by_n} == {n: v[1:] for n, v in naive.items()}
    for design in result.by_n:
        assert design.expected_n_p0 == pytest.approx(naive[design.n][0], abs=1e-12)
    # The Neyman-Pearson bound is below every feasible n (and the search starts there).
    assert min(naive) >= result.n_lower


def test_neyman_pearson_bound_is_exact_for_single_stage_tests():
    # With randomisation, the single-stage test reaches the power at n_lower and not at n_lower - 1.
    for p0, p1, alpha, power in ((0.1, 0.3, 0.05, 0.8), (0.2, 0.4, 0.1, 0.9)):
        n = neyman_pearson_bound(p0, p1, alpha=alpha, power=power, n_limit=200)
        single_stage = [m for m in range(1, 200)
                        if any(stats.binom.sf(c, m, p0) <= alpha and stats.binom.sf(c, m, p1) >= power
                               for c in range(m + 1))]
        assert n <= single_stage[0]  # the non-randomised single-stage n is never below it


# R: oc.twostage.bdry(0.1, 0.3, 1, 10, 5, 29) and (0.05, 0.25, 0, 9, 2, 17): P(reject | pu), P(reject | pa), PET(pu), EN(pu)
@pytest.mark.parametrize("design, rate, reject, early, expected", [
    ((1, 10, 5, 29), 0.1, 0.0470863066438917, 0.7360989290999997, 15.0141203471000040),
    ((1, 10, 5, 29), 0.3, 0.8050629131503249, None, None),
    ((0, 9, 2, 17), 0.05, 0.046604957238963, 0.630249409724609, 11.958004722203126),
    ((0, 9, 2, 17), 0.25, 0.812161111447494, None, None),
])
def test_operating_characteristics_match_oc_twostage_bdry(design, rate, reject, early, expected):
    oc = simon_operating_characteristics(*design, rate)
    assert oc.p_reject == pytest.approx(reject, abs=1e-12)
    if early is not None:
        assert oc.p_early_stop == pytest.approx(early, abs=1e-12)
        assert oc.expected_n == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("rate", [0.0, 0.15, 0.42, 1.0])
def test_operating_characteristics_by_enumerating_both_stages(rate):
    r1, n1, r, n = 3, 13, 12, 43
    n2 = n - n1
    early = reject = 0.0
    for x1 in range(n1 + 1):
        p_x1 = stats.binom.pmf(x1, n1, rate)
        if x1 <= r1:
            early += p_x1
            continue
        for x2 in range(n2 + 1):
            if x1 + x2 > r:
                reject += p_x1 * stats.binom.pmf(x2, n2, rate)
    oc = simon_operating_characteristics(r1, n1, r, n, rate)
    assert oc.p_early_stop == pytest.approx(early, abs=1e-14)
    assert oc.p_reject == pytest.approx(reject, abs=1e-14)
    assert oc.expected_n == pytest.approx(n1 + (1 - early) * n2, abs=1e-12)
    assert oc.p_accept == pytest.approx(1 - reject)


@pytest.mark.parametrize("args, field", [
    ((0.3, 0.1, 0.05, 0.8, 100), "p1"), ((0.0, 0.3, 0.05, 0.8, 100), "p0"), ((0.1, 0.3, 1.0, 0.8, 100), "alpha"),
    ((0.1, 0.3, 0.05, 0.01, 100), "power"), ((0.1, 0.3, 0.05, 0.8, 1), "nmax"), ((0.1, 0.3, 0.05, 0.8, 5000), "nmax"),
    ((0.1, 0.3, 0.05, 0.8, 20), "nmax"),  # no feasible design with 20 patients
])
def test_bad_inputs_name_the_field(args, field):
    p0, p1, alpha, power, nmax = args
    with pytest.raises(DesignInputError) as info:
        simon_designs(p0, p1, alpha=alpha, power=power, nmax=nmax)
    assert info.value.field == field


@pytest.mark.parametrize("design, field", [((10, 10, 12, 29), "r1"), ((1, 30, 5, 29), "n1"), ((1, 10, 0, 29), "r"),
                                           ((1, 10, 29, 29), "r")])
def test_bad_designs_name_the_field(design, field):
    with pytest.raises(DesignInputError) as info:
        simon_operating_characteristics(*design, 0.1)
    assert info.value.field == field
    # r1 < n1 (r1 = n1 would always stop), r1 <= r < n.


def test_simon_json_and_files(capsys, tmp_path):
    code, out, err = invoke(capsys, "simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "0.8",
                            "--json", "--out", tmp_path)
    assert code == 0, err
    data = json.loads(out)
    designs = data["designs"]
    keys = {"r1", "n1", "r", "n", "expected_n_p0", "p_early_stop_p0", "alpha", "power"}
    assert keys <= designs["optimal"].keys() and keys <= designs["minimax"].keys()
    assert (designs["optimal"]["n1"], designs["optimal"]["n"]) == (10, 29)
    assert [d["n"] for d in designs["admissible"]] == [25, 26, 27, 29]
    assert data["search"]["n_from"] == 23 and data["search"]["n_to"] == 100
    folder = tmp_path / "simon_p0-0.1_p1-0.3_alpha-0.05_power-0.8_nmax-100"
    assert {p.name for p in folder.iterdir()} == {"designs.csv", "by_n.csv", "simon.json", "simon.png"}
    assert len((folder / "by_n.csv").read_text().splitlines()) == 77
    code, out, err = invoke(capsys, "simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "0.8",
                            "--out", tmp_path)
    assert code == 0 and "minimax" in out and "1/10" in out and "5/29" in out


@pytest.mark.parametrize("args, flag", [
    (["--p0", "0.3", "--p1", "0.1", "--alpha", "0.05", "--power", "0.8"], "--p1"),
    (["--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "1.2"], "--power"),
    (["--p0", "0.1", "--p1", "0.3", "--alpha", "x", "--power", "0.8"], "--alpha"),
    (["--p0", "0.1", "--p1", "0.3", "--alpha", "0.05"], "--power"),
    (["--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "0.8", "--nmax", "20"], "--nmax"),
    (["--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "0.8", "--nmax", "ten"], "--nmax"),
])
def test_simon_bad_input_one_line_exit_2_nothing_written(capsys, tmp_path, args, flag):
    code, out, err = invoke(capsys, "simon", *args, "--out", tmp_path / "out")
    assert code == 2, (out, err)
    assert err.startswith(f"error: {flag}:") and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()
