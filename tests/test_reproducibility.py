"""Bit-identical results whatever the chunking or the number of threads."""

import json
import os
import subprocess
import sys

import pytest

from sim.runner import execute, make_plan, run_scenario
from sim.tally import tallies_equal
from sim.scenario import validate_scenario


def _scenario(example_scenario, trials=3000):
    data = dict(example_scenario, trials=trials)
    data["groups"] = dict(data["groups"])
    data["groups"]["prior_bev"] = dict(data["groups"]["prior_bev"],
                                       washout_months={"distribution": "gamma", "mean": 3.0, "shape": 2.0})
    data["eligibility"] = {"min_washout_months": 1.0, "policy": "exclude"}
    return validate_scenario(data)


@pytest.mark.parametrize("chunk_trials", [1, 7, 1000, 2999, 3000, 5000])
def test_tallies_identical_across_chunk_sizes(example_scenario, chunk_trials):
    scenario = _scenario(example_scenario)
    reference = execute(make_plan(scenario, chunk_trials=512))
    tallies = execute(make_plan(scenario, chunk_trials=chunk_trials))
    assert tallies_equal(reference, tallies)


def test_tallies_identical_in_any_chunk_order(example_scenario):
    scenario = _scenario(example_scenario)
    plan = make_plan(scenario, chunk_trials=700)
    forward = execute(plan)
    backward = execute(plan, chunks=list(plan.chunks())[::-1])
    assert tallies_equal(forward, backward)


def test_stream_changes_the_draws(example_scenario):
    scenario = _scenario(example_scenario, trials=500)
    a = run_scenario(scenario, stream=0).tallies
    b = run_scenario(scenario, stream=1).tallies
    assert not tallies_equal(a, b)


_CHILD = """
import json, sys
from sim.runner import execute, make_plan, threads
from sim.scenario import validate_scenario
from sim.tally import tallies_as_lists
data = json.loads(sys.argv[1])
tallies = execute(make_plan(validate_scenario(data), chunk_trials=int(sys.argv[2])))
print(json.dumps({"threads": threads(), "tallies": tallies_as_lists(tallies)}))
"""


def test_identical_across_thread_counts(example_scenario):
    scenario = _scenario(example_scenario, trials=20_000)
    outputs = []
    for threads, chunk in (("1", 4096), ("2", 20_000)):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(scenario.to_dict()), str(chunk)],
                              env=env, capture_output=True, text=True, check=True)
        outputs.append(json.loads(proc.stdout))
    assert [o["threads"] for o in outputs] == [1, 2]
    assert outputs[0]["tallies"] == outputs[1]["tallies"]
