"""Cold-start time of the ``harness`` command line, and proof that it stays light.

Runs the installed console script ``harness --help`` N times in fresh
subprocesses (so every run pays interpreter start-up and imports, as a user
does) and prints the median and minimum wall time against the target
(<= 0.3 s). For context it times, the same way, ``python -c pass`` (the
interpreter floor), ``python -c "import torch"`` and ``python -c "import
transformers"``: what ``--help`` would cost if the CLI imported them.

It then runs ``harness --help`` and ``harness checks`` in-process in a
subprocess through ``harness.cli.main.main([...], standalone_mode=False)`` and
prints whether ``torch`` or ``transformers`` ended up in ``sys.modules``.

Usage::

    .venv/bin/python benchmarks/cli_startup.py [--runs 10] [--json PATH]

Exit status: 0 when the target is met and nothing heavy is imported, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3
HEAVY = ("torch", "transformers")

# Runs a CLI command in-process and reports which heavy modules it imported.
# SystemExit is caught because commands end through sys.exit(code).
_PROBE = r"""
import json, sys
from harness.cli.main import main
args = json.loads(sys.argv[1])
code = 0
try:
    main(args, standalone_mode=False)
except SystemExit as exc:
    code = exc.code
heavy = {name: name in sys.modules for name in %r}
sys.stderr.flush()
print("PROBE " + json.dumps({"args": args, "code": code, "heavy": heavy}))
""" % (HEAVY,)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env


def time_command(argv: list[str], runs: int) -> list[float]:
    """Wall times of ``runs`` fresh subprocesses of ``argv`` (stdout discarded)."""
    env = _env()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        times.append(time.perf_counter() - start)
        if completed.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {completed.returncode}: {completed.stderr.decode()[-500:]}")
    return times


def probe_imports(args: list[str]) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, env=_env()
    )
    for line in completed.stdout.splitlines():
        if line.startswith("PROBE "):
            return json.loads(line[len("PROBE "):])
    raise SystemExit(f"import probe for {args} failed (exit {completed.returncode}): {completed.stderr[-800:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="subprocess runs per command (default 10)")
    parser.add_argument("--context-runs", type=int, default=None, help="runs for the torch / transformers imports (default: --runs, at most 5)")
    parser.add_argument("--json", type=Path, help="write the numbers to this JSON file")
    options = parser.parse_args()

    script = Path(sys.executable).parent / "harness"
    if not script.exists():
        raise SystemExit(f"{script} not found: install the project (pip install -e .) in this interpreter's environment")
    context_runs = options.context_runs or min(options.runs, 5)
    python = sys.executable

    # One untimed run of each warms the OS page cache, so "cold" means a fresh
    # interpreter, not a cold disk (the numbers are then repeatable).
    for argv in ([str(script), "--help"], [python, "-c", "pass"]):
        time_command(argv, 1)

    measured = {
        "harness --help": time_command([str(script), "--help"], options.runs),
        "harness checks": time_command([str(script), "checks"], options.runs),
        "python -c pass": time_command([python, "-c", "pass"], options.runs),
        "python -c 'import torch'": time_command([python, "-c", "import torch"], context_runs),
        "python -c 'import transformers'": time_command([python, "-c", "import transformers"], context_runs),
    }
    summary = {name: {"median_s": statistics.median(t), "min_s": min(t), "runs": len(t)} for name, t in measured.items()}

    print(f"CLI start-up, {options.runs} fresh subprocesses each ({context_runs} for the torch / transformers imports)")
    print(f"{'command':34} {'median s':>9} {'min s':>8}")
    for name, row in summary.items():
        print(f"{name:34} {row['median_s']:9.3f} {row['min_s']:8.3f}")
    help_median = summary["harness --help"]["median_s"]
    floor = summary["python -c pass"]["median_s"]
    ratio = help_median / floor if floor else float("inf")
    met = help_median <= TARGET_S
    print()
    print(f"harness --help / python -c pass (interpreter floor): {ratio:.1f}x")
    transformers_median = summary["python -c 'import transformers'"]["median_s"]
    print(f"harness --help / python -c 'import transformers': {help_median / transformers_median:.2f}x")
    print(f"target: harness --help median <= {TARGET_S:.2f} s -> {'MET' if met else 'NOT MET'} ({help_median:.3f} s)")

    probes = [probe_imports(["--help"]), probe_imports(["checks"])]
    light = True
    print()
    for probe in probes:
        heavy = [name for name, present in probe["heavy"].items() if present]
        light &= not heavy and probe["code"] in (0, None)
        shown = ", ".join(f"{name} {'IMPORTED' if present else 'not imported'}" for name, present in probe["heavy"].items())
        print(f"harness {' '.join(probe['args']):8} exit {probe['code']}: {shown}")
    print(f"no heavy imports for --help / checks: {'YES' if light else 'NO'}")

    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps({
            "target_s": TARGET_S,
            "target_met": met,
            "help_over_python_floor": ratio,
            "commands": summary,
            "raw_s": measured,
            "import_probes": probes,
            "no_heavy_imports": light,
            "python": sys.version.split()[0],
            "cpu_count": os.cpu_count(),
        }, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {options.json}")
    return 0 if met and light else 1


if __name__ == "__main__":
    sys.exit(main())
