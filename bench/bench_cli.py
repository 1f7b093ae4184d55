"""Benchmark: cold start of the `mlnb` command on a 3-row CSV, each command in a fresh process.

Prints wall time, CPU time and peak RSS (never timed assertions) of `mlnb stats`, `mlnb schema infer` and
`mlnb validate`, beside two peers measured in the same run: `mlnb --help` (the interpreter's own start) and
`import tensorflow_data_validation` (what each of these commands paid before they stopped importing TensorFlow
and Beam).   Goals: every command under 1.5 s wall and 300 MB RSS; none imports tensorflow or apache_beam.
On a shared machine the wall time waits for the CPU: the CPU column is what the command itself costs.

Usage: .venv/bin/python bench/bench_cli.py [--repeat N]
"""
import os, resource, subprocess, sys, tempfile, time
from pathlib import Path

MB = 1 << 20
HEAVY = ("tensorflow", "apache_beam", "tensorflow_data_validation")  # packages (TFDV's C++ core alone is not one)
# Runs a command like the console script does, then reports which heavy packages it imported.
PROBE = ("import sys; sys.argv[0] = 'mlnb'\n"
         "from mlnb.cli import main\n"
         "rc = main(sys.argv[1:])\n"
         f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
         "sys.exit(rc)")


def run(args: list[str], cwd: Path) -> dict:
    "Wall, CPU and peak RSS of one fresh process (resource usage of the child alone, by a wrapper process)."
    wrapper = ("import resource, subprocess, sys, time\n"
               "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "wall = time.perf_counter() - t; u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(p.returncode, wall, u.ru_utime + u.ru_stime, u.ru_maxrss, repr(p.stderr[-300:]))")
    out = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, cwd=cwd,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    rc, wall, cpu, rss, err = out.stdout.split(" ", 4)
    heavy = err.split("HEAVY", 1)[1].split("\\n")[0].strip() if "HEAVY" in err else "-"
    return {"rc": int(rc), "wall": float(wall), "cpu": float(cpu), "rss": int(rss) * 1024, "heavy": heavy,
            "err": err}


def main():
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    work = Path(tempfile.mkdtemp(prefix="mlnb-bench-cli-"))
    (work / "tiny.csv").write_text("a,b,c\n1,x,0.5\n2,y,1.5\n3,x,2.5\n")
    py = [sys.executable, "-c", PROBE]
    commands = [("mlnb --help (interpreter start)", py + ["--help"]),
                ("mlnb stats tiny.csv -o s.pb", py + ["stats", "tiny.csv", "-o", "s.pb"]),
                ("mlnb schema infer tiny.csv -o s.pbtxt", py + ["schema", "infer", "tiny.csv", "-o", "s.pbtxt"]),
                ("mlnb validate tiny.csv --schema s.pbtxt", py + ["validate", "tiny.csv", "--schema", "s.pbtxt"]),
                ("mlnb validate s.pb --schema s.pbtxt", py + ["validate", "s.pb", "--schema", "s.pbtxt"]),
                ("import tensorflow_data_validation (before)", [sys.executable, "-c", "import tensorflow_data_validation"])]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; best of {repeat} fresh processes\n")
    print(f"{'':46}{'wall s':>8}{'cpu s':>8}{'RSS MB':>8}  imports TF/Beam")
    results = {}
    for label, args in commands:
        runs = [run(args, work) for _ in range(repeat)]
        bad = [r for r in runs if r["rc"] not in (0,)]
        if bad: raise SystemExit(f"{label} failed: {bad[0]['err']}")
        best = min(runs, key=lambda r: r["wall"])
        results[label] = best
        print(f"{label:46}{best['wall']:8.2f}{min(r['cpu'] for r in runs):8.2f}{best['rss'] / MB:8.0f}  {best['heavy']}")
    mlnb = {k: v for k, v in results.items() if k.startswith("mlnb ") and "--help" not in k}
    slowest = max(v["wall"] for v in mlnb.values())
    biggest = max(v["rss"] for v in mlnb.values())
    clean = all(v["heavy"] == "[]" for v in mlnb.values())
    tfdv = results["import tensorflow_data_validation (before)"]
    print(f"\nslowest command {slowest:.2f} s (goal < 1.5 s: {'met' if slowest < 1.5 else 'NOT met'}); "
          f"largest {biggest / MB:.0f} MB (goal < 300 MB: {'met' if biggest < 300 * MB else 'NOT met'}); "
          f"TensorFlow and Beam {'never imported' if clean else 'IMPORTED'}")
    print(f"importing TFDV alone takes {tfdv['wall']:.2f} s and {tfdv['rss'] / MB:.0f} MB: "
          f"{tfdv['wall'] / slowest:.1f}x the slowest command")


if __name__ == "__main__":
    main()
