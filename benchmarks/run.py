#!/usr/bin/env python3
"""Time `campaignwatch sync` against a read floor and the naive pandas/openpyxl baseline.

    python benchmarks/run.py [--expenses 100000] [--rounds 3] [--keep DIR] [--skip-baseline]

The workbook is generated once by benchmarks/generate.py (cached by size, seed, as-of date
and the generator's source in DIR, or in $TMPDIR/campaignwatch-bench). Every round then
runs, in this order and each on a fresh copy of the workbook, in its own process:

  floor     python -c: python_calamine opens the workbook and calls to_python() on every
            sheet — the least any reader of this file has to do;
  baseline  python -c: pandas.ExcelWriter(mode="a", engine="openpyxl",
            if_sheet_exists="replace") appends a 10-row tab — the naive way to write one
            tab back into a team's workbook;
  sync      python -m campaignwatch --config TMP/config.toml sync COPY --as-of DATE, with
            PYTHONPATH=lib (this checkout) and a fresh history file in every round, so
            every round does the same work.

Wall time is measured from this process with time.perf_counter() around the child, so
interpreter start and imports are included. Peak memory is the child's own ru_maxrss,
read with os.wait4() on its pid. This process stays small (the workbook is generated in a
child too), because a child started with vfork/fork can inherit its parent's peak RSS.

Nothing is asserted: the exit code is 0 unless a child crashed (1; for sync, any exit code
other than 0 — its stderr is printed).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LIB = REPO / "lib"
GENERATOR = HERE / "generate.py"
AS_OF = "2026-11-26"

FLOOR = """\
import sys
from python_calamine import CalamineWorkbook
wb = CalamineWorkbook.from_path(sys.argv[1])
rows = 0
for name in wb.sheet_names:
    rows += len(wb.get_sheet_by_name(name).to_python())
print(rows)
"""

BASELINE = """\
import sys
import pandas as pd
df = pd.DataFrame({"n": range(10), "note": [f"row {i}" for i in range(10)], "amount": [i * 1.5 for i in range(10)]})
with pd.ExcelWriter(sys.argv[1], mode="a", engine="openpyxl", if_sheet_exists="replace") as writer:
    df.to_excel(writer, sheet_name="bench", index=False)
"""

VERSIONS = """\
import sys
from importlib import metadata
print(sys.version.split()[0])
out = []
for dist in ("python-calamine", "pandas", "openpyxl", "numpy", "xlsxwriter"):
    try:
        out.append(f"{dist} {metadata.version(dist)}")
    except metadata.PackageNotFoundError:
        out.append(f"{dist} -")
print(", ".join(out))
"""

WARMUP = "import campaignwatch.cli, campaignwatch.sync, campaignwatch.report, python_calamine, pandas, openpyxl"


class ChildFailed(Exception):
    pass


class Result:
    def __init__(self, seconds: float, maxrss: int, rc: int, stdout: str, stderr: str):
        self.seconds, self.maxrss, self.rc, self.stdout, self.stderr = seconds, maxrss, rc, stdout, stderr

    @property
    def mb(self) -> float:
        return self.maxrss / 2**20


def run_child(cmd: list[str], env: dict, cwd: Path, logs: Path) -> Result:
    """Run one child; wall time from here, peak RSS of that child only (os.wait4)."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc                # reaped by wait4: keep Popen from waiting again
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    maxrss = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return Result(seconds, maxrss, rc, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))


def machine(python: str) -> list[str]:
    lines = []
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    mem = cpu = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
                    break
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    # Versions as the children see them (asked in a child: keeps this process small).
    probe = subprocess.run([python, "-c", VERSIONS], capture_output=True, text=True).stdout.split("\n", 1)
    pyver, versions = probe[0].strip() or "?", (probe[1].strip() if len(probe) > 1 else "?")
    lines.append(f"machine: nproc={os.cpu_count()} (usable {affinity}), memory {mem / 2**30:.1f} GiB"
                 if mem else f"machine: nproc={os.cpu_count()} (usable {affinity})")
    lines.append(f"  cpu: {cpu or platform.processor() or '?'}; {platform.system()} {platform.release()}")
    lines.append(f"  python {pyver} ({python}); date {dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "lib"], capture_output=True,
                           text=True).stdout.strip()
    lines.append(f"  {versions}; checkout {commit or '?'}{' (lib/ modified)' if dirty else ''}")
    return lines


def workbook(args, cache: Path, python: str) -> Path:
    """The generated workbook, from the cache when the same one was made before."""
    gen_hash = f"{zlib.crc32(GENERATOR.read_bytes()):08x}"
    sst = "-sst" if args.shared_strings else ""
    path = cache / f"bench-e{args.expenses}-s{args.seed}-{args.as_of}{sst}-g{gen_hash}.xlsx"
    if path.exists():
        print(f"workbook: {path} ({path.stat().st_size / 1e6:.1f} MB, cached)")
        return path
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.xlsx")
    print(f"generating {args.expenses} expenses …", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run([python, str(GENERATOR), str(tmp), "--expenses", str(args.expenses),
                           "--seed", str(args.seed), "--as-of", args.as_of]
                          + (["--shared-strings"] if args.shared_strings else []), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise ChildFailed("generate.py failed")
    os.replace(tmp, path)
    for line in proc.stdout.strip().splitlines():
        print("  " + line)
    print(f"workbook: {path} ({path.stat().st_size / 1e6:.1f} MB, generated in {time.perf_counter() - t0:.1f}s)")
    return path


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}s"


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or not b else f"{a / b:.2f}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--expenses", type=int, default=100_000, metavar="N", help="expense rows (default 100000)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of floor/baseline/sync (default 3)")
    p.add_argument("--keep", metavar="DIR", help="keep the workbook, the copies, logs and histories in DIR")
    p.add_argument("--skip-baseline", action="store_true", help="do not run the pandas/openpyxl baseline")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--as-of", default=AS_OF, metavar="YYYY-MM-DD", help=f"as-of date (default {AS_OF})")
    p.add_argument("--shared-strings", action="store_true",
                   help="generate the workbook with a shared string table, as Excel saves it (more memory to "
                        "generate); default: inline strings")
    p.add_argument("--sync-args", default="", help=argparse.SUPPRESS)   # e.g. "--dry-run", while testing
    p.add_argument("--python", default=sys.executable, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        dt.date.fromisoformat(args.as_of)
    except ValueError:
        p.error(f"--as-of {args.as_of!r} is not a date (YYYY-MM-DD)")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    python = args.python
    extra = shlex.split(args.sync_args)

    env = dict(os.environ)
    env["PYTHONPATH"] = str(LIB) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("CAMPAIGNWATCH_CONFIG", None)

    for line in machine(python):
        print(line)

    tmp_ctx = None
    if args.keep:
        work = Path(args.keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
        cache = work
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="cw-bench-")
        work = Path(tmp_ctx.name)
        cache = Path(tempfile.gettempdir()) / "campaignwatch-bench"
    try:
        return _run(args, python, env, extra, work, cache)
    except ChildFailed as exc:
        print(f"benchmark stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()


def _run(args, python, env, extra, work: Path, cache: Path) -> int:
    base = workbook(args, cache, python)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    runs = work / f"runs-{stamp}"

    def measure(kind: str, round_dir: Path) -> Result:
        round_dir.mkdir(parents=True, exist_ok=True)
        copy = round_dir / f"{kind}.xlsx"
        shutil.copyfile(base, copy)
        if kind == "floor":
            cmd = [python, "-c", FLOOR, str(copy)]
        elif kind == "baseline":
            cmd = [python, "-c", BASELINE, str(copy)]
        else:
            cmd = sync_cmd(copy, round_dir)
        r = run_child(cmd, env, round_dir, round_dir / f"{kind}-logs")
        if r.rc != 0:
            what = "campaignwatch sync" if kind.startswith("sync") else kind
            sys.stderr.write(f"\n{what} exited with code {r.rc}:\n$ {shlex.join(cmd)}\n")
            sys.stderr.write(r.stderr[-20000:] or r.stdout[-5000:])
            raise ChildFailed(f"{what} exited with code {r.rc} "
                              + (f"(logs: {round_dir})" if args.keep else "(--keep DIR keeps the logs)"))
        if not args.keep:
            _remove_copies(round_dir, copy)
        return r

    def sync_cmd(copy: Path, round_dir: Path) -> list[str]:
        config = round_dir / "config.toml"
        config.write_text("[history]\npath = " + json.dumps(str(round_dir / "history.sqlite")) + "\n",
                          encoding="utf-8")
        return [python, "-m", "campaignwatch", "--config", str(config), "sync", str(copy),
                "--as-of", args.as_of, *extra]

    # Warm-up (untimed): bytecode caches and the OS file cache, not a measurement.
    warm = run_child([python, "-c", WARMUP], env, work, runs / "warmup")
    if warm.rc != 0:
        sys.stderr.write(warm.stderr)
        raise ChildFailed("could not import campaignwatch, python_calamine, pandas or openpyxl")
    empty = run_child([python, "-c", "pass"], env, work, runs / "empty")
    print(f"  empty interpreter: {empty.seconds:.3f}s, {empty.mb:.0f} MB (included in every figure below)")
    print(f"  this runner's own peak: {_own_peak_mb():.0f} MB (a child's peak reads at least this much: it starts "
          f"as a copy of this process)")
    if extra:
        print(f"  sync extra arguments: {shlex.join(extra)}")

    kinds = ["floor"] + ([] if args.skip_baseline else ["baseline"]) + ["sync"]
    results: dict[str, list[Result]] = {k: [] for k in kinds}
    for n in range(1, args.rounds + 1):
        for kind in kinds:
            r = measure(kind, runs / f"round-{n}")
            results[kind].append(r)
            print(f"round {n}/{args.rounds}  {kind:9} {r.seconds:8.2f}s {r.mb:7.0f} MB", flush=True)

    # One extra, untimed sync with --timings: where the time goes.
    extra_dir = runs / "timings"
    extra_dir.mkdir(parents=True, exist_ok=True)
    copy = extra_dir / "sync.xlsx"
    shutil.copyfile(base, copy)
    cmd = sync_cmd(copy, extra_dir)
    if "--timings" not in cmd:
        cmd.append("--timings")
    tr = run_child(cmd, env, extra_dir, extra_dir / "sync-logs")
    if tr.rc != 0:
        sys.stderr.write(f"\ncampaignwatch sync --timings exited with code {tr.rc}:\n$ {shlex.join(cmd)}\n")
        sys.stderr.write(tr.stderr[-20000:] or tr.stdout[-5000:])
        raise ChildFailed(f"campaignwatch sync exited with code {tr.rc}")
    said = [ln.rstrip() for ln in tr.stdout.splitlines() if ln.strip() and not ln.startswith("    ")]
    if not args.keep:
        _remove_copies(extra_dir, copy)

    med = {k: median([r.seconds for r in v]) for k, v in results.items()}
    peak = {k: max(r.mb for r in v) for k, v in results.items()}
    print()
    print(f"{'':10} {'median':>9} {'min':>9} {'max':>9} {'peak MB':>8}   (expenses={args.expenses}, "
          f"{args.rounds} round{'s' if args.rounds > 1 else ''})")
    for k, v in results.items():
        secs = [r.seconds for r in v]
        print(f"{k:10} {fmt_s(med[k]):>9} {fmt_s(min(secs)):>9} {fmt_s(max(secs)):>9} {peak[k]:>8.0f}")
    b = med.get("baseline")
    print(f"sync/floor = {ratio(med['sync'], med['floor'])}   sync/baseline = {ratio(med['sync'], b)}")
    print(f"one extra sync --timings ({tr.seconds:.2f}s wall, {tr.mb:.0f} MB), its output without the flag lines:")
    for ln in said:
        print("  " + ln.strip())
    print(f"expenses={args.expenses} floor={med['floor']:.2f}s "
          f"baseline={'skipped' if b is None else f'{b:.1f}s'} sync={med['sync']:.2f}s "
          f"sync/floor={ratio(med['sync'], med['floor'])} sync/baseline={ratio(med['sync'], b)} "
          f"peak_sync={peak['sync']:.0f}MB")
    if args.keep:
        print(f"kept: {runs}")
    return 0


def _own_peak_mb() -> float:
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def _remove_copies(round_dir: Path, copy: Path) -> None:
    """Free the disk between measurements (the workbook copy and sync's backups)."""
    copy.unlink(missing_ok=True)
    shutil.rmtree(round_dir / ".campaignwatch-backups", ignore_errors=True)
    for sidecar in round_dir.glob(copy.stem + "*"):
        if sidecar.is_file() and sidecar.suffix in (".xlsx", ".xlsm"):
            sidecar.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
