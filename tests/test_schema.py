"""Schemas on real data: inference equals TFDV's, files round-trip with TFDV, saves are atomic and versioned,
edits never change their input, and diffs read as sentences."""
import html, json, os
from pathlib import Path

import pytest
from google.protobuf import text_format

from mlnb.data import schema as S
from mlnb.data.schema_tables import domain_text, schema_diff, schema_frame
from mlnb.cli import main
from mlnb.data.statistics import save_stats, stats
from mlnb.errors import SchemaError


@pytest.fixture(scope="module")
def tfdv():
    import tensorflow_data_validation
    return tensorflow_data_validation


@pytest.fixture(scope="module")
def taxi_stats(taxi_df):
    return stats(taxi_df)


@pytest.fixture(scope="module")
def taxi_schema(taxi_stats):
    return S.infer_schema(taxi_stats)


def test_infer_equals_tfdv(tfdv, taxi_stats, diamonds_df):
    for s in (taxi_stats, stats(diamonds_df)):
        for shape in (False, True):
            assert S.infer_schema(s, infer_feature_shape=shape) == tfdv.infer_schema(s, infer_feature_shape=shape)
    small = S.infer_schema(taxi_stats, max_string_domain_size=5)
    assert small == tfdv.infer_schema(taxi_stats, infer_feature_shape=False, max_string_domain_size=5)
    assert {d.name for d in small.string_domain} == {"tip", "local", "month"}  # 7 companies, 7 days: too many


def test_infer_from_data(taxi_df, taxi_schema, tmp_path):
    assert S.infer_schema(taxi_df) == taxi_schema  # a DataFrame
    taxi_df.to_csv(tmp_path / "taxi.csv", index=False)
    from_csv = S.infer_schema(tmp_path / "taxi.csv")  # a CSV file
    assert [f.name for f in from_csv.feature] == list(taxi_df.columns)
    save_stats(stats(taxi_df), tmp_path / "stats.pb")
    assert S.infer_schema(str(tmp_path / "stats.pb")) == taxi_schema  # a stats file


def test_files_round_trip_with_tfdv(tfdv, taxi_schema, tmp_path):
    p = S.save_schema(taxi_schema, tmp_path / "schema.pbtxt")
    assert p == tmp_path / "schema.pbtxt"
    assert tfdv.load_schema_text(str(p)) == taxi_schema
    tfdv.write_schema_text(S.set_range(taxi_schema, "hour", 0, 23), str(tmp_path / "tfdv.pbtxt"))
    assert schema_diff(p, tmp_path / "tfdv.pbtxt") == ["feature 'hour': range set to [0, 23]"]


def test_save_keeps_history(taxi_schema, tmp_path):
    p = tmp_path / "schema.pbtxt"
    v1, v2 = taxi_schema, S.add_values(taxi_schema, "company", "Blue Ribbon Taxi")
    S.save_schema(v1, p)
    assert not (tmp_path / ".schema_history").exists()  # nothing was replaced
    S.save_schema(v2, p)
    S.save_schema(v2, p)  # unchanged: no new version
    history = sorted((tmp_path / ".schema_history").iterdir())
    assert len(history) == 1 and history[0].name.startswith("schema.") and history[0].suffix == ".pbtxt"
    assert S.load_schema(history[0]) == v1 and S.load_schema(p) == v2
    S.save_schema(S.deprecate(v2, "local"), p)
    history = sorted((tmp_path / ".schema_history").iterdir())
    assert [S.load_schema(h) for h in history] == [v1, v2]
    assert sorted(os.listdir(tmp_path)) == [".schema_history", "schema.pbtxt"]  # no temporary files left


def test_failed_save_leaves_the_old_file(taxi_schema, tmp_path):
    p = S.save_schema(taxi_schema, tmp_path / "schema.pbtxt")
    before = p.read_bytes()
    (tmp_path / ".schema_history").write_text("a file where the history folder goes")
    with pytest.raises(SchemaError, match="could not save the schema .*the previous file is unchanged"):
        S.save_schema(S.deprecate(taxi_schema, "local"), p)
    assert p.read_bytes() == before
    with pytest.raises(SchemaError, match="expected a Schema proto"):
        S.save_schema({"feature": "tip"}, p)
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [".schema_history", "schema.pbtxt"]


def test_corrupt_schema_files(taxi_schema, taxi_stats, tmp_path):
    p = S.save_schema(taxi_schema, tmp_path / "schema.pbtxt")
    lines = p.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if line.strip().startswith("type:"))
    lines[n] = lines[n].replace("type:", "typ:")
    p.write_text("\n".join(lines))
    with pytest.raises(SchemaError, match=rf"schema.pbtxt, line {n + 1}: not a valid schema: .*no field named \"typ\""):
        S.load_schema(p)
    try: S.load_schema(p)
    except SchemaError as e: assert e.line == n + 1 and e.path == str(p)
    p.write_text(text_format.MessageToString(taxi_schema)[:200])  # cut short
    with pytest.raises(SchemaError, match="line"):
        S.load_schema(p)
    p.write_bytes(os.urandom(64) + b"\xff\xfe")
    with pytest.raises(SchemaError, match="binary content"):
        S.load_schema(p)
    p.write_text("  \n")
    with pytest.raises(SchemaError, match="the file is empty"):
        S.load_schema(p)
    save_stats(taxi_stats, tmp_path / "stats.pbtxt")
    with pytest.raises(SchemaError, match="stats.pbtxt, line 1: not a valid schema"):
        S.load_schema(tmp_path / "stats.pbtxt")
    with pytest.raises(SchemaError, match="no such schema file"):
        S.load_schema(tmp_path / "missing.pbtxt")


EDITS = [
    (S.set_type, ("hour", "FLOAT")), (S.set_presence, ("company", False)), (S.set_range, ("distance", 0, 50)),
    (S.add_values, ("dow", ["Hol"])), (S.remove_values, ("dow", "Sun")), (S.deprecate, ("local",)),
    (S.set_environments, ("tip", ["TRAINING"])), (S.set_drift, ("company", 0.1)), (S.set_skew, ("distance", 0.2)),
]


@pytest.mark.parametrize("edit,args", EDITS, ids=[e.__name__ for e, _ in EDITS])
def test_edits_return_a_new_schema(taxi_schema, edit, args):
    before = taxi_schema.SerializeToString()
    new = edit(taxi_schema, *args)
    assert taxi_schema.SerializeToString() == before and new != taxi_schema
    assert len(schema_diff(taxi_schema, new)) >= 1


@pytest.mark.parametrize("edit,args,message", [
    (S.set_type, ("tips", "INT"), "unknown feature 'tips'; the schema has: 'rownames', 'tip', 'distance'"),
    (S.set_type, ("tip", "BOOLEAN"), "unknown type 'BOOLEAN' for feature 'tip'"),
    (S.set_range, ("distance", 50, 0), "min 50 is greater than max 0"),
    (S.set_range, ("company", 0, 1), "feature 'company' is BYTES: a range applies to INT and FLOAT"),
    (S.set_range, ("hour", 0, 23.5), "needs whole numbers"),
    (S.set_presence, ("tip", None, -0.1), r"min_fraction of 'tip' must be a number in \[0, 1\]"),
    (S.set_presence, ("tip", None, 1.1), r"must be a number in \[0, 1\]"),
    (S.remove_values, ("dow", "Someday"), "has no value 'Someday' in its domain"),
    (S.add_values, ("hour", [24]), "feature 'hour' is INT: domain values apply to string"),
    (S.set_skew, ("distance", -1), r"skew threshold of 'distance' must be a number in \[0, 1\)"),
])
def test_invalid_edits(taxi_schema, edit, args, message):
    with pytest.raises(SchemaError, match=message):
        edit(taxi_schema, *args)


def test_shared_domain_is_copied_before_editing(taxi_schema):
    s = S.copy_schema(taxi_schema)
    S.get_feature(s, "local").domain = "tip"  # two features share the yes/no domain
    s = S.add_values(s, "local", "maybe")
    assert schema_frame(s).set_index("feature").loc["tip", "values"] == ["no", "yes"]
    assert schema_frame(s).set_index("feature").loc["local", "values"] == ["no", "yes", "maybe"]


def test_schema_frame(taxi_schema):
    s = S.set_skew(S.set_drift(S.set_range(S.deprecate(taxi_schema, "rownames"), "distance", 0, 100),
                               "company", 0.05), "distance", 0.1)
    s = S.set_environments(s, "tip", absent_in="SERVING")
    df = schema_frame(s).set_index("feature")
    assert list(df.index) == ["rownames", "tip", "distance", "company", "local", "dow", "month", "hour"]
    assert df.loc["company", "type"] == "STRING" and df.loc["hour", "type"] == "INT"
    assert df.loc["tip", "presence"] == "required" and df.loc["tip", "min_fraction"] == 1
    assert df.loc["tip", "valency"] == "single" and df.loc["tip", "environments"] == "not SERVING"
    assert len(df.loc["company", "values"]) == 7 and domain_text(df.loc["month"]) == "'Apr', 'Feb', 'Jan', 'Mar'"
    assert (df.loc["distance", "min"], df.loc["distance", "max"], domain_text(df.loc["distance"])) == (0, 100, "[0, 100]")
    assert df.loc["company", "drift"] == 0.05 and df.loc["distance", "skew"] == 0.1
    assert df.deprecated.tolist() == [True] + [False] * 7


def test_schema_diff_sentences(taxi_schema):
    a = S.set_drift(S.set_range(taxi_schema, "distance", 0, 100), "company", 0.05)
    b = S.set_type(a, "hour", "STRING")
    b = S.remove_values(S.add_values(b, "company", ["Blue Ribbon Taxi", "Yellow Cab"]), "company", "other")
    b = S.set_drift(S.set_range(b, "distance", 0, 500), "company", 0.1)
    b = S.set_presence(S.deprecate(b, "local"), "dow", min_fraction=0.9)
    b = S.set_environments(S.set_skew(b, "distance", 0.2), "tip", ["TRAINING"])
    b.feature.remove(S.get_feature(b, "month"))
    assert schema_diff(a, b) == [
        "feature 'tip': environments changed from all to only TRAINING",
        "feature 'distance': range changed from [0, 100] to [0, 500]",
        "feature 'distance': skew threshold set to 0.2",
        "feature 'company': 2 values added to the domain: 'Blue Ribbon Taxi', 'Yellow Cab'",
        "feature 'company': value 'other' removed from the domain",
        "feature 'company': drift threshold changed from 0.05 to 0.1",
        "feature 'local': deprecated",
        "feature 'dow': presence changed from required to optional (min_fraction 0.9, min_count 1)",
        "feature 'month' removed",
        "feature 'hour': type changed from INT to BYTES",
        "environments changed from none to TRAINING"]
    assert schema_diff(b, a)[-3:] == ["feature 'hour': type changed from BYTES to INT", "feature 'month' added (STRING)",
                                        "environments changed from TRAINING to none"]
    assert schema_diff(a, S.load_schema(S.save_schema(a, Path(os.environ.get("TMPDIR", "/tmp")) / "mlnb-a.pbtxt"))) == []


def test_cli(taxi_df, taxi_schema, tmp_path, capsys):
    taxi_df.to_csv(tmp_path / "taxi.csv", index=False)
    save_stats(stats(taxi_df), tmp_path / "stats.pb")
    out = tmp_path / "schema.pbtxt"
    assert main(["schema", "infer", str(tmp_path / "stats.pb"), "-o", str(out)]) == 0
    assert "8 features" in capsys.readouterr().out and S.load_schema(out) == taxi_schema
    assert main(["schema", "infer", str(tmp_path / "taxi.csv")]) == 0  # data, printed
    assert text_format.Parse(capsys.readouterr().out, S.Schema()) == taxi_schema
    assert main(["schema", "show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "company" in shown and "'Chicago Independents'" in shown and "required" in shown
    assert main(["schema", "show", str(out), "--json"]) == 0
    assert [r["feature"] for r in json.loads(capsys.readouterr().out)][:2] == ["rownames", "tip"]
    S.save_schema(S.add_values(taxi_schema, "dow", "Hol"), tmp_path / "b.pbtxt")
    assert main(["schema", "diff", str(out), str(tmp_path / "b.pbtxt")]) == 1
    assert capsys.readouterr().out == "feature 'dow': value 'Hol' added to the domain\n"
    assert main(["schema", "diff", str(out), str(out)]) == 0
    (tmp_path / "bad.pbtxt").write_text("feature {\n  name: 'x'\n  tpe: INT\n}\n")
    assert main(["schema", "diff", str(out), str(tmp_path / "bad.pbtxt")]) == 2
    assert "bad.pbtxt, line 3: not a valid schema" in capsys.readouterr().err
    assert main(["schema", "infer", str(tmp_path / "nothing.csv")]) == 2
    assert main(["schema"]) == 2  # no action: usage



def test_one_name_for_a_type_and_one_form_for_a_domain(taxi_df, tmp_path, capsys):
    """Issue 13 item 10: StatsView, `mlnb schema show` and SchemaEditor call text features STRING (BYTES: images
    only); schema_frame holds a domain in one form (values, min, max) and `domain_text` writes it for people."""
    from mlnb.widgets.schema_editor import get_schema_rows, schema_html
    from mlnb.widgets.stats_view import get_categorical_frame
    st = stats(taxi_df[["company", "local", "distance"]])
    s = S.infer_schema(st)
    s.feature.add(name="photo", type=S.schema_pb2.BYTES).image_domain.SetInParent()
    s.feature.add(name="note", type=S.schema_pb2.BYTES)  # text without a domain of values
    df = schema_frame(s)
    shown = dict(zip(df["feature"], df["type"]))
    assert shown == {"company": "STRING", "local": "STRING", "distance": "FLOAT", "photo": "BYTES", "note": "STRING"}
    assert {r["name"]: r["shown_type"] for r in get_schema_rows(s)} == shown  # the editor's type menu says STRING
    assert set(get_categorical_frame(st)["type"]) == {"STRING"}  # StatsView's word for company and local
    assert "domain" not in df.columns and {"values", "min", "max"} <= set(df.columns)
    texts = dict(zip(df["feature"], (domain_text(r) for r in df.to_dict("records"))))
    assert texts["local"] == "'no', 'yes'" and texts["note"] == "" and "'no', 'yes'" in html.unescape(schema_html(s))
    (tmp_path / "schema.pbtxt").write_text(text_format.MessageToString(s))
    assert main(["schema", "show", str(tmp_path / "schema.pbtxt")]) == 0
    lines = {l.split()[0]: l.split() for l in capsys.readouterr().out.splitlines()[1:]}
    assert lines["local"][1] == "STRING" and "'no'," in lines["local"] and lines["photo"][1] == "BYTES"
