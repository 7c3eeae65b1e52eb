"""Peak memory of one run, measured in a fresh process: ``memory_probe.py SCENARIO TRIALS [OVERRIDES]``.

``benchmarks/run.py`` starts this once per trial count, so no measurement inherits another's heap,
allocator state or high-water mark. It prints one JSON object:

``peak_rss_bytes``
    Peak resident set size of the whole process (imports, loaded kernels, numba's threads and
    the run): what the operating system, a batch scheduler or a user's ``top`` sees. Read from
    the kernel's high-water mark (``VmHWM``) before and after the run.
``run_rss_growth_bytes``
    Peak RSS during the run above the RSS just before it. The high-water mark is reset first
    (``/proc/self/clear_refs``, Linux >= 4.0), so it is the run's own peak; it can read low when
    the run reuses memory the allocator kept from the imports.
``run_traced_peak_bytes``
    Peak of the bytes allocated during the run through Python's allocators (``tracemalloc``).
    numpy's arrays and numba's (NRT allocates with ``PyMem_RawMalloc``) are both traced, so this
    counts every array the runner and the kernel create, exactly and independently of the
    allocator: it is the figure that shows whether memory grows with the number of trials.

Before measuring, one trial is run so that the kernels are loaded from numba's cache and numba's
thread pool is started: those costs do not depend on the trial count and are not the run's.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Optional

_PROC_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_bytes(field: str) -> Optional[int]:
    """A ``/proc/self/status`` memory field (reported in kB) in bytes, or None off Linux."""
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_high_water_mark() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _ru_maxrss_bytes() -> int:
    # Linux reports kilobytes, macOS bytes.
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024


def probe(scenario_path: str, trials: int, overrides: Optional[dict] = None) -> dict:
    """Run ``trials`` trials of the scenario (with dotted-path ``overrides``) and report its memory."""
    from sim.runner import execute, make_plan, run_chunk
    from sim.scenario import load_scenario

    plan = make_plan(load_scenario(scenario_path, overrides={**(overrides or {}), "trials": trials}))
    run_chunk(plan, 0, 1)
    gc.collect()

    peak_before = _status_bytes("VmHWM")
    can_reset = peak_before is not None and _reset_high_water_mark()
    rss_before = _status_bytes("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    execute(plan)
    seconds = time.perf_counter() - started
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_after = _status_bytes("VmHWM")

    if peak_before is not None and peak_after is not None:
        peak_rss = max(peak_before, peak_after)
    else:
        peak_rss = _ru_maxrss_bytes()
    growth = peak_after - rss_before if can_reset and peak_after is not None and rss_before is not None else None
    return {
        "trials": trials,
        "chunk_trials": plan.chunk_trials,
        "chunks": plan.n_chunks,
        "seconds": seconds,
        "peak_rss_bytes": peak_rss,
        "run_rss_growth_bytes": growth,
        "run_traced_peak_bytes": traced_peak,
        "method": "VmHWM with clear_refs reset; tracemalloc" if can_reset else "ru_maxrss; tracemalloc",
    }


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: memory_probe.py SCENARIO TRIALS [OVERRIDES_JSON]", file=sys.stderr)
        return 2
    overrides = json.loads(argv[2]) if len(argv) == 3 else None
    print(json.dumps(probe(argv[0], int(argv[1]), overrides)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
