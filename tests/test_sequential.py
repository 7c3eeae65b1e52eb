"""Exact recursions over looks (sim.analysis.sequential): brute-force enumeration, R clinfun, Monte Carlo.

References:
- brute force: every one of the 2^n event sequences of n_planned patients, walked look by look,
  with exact Fraction probabilities (independent of the recursion);
- R 4.2.2, clinfun 1.1.5 built from source (github cran/clinfun): ``bdrycross.prob(n, r, ptox)``
  with r = stop_at - 1 (clinfun stops when events > r);
- a seeded numpy Monte Carlo, within 4 standard errors.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from sim.analysis.sequential import SequentialOC, crossing_probabilities, stopped_sample_distribution


def brute_force(looks, stop_at, rate: Fraction, n_planned):
    """{(enrolled, events): probability} and P(stop at look k), by enumerating all sequences."""
    joint: dict = {}
    by_look = [Fraction(0)] * len(looks)
    for sequence in itertools.product((0, 1), repeat=n_planned):
        probability = Fraction(1)
        for outcome in sequence:
            probability *= rate if outcome else 1 - rate
        enrolled = n_planned
        for k, (n, s) in enumerate(zip(looks, stop_at)):
            if sum(sequence[:n]) >= s:
                enrolled = n
                by_look[k] += probability
                break
        key = (enrolled, sum(sequence[:enrolled]))
        joint[key] = joint.get(key, Fraction(0)) + probability
    return joint, by_look


BOUNDARIES = [
    # (looks, stop_at, n_planned): continuous, grouped, non-monotone, stop at 0, no stop possible, one look
    ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10), (2, 2, 2, 3, 3, 3, 3, 4, 4, 4), 10),
    ((3, 6, 9, 12), (2, 3, 3, 4), 12),
    ((2, 5, 8), (2, 4, 3), 11),          # not monotone: the recursion must not assume it
    ((1, 4, 7), (0, 9, 3), 9),           # stop_at 0: always stops at the first look
    ((2, 4, 6), (3, 5, 7), 8),           # no look can stop
    ((5,), (2,), 12),                    # one look, then 7 more patients
    ((1, 3, 6, 10, 14), (1, 2, 3, 4, 4), 14),
]
RATES = [Fraction(0), Fraction(1, 10), Fraction(17, 200), Fraction(3, 10), Fraction(1, 2), Fraction(1)]


@pytest.mark.parametrize("looks, stop_at, n_planned", BOUNDARIES)
def test_both_functions_against_brute_force(looks, stop_at, n_planned):
    for rate in RATES:
        joint, by_look = brute_force(looks, stop_at, rate, n_planned)
        sizes, pmf = stopped_sample_distribution(looks, stop_at, float(rate), n_planned)
        assert pmf.shape == (len(sizes), n_planned + 1)
        assert list(sizes) == sorted(set(sizes))
        assert pmf.sum() == pytest.approx(1.0, abs=1e-13)
        for (enrolled, events), probability in joint.items():
            assert enrolled in sizes, (enrolled, sizes)
            row = list(sizes).index(enrolled)
            assert pmf[row, events] == pytest.approx(float(probability), abs=1e-13)
        observed = {(int(sizes[i]), x) for i, x in zip(*np.nonzero(pmf > 1e-300))}
        assert observed <= set(joint)  # no mass anywhere the enumeration has none

        if n_planned == looks[-1]:
            oc = crossing_probabilities(looks, stop_at, float(rate))
            assert oc.p_stop_by_look == pytest.approx([float(p) for p in by_look], abs=1e-13)
            assert oc.p_cross == pytest.approx(float(sum(by_look)), abs=1e-13)
            assert oc.p_stop_early == pytest.approx(float(sum(by_look[:-1])), abs=1e-13)
            expected = sum(float(p) * n for p, n in zip(by_look, looks)) + looks[-1] * (1 - float(sum(by_look)))
            assert oc.expected_n == pytest.approx(expected, abs=1e-12)


def test_sizes_rows_follow_the_definition():
    # Stopping is possible at looks 2, 4 (stop_at <= n) but not at look 1 (needs 3 of 1).
    sizes, pmf = stopped_sample_distribution([1, 2, 4], [3, 2, 3], 0.3, 6)
    assert sizes.tolist() == [2, 4, 6]
    assert pmf[0, 2] == pytest.approx(0.09)  # both of the first two patients have the event
    # n_planned equal to a stopping look merges the two rows of the same size.
    sizes, pmf = stopped_sample_distribution([2, 4], [2, 3], 0.3, 4)
    assert sizes.tolist() == [2, 4]
    assert pmf.sum() == pytest.approx(1.0, abs=1e-14)
    # A stop reachable only through an earlier stop: the row is there and all zero.
    sizes, pmf = stopped_sample_distribution([1, 2], [1, 2], 0.5, 3)
    assert sizes.tolist() == [1, 2, 3] and pmf[1].sum() == 0.0


# R: library(clinfun); options(digits = 17)
#    bdrycross.prob(1:30, toxbdry(0.085, 0.30, 1:30)$hi.bdry, c(0.085, 0.30, 0.40))
#    bdrycross.prob(seq(5, 30, 5), c(2, 2, 3, 4, 4, 5), c(0.05, 0.085, 0.2, 0.3, 0.4, 0.6))
#    bdrycross.prob(c(10, 20), c(2, 4), c(0, 0.1, 1))
#    bdrycross.prob(c(3, 7, 12, 20), c(1, 2, 4, 6), c(0.15, 0.35))
TOXBDRY_1_30_R = (1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5)
BDRYCROSS_R = [
    (tuple(range(1, 31)), TOXBDRY_1_30_R, [
        (0.085, 0.099311999337137788, 0.096292221081429638, 28.1421870865833128),
        (0.30, 0.944558930472942038, 0.935130579728041367, 11.1061952367048740),
        (0.40, 0.996117750008399083, 0.994807527068700237, 6.9043799491432853)]),
    ((5, 10, 15, 20, 25, 30), (2, 2, 3, 4, 4, 5), [
        (0.05, 0.018071684054475581, 0.017477579648623558, 29.7101851349395218),
        (0.085, 0.093351505807658997, 0.087310604355702190, 28.6878153521201682),
        (0.2, 0.671299114275880182, 0.624261959311424697, 20.4867211350471408),
        (0.3, 0.947909226989576581, 0.922399491610730426, 13.6320040421419417),
        (0.4, 0.996442333830548921, 0.992070722470210997, 9.8351195983059405),
        (0.6, 0.999999182308977552, 0.999993342969026311, 6.6571865758172368)]),
    ((10, 20), (2, 4), [
        (0.0, 0.0, 0.0, 20.0),
        (0.1, 0.089314697986874289, 0.070190826400000073, 19.298091736),
        (1.0, 1.0, 1.0, 10.0)]),
    ((3, 7, 12, 20), (1, 2, 4, 6), [
        (0.15, 0.11681358043771153, 0.10940388942279872, 18.363192540867608),
        (0.35, 0.70682829295615757, 0.58076360019898987, 11.675104417158082)]),
]


@pytest.mark.parametrize("looks, r, rows", BDRYCROSS_R)
def test_crossing_probabilities_match_clinfun_bdrycross_prob(looks, r, rows):
    stop_at = [value + 1 for value in r]
    for rate, pcross, pstop, ess in rows:
        oc = crossing_probabilities(looks, stop_at, rate)
        assert oc.p_cross == pytest.approx(pcross, abs=1e-12)
        assert oc.p_stop_early == pytest.approx(pstop, abs=1e-12)
        assert oc.expected_n == pytest.approx(ess, abs=1e-10)


def test_monte_carlo_within_four_standard_errors():
    """Patients simulated one by one with numpy (seeded), stopped at the first crossing look."""
    looks = np.arange(1, 31)
    stop_at = np.asarray(TOXBDRY_1_30_R) + 1
    rng = np.random.default_rng(20090)
    trials = 40_000
    for rate in (0.085, 0.30):
        events = np.cumsum(rng.random((trials, 30)) < rate, axis=1)
        crossed = events[:, looks - 1] >= stop_at
        stopped = crossed.any(axis=1)
        first = np.where(stopped, crossed.argmax(axis=1), len(looks) - 1)
        enrolled = looks[first]
        exact = crossing_probabilities(looks, stop_at, rate)
        for simulated, value in ((stopped.astype(float), exact.p_cross),
                                 ((stopped & (first < len(looks) - 1)).astype(float), exact.p_stop_early),
                                 (enrolled.astype(float), exact.expected_n)):
            se = simulated.std(ddof=1) / np.sqrt(trials)
            assert abs(simulated.mean() - value) < 4 * se, (rate, simulated.mean(), value, se)
        # The joint law of (enrolled, events) as well: the pmf of enrolled at each size.
        sizes, pmf = stopped_sample_distribution(looks, stop_at, rate, 30)
        for size, probability in zip(sizes, pmf.sum(axis=1)):
            share = (enrolled == size).mean()
            se = np.sqrt(max(probability * (1 - probability), 1e-12) / trials)
            assert abs(share - probability) < 4 * se + 1e-12


def test_monte_carlo_of_the_joint_distribution_past_the_last_look():
    looks, stop_at, n_planned, rate, trials = (4, 8), (2, 3), 12, 0.2, 40_000
    rng = np.random.default_rng(7)
    outcomes = rng.random((trials, n_planned)) < rate
    counts = np.cumsum(outcomes, axis=1)
    enrolled = np.full(trials, n_planned)
    for n, s in reversed(list(zip(looks, stop_at))):
        enrolled = np.where(counts[:, n - 1] >= s, n, enrolled)
    events = counts[np.arange(trials), enrolled - 1]
    sizes, pmf = stopped_sample_distribution(looks, stop_at, rate, n_planned)
    for i, size in enumerate(sizes):
        for x in range(n_planned + 1):
            share = ((enrolled == size) & (events == x)).mean()
            se = np.sqrt(max(pmf[i, x] * (1 - pmf[i, x]), 1e-12) / trials)
            assert abs(share - pmf[i, x]) < 4 * se + 1e-12, (size, x)


def test_result_is_a_frozen_dataclass_with_derived_numbers():
    oc = crossing_probabilities([10, 20], [3, 5], 0.1)
    assert isinstance(oc, SequentialOC) and oc.p_continue == pytest.approx(1 - oc.p_cross)
    assert set(oc.to_dict()) == {"rate", "p_cross", "p_stop_early", "expected_n", "p_stop_by_look"}
    with pytest.raises(AttributeError):
        oc.rate = 0.2


@pytest.mark.parametrize("looks, stop_at, rate, match", [
    ([10, 5], [2, 3], 0.1, "looks: .*strictly increasing"),
    ([0, 5], [2, 3], 0.1, "looks: .*>= 1"),
    ([5, 10], [2], 0.1, "stop_at: got 1 values for 2 looks"),
    ([5, 10], [2, -1], 0.1, "stop_at: .*>= 0"),
    ([5, 10], [2, 2.5], 0.1, "stop_at: got 2.5"),
    ([5, 10], [2, 3], 1.5, "rate: got 1.5"),
    ([], [], 0.1, "looks: got none"),
])
def test_bad_input_names_the_field(looks, stop_at, rate, match):
    with pytest.raises(ValueError, match=match):
        crossing_probabilities(looks, stop_at, rate)


def test_looks_beyond_n_planned_are_refused():
    with pytest.raises(ValueError, match="looks: the last look 20 is beyond n_planned = 15"):
        stopped_sample_distribution([10, 20], [2, 3], 0.1, 15)
