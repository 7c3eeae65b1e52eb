"""The optional R lines: Monte Carlo Fisher power in R, run by ``fisher_power.R`` in a subprocess.

* ``statmod``: ``statmod::power.fisher.test`` (Smyth's statmod package), R's ready-made answer:
  ``rbinom`` counts and ``fisher.test`` on every trial.
* ``lookup``: the same counts, ``fisher.test`` once per distinct table (R written the way the
  vectorised numpy baseline is).

Each is timed inside R (``Sys.time`` around the computation, R's start-up excluded). Where
``Rscript`` or statmod is missing the line is skipped, with the reason in the report; CI has no R.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

SCRIPT = Path(__file__).resolve().parent / "fisher_power.R"
METHODS = ("statmod", "lookup")
R_ALTERNATIVES = {"two-sided": "two.sided", "greater": "greater", "less": "less"}


@dataclass(frozen=True)
class RResult:
    """One timed R computation of Fisher power."""

    method: str
    trials: int
    power: float
    seconds: float
    tables: int
    r_version: str
    package_version: str

    @property
    def trials_per_second(self) -> float:
        return self.trials / max(self.seconds, 1e-9)


@functools.lru_cache(maxsize=None)
def unavailable(method: str) -> Optional[str]:
    """Why the R line ``method`` cannot run here (a sentence), or None when it can."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript not found on PATH (Debian: apt-get install r-base-core)"
    if method != "statmod":
        return None
    completed = subprocess.run([rscript, "-e", 'cat(requireNamespace("statmod", quietly = TRUE))'],
                               capture_output=True, text=True, check=False, timeout=120)
    if completed.returncode != 0 or completed.stdout.strip() != "TRUE":
        return "R package statmod is not installed (Debian: apt-get install r-cran-statmod)"
    return None


def fisher_power_in_r(method: str, *, sizes: tuple[int, int], rates: tuple[float, float], alpha: float,
                      alternative: str, trials: int, seed: int) -> RResult:
    """Run ``fisher_power.R`` once; raises RuntimeError if R fails (call :func:`unavailable` first).

    ``seed`` is reduced to R's integer range for ``set.seed``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    (n1, n2), (p1, p2) = sizes, rates
    command = [shutil.which("Rscript") or "Rscript", str(SCRIPT), method, str(n1), repr(float(p1)), str(n2),
               repr(float(p2)), repr(float(alpha)), R_ALTERNATIVES[alternative], str(trials),
               str(seed % 2**31)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr}")
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return RResult(method=method, trials=trials, power=float(data["power"]), seconds=float(data["seconds"]),
                   tables=int(data["tables"]), r_version=data["r_version"],
                   package_version=data["package_version"])
