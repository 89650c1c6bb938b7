"""Running the fuzz targets under atheris, in this process or one process per target.

One target runs in this process under atheris (libFuzzer): its packages instrumented for
coverage, the seeds and earlier findings of ``tests/reliability/corpus/NAME/`` as the starting
corpus (new coverage goes to a temporary folder), an input that makes the target raise a
foreign error saved there as ``crash-<sha1>`` and the run ended with a non-zero status.
``--all`` runs every target, each in its own process, and records one figure per target
(:func:`tests.reliability.report.record`)."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
"""One folder per target: seeds and found inputs."""
FULL_RUNS = 1_000_000
SMOKE_SECONDS = 3
_DONE = re.compile(r"Done (\d+) runs in \d+ second|number_of_executed_units: (\d+)")


def fuzz(name: str, *, runs: int | None, seconds: int | None) -> None:
    """Run atheris on target ``name`` in this process (does not return)."""
    import atheris  # noqa: PLC0415 - only the fuzzing process needs it
    from atheris.import_hook import instrument_imports  # noqa: PLC0415

    with instrument_imports(
        include=["tunnel", "inverter_agent", "ccu_addon", "cloud_gateway", "wsproto", "h11"]
    ):
        from tests.reliability.fuzz.targets import TARGETS, run_one  # noqa: PLC0415

    target = TARGETS[name]
    corpus = CORPUS / name
    corpus.mkdir(parents=True, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f"fuzz-{name}-")
    args = [sys.argv[0], f"-artifact_prefix={corpus}/", "-max_len=8192", "-print_final_stats=1"]
    if runs is not None:
        args.append(f"-runs={runs}")
    if seconds is not None:
        args.append(f"-max_total_time={seconds}")
    atheris.Setup([*args, work, str(corpus)], lambda data: run_one(target, data))
    atheris.Fuzz()


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzRun:
    """What one target's fuzzing process did."""

    name: str
    """The target."""
    executions: int
    """Inputs tried (libFuzzer's count)."""
    seconds: float
    """Wall time of the process."""
    exit_code: int
    """0: nothing found; otherwise a finding was saved in the corpus."""
    output: str
    """libFuzzer's and the target's output."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def run_target(name: str, *, runs: int | None, seconds: int | None) -> FuzzRun:
    """Fuzz ``name`` in its own process and record its figure."""
    from tests.reliability.report import record  # noqa: PLC0415

    argv = [sys.executable, "-m", "tests.reliability.fuzz", name]
    argv += [f"--runs={runs}"] if runs is not None else []
    argv += [f"--seconds={seconds}"] if seconds is not None else []
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    match = _DONE.search(output)
    run = FuzzRun(
        name=name,
        executions=int(match.group(1) or match.group(2)) if match else 0,
        seconds=time.monotonic() - started,
        exit_code=done.returncode,
        output=output,
    )
    verdict = "no foreign exception" if run.ok else f"finding saved (exit {run.exit_code})"
    record(
        f"fuzz_{name}",
        f"{run.executions} executions in {run.seconds:.0f} s, {verdict}",
        passed=run.ok,
    )
    return run


def run_all(names: list[str], *, runs: int | None, seconds: int | None) -> int:
    """Each target in its own process; one figure each. 0 when none found anything."""
    failed = 0
    for name in names:
        run = run_target(name, runs=runs, seconds=seconds)
        if not run.ok:
            failed += 1
            print(run.output[-4000:], file=sys.stderr)
    return 1 if failed else 0
