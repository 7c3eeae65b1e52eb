"""Slow, independent twins of the kernels, for comparison on small inputs.

Written from the definitions, not from the kernel code: randomness from
``numpy.random.Philox``, quantiles from scipy, risk curves from their formulas.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

MASK64 = (1 << 64) - 1


def philox_block(key0: int, key1: int, c0: int, c1: int, c2: int = 0, c3: int = 0) -> list[int]:
    """Philox4x64-10 of counter (c0..c3) under key (key0, key1), via numpy.

    numpy increments its 256-bit counter before producing a block, so start one below.
    """
    counter = (c0 | (c1 << 64) | (c2 << 128) | (c3 << 192)) - 1
    counter %= 1 << 256
    generator = np.random.Philox(counter=counter, key=key0 | (key1 << 64))
    return [int(v) for v in generator.random_raw(4)]


def open_uniform(bits: int) -> float:
    return ((bits >> 12) + 0.5) / 2.0**52


def _gamma_draw(shape: float, key0: int, key1: int, trial: int, lane: int, draw: int):
    """Marsaglia & Tsang (2000), one counter block per attempt."""
    boost = shape < 1.0
    d = (shape + 1.0 if boost else shape) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        w = philox_block(key0, key1, trial, lane, draw)
        draw += 1
        x = float(special.ndtri(open_uniform(w[0])))
        v = 1.0 + c * x
        if v <= 0:
            continue
        v = v**3
        if math.log(open_uniform(w[1])) < 0.5 * x * x + d - d * v + d * math.log(v):
            g = d * v
            if boost:
                g *= open_uniform(w[2]) ** (1.0 / shape)
            return g, draw


def risk(spec, washout: float) -> float:
    if spec is None:
        return 0.0
    model = spec.get("model", "constant")
    if model == "constant":
        return spec["p"]
    if model == "washout_decay":
        return spec["p_late"] + (spec["p_early"] - spec["p_late"]) * 2.0 ** (-washout / spec["half_life_months"])
    if spec["slope"] == 0:
        return float(special.expit(spec["intercept"]))
    if washout <= 0:
        return 0.0 if spec["slope"] > 0 else 1.0
    return float(special.expit(spec["intercept"] + spec["slope"] * math.log2(washout)))


def scipy_washout(spec):
    kind = spec["distribution"]
    if kind == "uniform":
        return stats.uniform(loc=spec["low"], scale=spec["high"] - spec["low"])
    if kind == "lognormal":
        return stats.lognorm(s=spec["sigma"], scale=spec["median"])
    if kind == "gamma":
        return stats.gamma(a=spec["shape"], scale=spec["mean"] / spec["shape"])
    return None


def patient(scenario: dict, trial: int, group_index: int, patient_index: int, stream: int = 0):
    """(washout, event, response) for one patient of a scenario given as plain data."""
    seed = scenario["seed"]
    name = list(scenario["groups"])[group_index]
    group = scenario["groups"][name]
    eligibility = scenario.get("eligibility", {})
    minimum = eligibility.get("min_washout_months", 0.0)
    policy = eligibility.get("policy", "defer")
    lane = (group_index << 32) | patient_index
    words = philox_block(seed, stream, trial, lane, 0)
    washout = 0.0
    spec = group.get("washout_months")
    if spec is not None:
        lower = minimum if policy == "exclude" else 0.0
        upper = spec.get("max", math.inf)
        kind = spec["distribution"]
        u = open_uniform(words[0])
        if kind == "fixed":
            washout = spec["value"]
        elif kind == "empirical":
            values = sorted(v for v in spec["values"] if lower <= v <= upper)
            washout = values[min(int(u * len(values)), len(values) - 1)]
        elif kind == "gamma":
            draw = 1
            while True:
                g, draw = _gamma_draw(spec["shape"], seed, stream, trial, lane, draw)
                washout = g * spec["mean"] / spec["shape"]
                if lower <= washout <= upper:
                    break
        else:
            dist = scipy_washout(spec)
            u_low = dist.cdf(lower) if lower > 0 else 0.0
            u_high = dist.cdf(upper) if math.isfinite(upper) else 1.0
            washout = float(dist.ppf(u_low + (u_high - u_low) * u))
        if policy == "defer":
            washout = max(washout, minimum)
    event = open_uniform(words[2]) < risk(group["cardiac_event"], washout)
    response = open_uniform(words[3]) < risk(group.get("response"), washout)
    return washout, bool(event), bool(response)


DOSE_DRAW = 1 << 40


def doses(scenario: dict, trial: int, group_index: int, patient_index: int, event: bool, stream: int = 0):
    """(week 1, week 2, total) doses: each course's count is Binomial(offered, p_dose) by inverse CDF."""
    name = list(scenario["groups"])[group_index]
    spec = scenario["groups"][name]["doses"]
    courses = spec.get("courses", 2)
    per_course = spec.get("per_course", 14)
    event_course = spec.get("event_course", 1) - 1
    p_dose = spec["p_dose"] if isinstance(spec["p_dose"], list) else [spec["p_dose"]] * courses
    lane = (group_index << 32) | patient_index
    words = []
    for block in range((courses + 1 + 3) // 4):
        words += philox_block(scenario["seed"], stream, trial, lane, DOSE_DRAW + block)
    stop = int(open_uniform(words[0]) * per_course)
    given = []
    for c in range(courses):
        offered = per_course if not event or c < event_course else (stop if c == event_course else 0)
        given.append(int(stats.binom.ppf(open_uniform(words[c + 1]), offered, p_dose[c])) if offered else 0)
    return given[0], given[1] if courses > 1 else 0, sum(given)


def fisher_p_scipy(x1: int, n1: int, x2: int, n2: int, alternative: str) -> float:
    return float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative=alternative).pvalue)


PRIOR_DRAW = 1 << 41
GROUP_LANE = 0xFFFFFFFF


def beta_draw(scenario: dict, trial: int, group_index: int, slot: int, a: float, b: float, stream: int = 0) -> float:
    """Beta(a, b) = G_a / (G_a + G_b), each gamma by Marsaglia & Tsang on the group's reserved lane."""
    seed = scenario["seed"]
    lane = (group_index << 32) | GROUP_LANE
    draw = PRIOR_DRAW + (slot << 24)
    ga, _ = _gamma_draw(a, seed, stream, trial, lane, draw)
    gb, _ = _gamma_draw(b, seed, stream, trial, lane, draw + (1 << 23))
    return ga / (ga + gb)


def trial_scenario(scenario: dict, trial: int, stream: int = 0) -> dict:
    """The scenario with each prior'd probability replaced by the value this trial draws."""
    import copy

    drawn = copy.deepcopy(scenario)
    for g, name in enumerate(scenario["groups"]):
        group = drawn["groups"][name]
        for endpoint, slots in (("cardiac_event", {"p": 0, "p_early": 0, "p_late": 1}),
                                ("response", {"p": 2, "p_early": 2, "p_late": 3})):
            spec = group.get(endpoint)
            if spec is None:
                continue
            if "prior" in spec:
                a, b = spec.pop("prior")["beta"]
                spec["p"] = beta_draw(scenario, trial, g, slots["p"], a, b, stream)
            for field in ("p_early", "p_late"):
                if isinstance(spec.get(field), dict):
                    a, b = spec[field]["prior"]["beta"]
                    spec[field] = beta_draw(scenario, trial, g, slots[field], a, b, stream)
    return drawn


def monitored_trial(scenario: dict, trial: int, stream: int = 0):
    """(enrolled per group, events per group, fired look per rule or -1) by the monitoring definitions:
    patients in enrolment order, each rule checked at its looks, stop_group ends the group, stop_trial
    ends every group at floor(look * n_g / n_monitored); a rule counts only if the trial was still
    running at its look."""
    drawn = trial_scenario(scenario, trial, stream)
    names = list(scenario["groups"])
    outcomes = {}
    for g, name in enumerate(names):
        n = scenario["groups"][name]["n"]
        outcomes[name] = [patient(drawn, trial, g, i, stream)[1:] for i in range(n)]  # (event, response)
    rules = scenario.get("monitoring", [])
    from fractions import Fraction

    fired = [None] * len(rules)
    own_stop = {name: scenario["groups"][name]["n"] for name in names}
    stop_time = Fraction(1)
    for name in names:
        planned = scenario["groups"][name]["n"]
        group_rules = [(r, rule) for r, rule in enumerate(rules) if rule["group"] == name]
        if not group_rules:
            continue
        for i in range(planned):
            stopped = False
            for r, rule in group_rules:
                column = 0 if rule.get("endpoint", "cardiac_event") == "cardiac_event" else 1
                if i + 1 in rule["looks"]:
                    k = rule["looks"].index(i + 1)
                    if sum(o[column] for o in outcomes[name][: i + 1]) >= rule["stop_at"][k]:
                        fired[r] = (k, Fraction(i + 1, planned))
                        stopped = True
                        if rule.get("action", "stop_group") == "stop_trial":
                            stop_time = min(stop_time, Fraction(i + 1, planned))
            if stopped:
                own_stop[name] = i + 1
                break
    looks = [f[0] if f is not None and f[1] <= stop_time else -1 for f in fired]
    enrolled = {}
    events = {}
    for name in names:
        planned = scenario["groups"][name]["n"]
        n = min(own_stop[name], int(stop_time * planned))
        enrolled[name] = n
        events[name] = sum(o[0] for o in outcomes[name][:n])
    return enrolled, events, looks
