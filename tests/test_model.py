"mlnb.model on the taxi data with real Keras and scikit-learn models: correctness against brute force and sklearn."
import contextlib, io, json, os, threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlnb import model as M
from mlnb.errors import DataError, ModelError, ParameterError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from taxi_models import CATEGORICAL as CATS, NUMERIC as NUMS, keras_inputs, taxi_keras  # noqa: E402 (after the TF log level)


@pytest.fixture(scope="module")
def taxi(taxi_df):
    return taxi_df.drop(columns=["rownames"])


@pytest.fixture(scope="module")
def models(taxi):
    "Two Keras taxi models: a baseline and a bigger candidate."
    return taxi_keras(taxi, units=4, epochs=2, seed=1), taxi_keras(taxi, units=16, epochs=3, seed=2)


def keras_scores(model, frame):
    "Keras' own model.predict on a taxi frame: the reference the adapter is checked against."
    return model.predict(keras_inputs(frame), verbose=0, batch_size=4096)[:, 0].astype("float64")


@pytest.fixture(scope="module")
def scores(models, taxi):
    return keras_scores(models[1], taxi)


def test_keras_adapter_matches_keras_predict(models, taxi, scores):
    p = M.as_predictor(models[1])
    assert p.kind == "keras"
    np.testing.assert_allclose(p.predict(taxi, label="tip"), scores, atol=1e-5)
    for i in (0, 17, 9999):
        np.testing.assert_allclose(p.predict_one(taxi.iloc[i].to_dict()), scores[i], atol=1e-5)
    small = M.as_predictor(models[1], batch_size=999)  # batching: many calls, same result
    np.testing.assert_allclose(small.predict(taxi), scores, atol=1e-5)


def test_counterfactual_is_the_nearest_by_brute_force(models, taxi, scores):
    feats = NUMS + CATS
    std = {c: taxi[c].to_numpy("float64").std() for c in NUMS}
    records = taxi[feats].to_dict("records")
    t = float(np.quantile(scores, 0.3))  # ~92% of rides tip: at 0.5 nearly every prediction is "yes"
    for i, metric in [(0, "l1"), (5, "l2"), (1234, "l1")]:
        cf = M.counterfactual(models[1], taxi, i, distance=metric, label="tip", threshold=t)
        me, mine = records[i], scores[i] >= t
        best = np.inf
        for j, other in enumerate(records):  # plain Python over every datapoint
            if j == i or (scores[j] >= t) == mine: continue
            parts = [abs(other[c] - me[c]) / std[c] for c in NUMS] + [float(other[c] != me[c]) for c in CATS]
            d = sum(parts) if metric == "l1" else sum(x * x for x in parts) ** 0.5
            best = min(best, d)
        assert cf.distance == pytest.approx(best, rel=1e-9)
        assert (scores[taxi.index.get_loc(cf.index)] >= t) != mine
        assert set(cf.differs) == {c for c in feats if records[cf.index][c] != me[c]}
    # a custom distance: only the hour matters
    cf = M.counterfactual(models[1], taxi, 0, distance=lambda f, r: np.abs(f.hour - r.hour), label="tip", threshold=t)
    assert cf.distance == min(abs(taxi.hour[j] - taxi.hour[0]) for j in range(len(taxi)) if (scores[j] >= t) != (scores[0] >= t))


def test_counterfactual_of_an_edited_datapoint(models, taxi):
    edited = dict(taxi.iloc[3].drop("tip"), distance=0.5, company="other")
    cf = M.counterfactual(models[1], taxi, edited, label="tip", threshold=0.9)
    assert cf.frame.set_index("feature").loc["distance", "datapoint"] == 0.5


def test_partial_dependence_equals_direct_computation(models, taxi):
    model = models[1]
    sample = taxi.sample(300, random_state=0)
    for feature in ("distance", "company"):
        pdp = M.partial_dependence(model, sample, feature, grid=5, rows=[sample.index[0]], label="tip")
        for g, mean, ice in zip(pdp.grid, pdp.mean, pdp.ice.iloc[0]):
            direct = keras_scores(model, sample.assign(**{feature: g}))
            assert mean == pytest.approx(direct.mean(), abs=1e-5)
            assert ice == pytest.approx(direct[0], abs=1e-5)


def test_slice_metrics_equal_sklearn(models, taxi, scores):
    r = M.evaluate(models[1], taxi, "tip", slice_by=["company", ("local", "dow"), "distance"], threshold=0.6)
    y = (taxi.tip == "yes").to_numpy().astype(int)
    def check(row, mask):
        yy, ss = y[mask], scores[mask]
        assert row["count"] == mask.sum()
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(yy, ss >= 0.6))
        assert row["precision"] == pytest.approx(skm.precision_score(yy, ss >= 0.6, zero_division=0))
        assert row["recall"] == pytest.approx(skm.recall_score(yy, ss >= 0.6, zero_division=0))
        assert row["log_loss"] == pytest.approx(skm.log_loss(yy, ss, labels=[0, 1]), rel=1e-5)
        if len(set(yy)) > 1: assert row["auc"] == pytest.approx(skm.roc_auc_score(yy, ss), rel=1e-6)
        assert row["confusion_matrix"] == skm.confusion_matrix(yy, ss >= 0.6, labels=[0, 1]).tolist()
    check(r.overall, np.ones(len(taxi), bool))
    for company in taxi.company.unique():
        check(r.slice(f"company={company}"), (taxi.company == company).to_numpy())
    check(r.slice("local=yes, dow=Sat"), ((taxi.local == "yes") & (taxi.dow == "Sat")).to_numpy())
    dist = r.frame[r.frame.feature == "distance"]
    assert len(dist) == 4 and dist["count"].sum() == len(taxi)
    json.dumps(r.to_dict())  # a pipeline step can record it


def test_weighted_multiclass_and_regression_equal_sklearn(taxi):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    X = taxi.drop(columns=["tip", "month"])
    enc = lambda cats: make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cats), remainder="passthrough")
    clf = make_pipeline(enc(["company", "local", "dow", "tip"]), LogisticRegression(max_iter=300))
    clf.fit(taxi.drop(columns=["month"]), taxi.month)
    w = taxi.hour.to_numpy("float64") + 1
    r = M.evaluate(clf, taxi.assign(w=w), "month", slice_by="local", weight="w")
    assert r.task == "multiclass" and r.classes == sorted(taxi.month.unique())
    proba = clf.predict_proba(taxi.drop(columns=["month"]))
    y = taxi.month.map({c: i for i, c in enumerate(clf.classes_)}).to_numpy()
    assert r.overall["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(1), sample_weight=w))
    assert r.overall["log_loss"] == pytest.approx(skm.log_loss(y, proba, sample_weight=w))
    assert r.overall["auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", sample_weight=w))
    assert r.overall["weight"] == pytest.approx(w.sum())
    reg = make_pipeline(enc(["company", "local", "dow", "tip"]), Ridge()).fit(X.drop(columns="distance").assign(tip=taxi.tip), taxi.distance)
    rr = M.evaluate(reg, taxi.drop(columns="month"), "distance", slice_by="local")
    pred = reg.predict(taxi[reg.feature_names_in_])
    m = (taxi.local == "no").to_numpy()
    assert rr.slice("local=no")["mae"] == pytest.approx(skm.mean_absolute_error(taxi.distance[m], pred[m]))
    assert rr.overall["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(taxi.distance, pred)))


def test_thresholds_strategies(models, taxi, scores):
    single = M.thresholds(models[1], taxi, "tip", group="company", cost_ratio=2.0)
    best = M.thresholds(models[1], taxi, "tip", group="company", cost_ratio=2.0, strategy="group_optimal")
    assert best.frame.cost[0] <= single.frame.cost[0]
    t = single.thresholds["Flash Cab"]
    y = (taxi.tip == "yes").to_numpy()
    assert single.frame.cost[0] == 2.0 * ((scores >= t) & ~y).sum() + ((scores < t) & y).sum()
    dp = M.thresholds(models[1], taxi, "tip", group="local", strategy="demographic_parity")
    rates = dp.frame.set_index("group").positive_rate
    assert abs(rates["no"] - rates["yes"]) < 0.02


@pytest.fixture(scope="module")
def served(models, taxi, tmp_path_factory):
    "The baseline pushed as version 1 and the candidate, blessed against it (infra check included), as version 2."
    root = tmp_path_factory.mktemp("serving")
    baseline, candidate = models
    first = M.bless(baseline, None, taxi, ["auc>=0.55"], label="tip", infra=False)
    p1 = M.push(baseline, root, "taxi", blessing=first)
    blessing = M.bless(candidate, M.load_model(root / "taxi"), taxi, {"auc": {"min": 0.55, "delta": 0.05}},
                       label="tip", slice_by="company")
    p2 = M.push(candidate, root, "taxi", blessing=blessing.save(root / "blessing.json")) if blessing.blessed else None
    return root, first, p1, blessing, p2


def test_blessing_and_push_two_keras_models(models, taxi, served):
    root, first, p1, blessing, p2 = served
    assert first.blessed and first.baseline is None
    assert (p1.version, (p1.path / "saved_model.pb").is_file()) == (1, True)
    assert blessing.blessed, blessing
    assert blessing.checked > 8 and blessing.baseline["overall"]["count"] == len(taxi)
    assert first.infra["status"] == "skipped"
    # the candidate was exported, loaded in a fresh process and queried with 32 taxi rows before it was blessed
    assert (blessing.infra["status"], blessing.infra["rows"], blessing.infra["outputs"]) == ("passed", 32, {"output_0": [32, 1]})
    assert p2.version == 2 and (p2.path / "saved_model.pb").is_file()
    from mlnb.model.tf import read_metadata
    assert read_metadata(p2.path)["infra"] == blessing.infra and read_metadata(p2.path)["blessed"] is True
    served_model = M.load_model(root / "taxi")  # the newest version, with the classes push recorded
    assert (served_model.kind, served_model.version, served_model.classes) == ("serving", 2, ["no", "yes"])
    np.testing.assert_allclose(served_model.predict(taxi.iloc[:500]), keras_scores(models[1], taxi.iloc[:500]), atol=1e-5)
    # a candidate far worse than the baseline is not blessed, and its push is refused
    worse = M.bless(lambda d: np.full(len(d), 0.5), served_model, taxi,
                    ["auc>=baseline-0.01", "log_loss<=baseline+0.01"], label="tip")
    assert not worse.blessed
    assert {r["metric"] for r in worse.reasons} == {"auc", "log_loss"}
    assert all(r["kind"] == "delta" and r["baseline"] is not None for r in worse.reasons)
    with pytest.raises(ModelError, match="push refused"):
        M.push(models[1], root, "taxi", blessing=worse)
    with pytest.raises(ModelError, match="already exists .a folder.; versions are never replaced"):
        M.push(root / "taxi" / "1", root, "taxi", version=2)
    assert sorted(d.name for d in (root / "taxi").iterdir()) == ["1", "2"]  # nothing half-written left behind


def test_concurrent_pushes_get_distinct_versions(served, tmp_path):
    results, errors = [], []
    def go():
        try: results.append(M.push(served[0] / "taxi" / "1", tmp_path, "race").version)
        except Exception as e: errors.append(e)
    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert not errors and sorted(results) == [1, 2, 3, 4]
    assert sorted(d.name for d in (tmp_path / "race").iterdir()) == ["1", "2", "3", "4"]


def test_push_any_keras_model_and_never_replace_a_version(taxi, tmp_path):
    "A plain Keras model taking one tensor of width 9 pushes (feature names are optional metadata), as TFX's Pusher does."
    import keras, tensorflow as tf
    plain = keras.Sequential([keras.Input(shape=(9,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    pushed = M.push(plain, tmp_path, "plain")
    assert (pushed.version, (pushed.path / "saved_model.pb").is_file()) == (1, True)
    from mlnb.model.tf import read_metadata
    assert read_metadata(pushed.path)["features"] is None
    x = np.random.default_rng(0).normal(size=(5, 9)).astype("float32")
    served = tf.saved_model.load(str(pushed.path)).signatures["serving_default"]  # as TF Serving loads it
    np.testing.assert_allclose(next(iter(served(tf.constant(x)).values())).numpy(), plain(x).numpy(), atol=1e-6)
    check = M.infra_validate(pushed.path, pd.DataFrame(x, columns=[f"x{i}" for i in range(9)]), task="binary")
    assert (check.status, check.rows) == ("passed", 5), check
    # with feature names given, they are recorded; a TF Serving version folder pushes as the next version
    named = M.push(plain, tmp_path, "plain", features=[f"x{i}" for i in range(9)])
    assert read_metadata(named.path)["features"] == [f"x{i}" for i in range(9)]
    assert M.push(pushed.path, tmp_path, "plain").version == 3
    # an existing version, even an empty folder, is refused, never replaced
    (tmp_path / "plain" / "7").mkdir()
    with pytest.raises(ModelError, match=r"plain/7 already exists \(an empty folder\); versions are never replaced"):
        M.push(plain, tmp_path, "plain", version=7)
    assert list((tmp_path / "plain" / "7").iterdir()) == []
    assert M.push(plain, tmp_path, "plain").version == 8
    with pytest.raises(ParameterError, match="version=0: expected a positive whole number"):
        M.push(plain, tmp_path, "plain", version=0)
    # predicting from rows is what needs the names
    with pytest.raises(ModelError, match="takes one tensor of width 9; to predict from DataFrame rows pass features="):
        M.as_predictor(plain).predict(taxi)


def saved_signature(path, fn):
    "A SavedModel whose serving signature takes the taxi `distance` column and answers fn(distance)."
    import tensorflow as tf
    class Served(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="distance")])
        def serve(self, distance): return {"probability": fn(distance)}
    m = Served()
    tf.saved_model.save(m, str(path), signatures={"serving_default": m.serve})
    return path


def test_infra_check_refuses_models_that_do_not_serve(taxi, tmp_path):
    "TFX InfraValidator's LOAD_AND_QUERY: a SavedModel whose signature raises, answers the wrong shape, or does not load."
    import tensorflow as tf
    good = M.evaluate(lambda d: np.clip(0.3 + d.distance / 30, 0, 1), taxi, "tip")  # the candidate scored well ...
    def refuse(d):
        with tf.control_dependencies([tf.debugging.assert_less(d, -1.0, message="this export refuses every request")]):
            return tf.sigmoid(d[:, 0])
    raises = saved_signature(tmp_path / "raises", refuse)
    blessing = M.bless(good, None, taxi, ["auc>=0.5"], label="tip", infra=raises)  # ... but its SavedModel raises
    assert not blessing.blessed and [r["kind"] for r in blessing.reasons] == ["infra"]
    assert (blessing.infra["status"], blessing.infra["stage"]) == ("failed", "query")
    assert "this export refuses every request" in blessing.infra["reason"], blessing.infra
    with pytest.raises(ModelError, match=r"push refused: the model is not blessed \(infra check failed \(query\)"):
        M.push(raises, tmp_path / "serving", "taxi", blessing=blessing)
    shape = M.infra_validate(saved_signature(tmp_path / "shape", lambda d: tf.zeros([3])), taxi, label="tip")
    assert (shape.status, shape.stage) == ("failed", "answer")
    assert "output 'probability' has shape (3,) for 32 rows" in shape.reason, shape
    (tmp_path / "garbage").mkdir(); (tmp_path / "garbage" / "saved_model.pb").write_bytes(b"not a protobuf")
    assert M.infra_validate(tmp_path / "garbage", taxi).stage == "load"
    assert M.bless(good, None, taxi, ["auc>=0.5"], label="tip").infra["status"] == "skipped"  # an evaluation: nothing to load


def test_validate_is_the_deprecated_name_of_bless(taxi):
    rule = lambda d: np.clip(0.3 + d.distance / 30, 0, 1)
    with pytest.warns(DeprecationWarning, match="use mlnb.model.bless") as caught:
        old = M.validate(rule, None, taxi, ["auc>=0.5"], label="tip")
    assert caught[0].filename == __file__  # the warning points at the caller, not at mlnb
    assert old.to_dict() == M.bless(rule, None, taxi, ["auc>=0.5"], label="tip").to_dict()


def test_cli_evaluate_bless_push(served, taxi, tmp_path):
    from mlnb.cli import main
    baseline, candidate = served[0] / "taxi" / "1", served[0] / "taxi" / "2"
    data = tmp_path / "taxi.csv"
    taxi.to_csv(data, index=False)
    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main(list(argv))
        return code, out.getvalue(), err.getvalue()
    code, out, _ = run("model", "evaluate", str(candidate), str(data), "--label", "tip", "--slice", "company", "--json")
    assert code == 0 and json.loads(out)["overall"]["count"] == len(taxi)
    code, out, err = run("model", "bless", str(candidate), str(data), "--label", "tip", "--baseline", str(baseline),
                         "--threshold", "auc>=0.5", "--threshold", "auc>=baseline-0.05", "-o", str(tmp_path / "ok.json"))
    assert code == 0 and "deprecated" not in err, out
    assert json.loads((tmp_path / "ok.json").read_text())["infra"]["status"] == "passed"
    code, out, err = run("model", "validate", str(candidate), str(data), "--label", "tip",  # the old name still works
                         "--threshold", "auc>=0.999", "-o", str(tmp_path / "no.json"), "--skip-infra")
    assert code == 1 and "NOT blessed" in out and "mlnb model validate is deprecated; use mlnb model bless" in err
    push = ("model", "push", str(candidate), "--base-dir", str(tmp_path / "serving"), "--name", "taxi", "--blessing")
    code, _, err = run(*push, str(tmp_path / "no.json"))
    assert code == 2 and "push refused" in err
    code, out, _ = run(*push, str(tmp_path / "ok.json"))
    assert code == 0 and "version 1" in out and (tmp_path / "serving" / "taxi" / "1" / "saved_model.pb").is_file()
    code, _, err = run(*push, str(tmp_path / "ok.json"), "--version", "1")
    assert code == 2 and "taxi/1 already exists (a folder); versions are never replaced" in err
    code, _, err = run("model", "evaluate", str(candidate), str(data), "--label", "tips")
    assert code == 2 and "label column 'tips' is not in the data" in err


def test_bad_input_gives_clear_errors(models, taxi):
    with pytest.raises(DataError, match="label column 'tips' is not in the data; the columns are: tip, distance"):
        M.evaluate(models[1], taxi, "tips")
    with pytest.raises(DataError, match=r"lacks feature\(s\) (company, hour|hour, company) that"):
        M.evaluate(models[1], taxi.drop(columns=["company", "hour"]), "tip")
    with pytest.raises(ModelError, match=r"returned scores of shape \(10000, 2, 2\) for 10000 rows"):
        M.evaluate(lambda d: np.zeros((len(d), 2, 2)), taxi, "tip")
    with pytest.raises(ModelError, match=r"returned scores of shape \(3,\) for 10000 rows"):
        M.evaluate(lambda d: np.zeros(3), taxi, "tip")
    import keras
    three = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ModelError, match="gives 3 scores per row but the label has 2 classes"):
        M.evaluate(M.as_predictor(three, features=["distance", "hour"]), taxi, "tip")
    with pytest.raises(ModelError, match="takes one tensor of width 2; to predict from DataFrame rows pass features="):
        M.evaluate(three, taxi, "tip")
    with pytest.raises(DataError, match="column 'distance': expected values convertible to float32"):
        M.evaluate(models[1], taxi.assign(distance="far"), "tip")
    with pytest.raises(DataError, match="not among the model's classes"):
        M.evaluate(M.as_predictor(models[1], classes=["no", "yes"]), taxi.assign(tip="maybe"), "tip")
    with pytest.raises(ParameterError, match="strategy='fair'"):
        M.thresholds(models[1], taxi, "tip", strategy="fair")
    with pytest.raises(ModelError, match="not a model"):
        M.load_model(Path(__file__).parent)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    "The taxi demo's workspace after its cold run (shared with tests/test_taxi.py within a session)."
    from taxi_workspace import taxi_run
    return Path(taxi_run(tmp_path_factory)["workspace"])


def test_demo_model_separates_the_classes(demo):
    "The demo's numbers mean something: not 'yes' for every trip (tn = fn = 0), and the model pushed was infra-checked."
    overall = json.loads((demo / "evaluation" / "eval.json").read_text())["overall"]
    assert overall["tn"] > 0 and overall["fn"] > 0, overall
    specificity = overall["tn"] / (overall["tn"] + overall["fp"])
    assert overall["recall"] < 1 and specificity > 0.2 and overall["auc"] > 0.55, overall
    blessing = json.loads((demo / "blessing" / "blessing.json").read_text())
    assert blessing["blessed"] and blessing["infra"]["status"] == "passed" and blessing["infra"]["rows"] == 32
    from mlnb.model.tf import read_metadata
    newest = max((demo / "serving" / "taxi").iterdir(), key=lambda v: int(v.name))  # the version this blessing pushed
    assert read_metadata(newest)["infra"] == blessing["infra"]


def test_readme_model_snippet_runs_as_written(demo, monkeypatch):
    "README's tour, from `from mlnb import model` to the end of its block, run where it says (examples/taxi after the demo)."
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = next(b for b in readme.split("```python")[1:] if "from mlnb import model" in b).split("```")[0]
    snippet = block[block.index("from mlnb import model"):]
    monkeypatch.chdir(demo)
    ns = {}
    exec(compile(snippet, "README.md", "exec"), ns)
    eval_rows = sum(1 for _ in open(demo / "data" / "eval.csv")) - 1  # the held-out trips of the spans ingested last
    assert ns["result"].overall["count"] == eval_rows and ns["result"].overall["tn"] > 0
    assert "company=Flash Cab" in set(ns["result"].frame["slice"])
