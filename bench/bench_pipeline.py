"""The pipeline runner's per-step time and overhead, as ratios to bare papermill running the same notebooks.

Five trivial steps in a chain (each records one value and writes one file):
  papermill   papermill.execute_notebook on each notebook in turn (the peer): a kernel started, used, shut down
  mlnb cold   Pipeline.run(force=True): validation, cache keys, fingerprints, store writes, run.json, and the same
              notebooks in fresh kernels, each started ahead while the steps before it run (mlnb.exec.notebook.KernelPool);
              also per step after the first (whose kernel nothing started ahead), and the runner's own work: the run's
              time outside the steps' execute_notebook calls
  CLI cold    `mlnb run --force` in a fresh process (what cron sees: process start and imports included)
  mlnb cached Pipeline.run() with nothing changed: no kernel starts
  CLI cached  `mlnb run pipeline.yaml` in a fresh process with nothing changed
Goal (issue 16): a cold run's per-step time <= 1/3 of papermill's. Rounds alternate which peer goes first and
medians are reported: kernel start-up time swings with the machine's load, so compare the ratios, not single rounds.

    .venv/bin/python bench/bench_pipeline.py [--steps 5] [--rounds 3]
"""
import argparse, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path

MLNB = str(Path(sys.executable).parent/"mlnb")


def notebook(i: int) -> dict:
    cell = lambda n, src, tags: {"cell_type": "code", "id": f"c{n}", "metadata": {"tags": tags}, "source": src,
                                 "outputs": [], "execution_count": None}
    code = (f"import mlnb\nprev = open('out{i - 1}.txt').read() if {i} > 0 else ''\n"
            f"open('out{i}.txt', 'w').write(prev + str(value))\nmlnb.record('value', value)")
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
            "cells": [cell(0, f"value = {i}", ["parameters"]), cell(1, code, [])]}


def make_workspace(root: Path, steps: int) -> Path:
    root.mkdir(parents=True)
    lines = ["name: bench", "steps:"]
    for i in range(steps):
        (root/f"s{i}.ipynb").write_text(json.dumps(notebook(i)))
        up = f", upstream: [s{i - 1}]" if i else ""
        lines.append(f"  s{i}: {{notebook: s{i}.ipynb, outputs: [out{i}.txt]{up}}}")
    (root/"pipeline.yaml").write_text("\n".join(lines) + "\n")
    return root


def bare_papermill(ws: Path, steps: int) -> float:
    import papermill as pm
    out = ws/"pm"
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    for i in range(steps):
        pm.execute_notebook(str(ws/f"s{i}.ipynb"), str(out/f"s{i}.ipynb"), parameters={"value": i}, kernel_name="python3",
                            progress_bar=False, cwd=str(ws), extra_arguments=["--IPKernelApp.log_level=ERROR"])
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from mlnb.pipeline import runner
    from mlnb.pipeline.api import Pipeline
    import papermill  # noqa: F401  (imported once, outside the timings, for both)
    inside = []  # seconds spent inside papermill during an mlnb run: the rest is the runner's own work
    execute = runner.Runner._execute
    def timed(self, name, out):
        t0 = time.perf_counter()
        try: return execute(self, name, out)
        finally: inside.append(time.perf_counter() - t0)
    runner.Runner._execute = timed
    root = Path(tempfile.mkdtemp(prefix="mlnb-bench-"))
    quiet = lambda line: None
    warm = make_workspace(root/"warmup", 1)  # first kernel start, store creation and environment fingerprint
    bare_papermill(warm, 1); Pipeline.load(warm).run(log=quiet)
    pm_t, cold_t, own_t, cached_t, cli_t, cli_cold_t, later_t = [], [], [], [], [], [], []
    for r in range(args.rounds):
        ws = make_workspace(root/f"round{r}", args.steps)
        p = Pipeline.load(ws)
        def cold():
            inside.clear()
            done = []  # when each step's outcome was logged
            log = lambda line: done.append(time.perf_counter()) if " ran " in line else None
            t0 = time.perf_counter(); res = p.run(force=True, log=log); took = time.perf_counter() - t0
            assert res.ok and all(s.status == "ran" for s in res.steps.values()), res
            cold_t.append(took); own_t.append(took - sum(inside)); later_t.append((done[-1] - done[0]) / (len(done) - 1))
        def cli(*flags):
            t0 = time.perf_counter()
            proc = subprocess.run([MLNB, "run", "pipeline.yaml", *flags], cwd=ws, capture_output=True, text=True)
            took = time.perf_counter() - t0
            assert proc.returncode == 0, proc.stdout + proc.stderr
            return took, proc.stdout
        if r % 2: cold(); pm_t.append(bare_papermill(ws, args.steps))  # alternate who goes first
        else: pm_t.append(bare_papermill(ws, args.steps)); cold()
        took, out = cli("--force"); cli_cold_t.append(took)
        assert out.count(" ran ") == args.steps, out
        t0 = time.perf_counter(); res = p.run(log=quiet); cached_t.append(time.perf_counter() - t0)
        assert all(s.status == "cached" for s in res.steps.values()), res
        took, out = cli(); cli_t.append(took)
        assert "cached" in out, out
    pm_m, cold_m, own_m, cached_m, cli_m, cli_cold_m, later_m = map(statistics.median, (pm_t, cold_t, own_t, cached_t, cli_t, cli_cold_t, later_t))
    n, rounds = args.steps, lambda ts: ", ".join(f"{t:.1f}" for t in ts)
    print(f"bench_pipeline: {n} trivial steps in a chain, {args.rounds} rounds (after a warm-up), medians")
    print(f"  bare papermill          {pm_m:7.2f}s  {pm_m / n:5.2f}s per step (rounds {rounds(pm_t)})")
    print(f"  mlnb run, cold          {cold_m:7.2f}s  {cold_m / n:5.2f}s per step, ratio to papermill {cold_m / pm_m:.2f}x "
          f"(goal <= 0.33; rounds {rounds(cold_t)})")
    print(f"    after the first step  {later_m:7.2f}s per step, ratio to papermill's per step {later_m / (pm_m / n):.2f}x "
          f"(the first step waits for the first kernel, as every papermill step does)")
    print(f"    runner's own work     {own_m:7.2f}s  ({own_m / n * 1000:.0f} ms per step outside the steps' execution: validation, "
          f"cache keys, fingerprints, store, run.json; {own_m / pm_m:.3f}x papermill)")
    print(f"  `mlnb run --force` CLI  {cli_cold_m:7.2f}s  {cli_cold_m / n:5.2f}s per step, ratio to papermill {cli_cold_m / pm_m:.2f}x "
          f"(process start and imports included; rounds {rounds(cli_cold_t)})")
    print(f"  mlnb run, all cached    {cached_m:7.2f}s  ratio to papermill {cached_m / pm_m:.3f}x "
          f"({cached_m / n * 1000:.0f} ms per step, no kernel)")
    print(f"  `mlnb run` CLI, cached  {cli_m:7.2f}s  ratio to papermill {cli_m / pm_m:.3f}x (process start and imports included)")

if __name__ == "__main__":
    main()
