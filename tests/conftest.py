import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def example_scenario() -> dict:
    """The scenario of issue 2, as plain data (it must work as written)."""
    return {
        "name": "tki_vs_bev",
        "trials": 20000,
        "seed": 2009,
        "groups": {
            "prior_tki": {
                "n": 30,
                "washout_months": {"distribution": "lognormal", "median": 2.0, "sigma": 0.8},
                "cardiac_event": {"model": "washout_decay", "p_early": 0.60, "p_late": 0.085,
                                  "half_life_months": 1.5},
                "response": {"p": 0.05},
            },
            "prior_bev": {
                "n": 30,
                "washout_months": {"distribution": "lognormal", "median": 3.0, "sigma": 0.7},
                "cardiac_event": {"p": 0.085},
                "response": {"p": 0.15},
            },
        },
        "eligibility": {"min_washout_months": 0},
        "analyses": [
            {"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"], "test": "fisher",
             "alternative": "two-sided", "alpha": 0.05},
            {"estimate": "cardiac_event", "group": "prior_tki", "interval": "clopper-pearson", "level": 0.95,
             "reference_rate": 0.085, "target_width": 0.30},
        ],
    }
