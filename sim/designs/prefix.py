"""A simulated sizing curve in one pass: every size evaluated on prefixes of one simulated cohort.

With common random numbers a patient's draws depend only on (seed, trial, group, patient), never on
how many patients the group has, and a trial's group-level draws (priors) only on (seed, trial,
group). So trial t at size n is trial t at the largest size cut to its first n patients in each
group: simulating each trial once at the largest size and evaluating every size on its prefixes gives
the same tallies, bit for bit, as one run per size (the tests check this), for the price of one run
at the largest size plus the analyses at each size.

* A count-based analysis asks the kernel for the count of its endpoint among each group's first
  s_g(n) patients (prefix marks) and tallies every size from them.
* A per-trial test keeps the patient-level values of the largest size and runs the test once per
  size with each varied group cut to s_g(n) patients.

Monitoring rules make a group's enrolment depend on its planned size through the looks; sizing a
monitored group therefore runs the simulator once per size (:func:`per_size_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import numpy as np

from ..runner import RunPlan, execute, make_plan, simulate_chunk
from ..scenario import Scenario
from ..summarise import summarise
from ..tally import Tallies


@dataclass(frozen=True, eq=False)
class PrefixTallies:
    """The chunk function of a one-pass curve: tallies of one analysis at every size, keyed by size.

    ``sizes[k]`` maps the varied groups (by kernel index) to their size at the k-th size; ``specs[k]``
    is the analysis' tally spec (a CountTally, or a TrialTest) in the scenario of that size;
    ``columns[k]`` maps a group index to the prefix mark holding its count at that size.
    """

    labels: tuple[str, ...]
    sizes: tuple[Mapping[int, int], ...]
    specs: tuple
    columns: tuple[Mapping[int, int], ...]
    endpoint: int

    def __call__(self, plan: RunPlan, trial_start: int, n_trials: int) -> Tallies:
        n_real, _counts, _fired, mark_counts, values = simulate_chunk(plan, trial_start, n_trials)
        tallies: Tallies = {}
        if self.specs and not self.columns[0]:  # a per-trial test: every size in one walk, where it can
            matrix = np.repeat(n_real[:1].astype(np.int64), len(self.sizes), axis=0)
            for j, sizes in enumerate(self.sizes):
                for group, size in sizes.items():
                    matrix[j, group] = size
            walked = self.specs[0].prefix_tallies(values, matrix)
            if walked is not None:
                return dict(zip(self.labels, walked))
        for label, sizes, spec, columns in zip(self.labels, self.sizes, self.specs, self.columns):
            cut = n_real.copy()
            for group, size in sizes.items():
                cut[:, group] = size
            if columns:  # a count-based analysis: its counts come from the prefix marks
                counts = np.zeros((n_trials, cut.shape[1], 3), dtype=np.int32)
                for group, column in columns.items():
                    counts[:, group, self.endpoint] = mark_counts[:, column]
                tallies[label] = spec.tally(cut, counts)
            else:
                tallies[label] = spec.tally(values, cut)
        return tallies


def one_pass_summaries(largest: Scenario, sized: Mapping[int, Scenario], analysis_id: str, *,
                       executor=None, on_size: Optional[Callable[[int], None]] = None) -> dict[int, object]:
    """The analysis' summary at every size n of ``sized`` (n -> scenario), from one simulation of
    ``largest`` (the scenario at the largest size of every varied group). The scenarios hold the one
    analysis being sized, as :func:`sim.designs.sizing.size_study` makes them."""
    analysis = largest.analysis(analysis_id)
    analysed = analysis.group_names
    endpoint_plans = {}
    requests: list[tuple[str, str, int]] = []
    # Sizes and mark requests are keyed by group name until the one plan of ``largest`` (which needs
    # the requests) gives the groups' kernel indices.
    labels, cuts, specs, named_columns = [], [], [], []
    for n, scenario in sized.items():
        plan_n = make_plan(scenario)
        endpoint_plans[n] = plan_n
        cut = {name: scenario.groups[name].n for name in scenario.groups
               if scenario.groups[name].n != largest.groups[name].n or name in analysed}
        mark_columns = {}
        if plan_n.counts:
            (spec,) = plan_n.counts  # a scenario with the sized analysis only (see size_study)
            for name in analysed:
                mark_columns[name] = len(requests)
                requests.append((name, analysis.endpoint, scenario.groups[name].n))
        else:
            (spec,) = plan_n.tests
        labels.append(str(n))
        cuts.append(cut)
        specs.append(spec)
        named_columns.append(mark_columns)
    plan = make_plan(largest, extra_marks=requests)
    group_index = plan.model.group_index
    landed = plan.extra_mark_columns
    sizes = [{group_index(name): size for name, size in cut.items()} for cut in cuts]
    columns = [{group_index(name): landed[column] for name, column in mapping.items()} for mapping in named_columns]
    endpoint = specs[0].endpoint if columns and columns[0] else 0
    chunk_function = PrefixTallies(tuple(labels), tuple(sizes), tuple(specs), tuple(columns), endpoint)
    tallies = execute(plan, executor=executor, chunk_function=chunk_function)
    out = {}
    for n, scenario in sized.items():
        (summary,), _monitoring, _enrolment = summarise(scenario, endpoint_plans[n], {analysis_id: tallies[str(n)]})
        out[n] = summary
        if on_size:
            on_size(n)
    return out


def per_size_runs(sized: Mapping[int, Scenario], analysis_id: str, *, executor=None,
                  on_size: Optional[Callable[[int], None]] = None) -> dict[int, object]:
    """The analysis' summary at every size, one simulation per size (stream 0 at each: common random numbers)."""
    out = {}
    for n, scenario in sized.items():
        plan = make_plan(scenario)
        summaries, _monitoring, _enrolment = summarise(scenario, plan, execute(plan, executor=executor))
        out[n] = next(s for s in summaries if s.id == analysis_id)
        if on_size:
            on_size(n)
    return out
