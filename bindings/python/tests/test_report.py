"""Reports through the bindings: the JSON report of a served model, its HTML page parsed as XML, every number the
same in both, the importance section, and the errors."""
import json
import os
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree

import mlops
import mlops.report as report
import mlops.serve as serve
import mlops.train as train

from _data import MLP, binary_frame, linear_binary


def parse_page(page):
    """The page as an XML tree (it must be well-formed), after its doctype."""
    prefix = "<!DOCTYPE html>\n"
    if not page.startswith(prefix):
        raise AssertionError("the page does not start with the HTML doctype")
    return ElementTree.fromstring(page[len(prefix):])


def shown_numbers(tree):
    """(class, exact value, text) of every number the page shows."""
    found = []
    for span in tree.iter("span"):
        kind = span.get("class")
        if kind in ("num", "pct", "int"):
            found.append((kind, span.get("data-v"), "".join(span.itertext())))
    return found


def report_numbers(doc):
    """The report's metrics, intervals, drift statistics, shares and latency percentiles."""
    values = []
    for model in doc["models"]:
        for version in model["versions"]:
            for metric in version["metrics"]:
                values += [metric[key] for key in ("value", "ci_low", "ci_high") if metric.get(key) is not None]
        drift = model.get("drift") or {}
        for feature in drift.get("features", []):
            values += [feature[key] for key in ("statistic", "p_value", "threshold")
                       if isinstance(feature.get(key), float)]
        if "dataset" in drift:
            values += [drift["dataset"]["share"], drift["dataset"]["drift_share"]]
        for series in model["serving"]["series"]:
            values.append(series["share"])
            values += [series["latency_us"][key] for key in ("p50", "p90", "p99", "mean")]
    return [float(v) for v in values]


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.directory.name, "report.db")
        with mlops.open(cls.path) as db:
            registry = mlops.Registry(db)
            registry.create_model("clf", "a <toy> classifier")
            version, net = train.train_register(db, "clf", binary_frame(), dict(MLP, split={"test": 0.2}))
            net.close()
            registry.set_alias("clf", "production", version)
            with serve.Router(db, "clf", {"reload_interval_ms": 0, "drift": {"window_ms": 0}}) as router:
                for i in range(50):
                    router.run(f"k{i}", [[0.1 * (i % 7), -0.2]])
                cls.logged = router.log_metrics()
            shifted = linear_binary(400, seed=9)
            shifted["a"] = [a + 0.8 for a in shifted["a"]]
            profile = mlops.drift.Profile.of(mlops.Frame({"a": shifted["a"], "b": shifted["b"]}))
            mlops.drift.Windows(db).put("live", 0, 1_000_000, profile)
            profile.close()

    @classmethod
    def tearDownClass(cls):
        cls.directory.cleanup()

    def setUp(self):
        self.db = mlops.open(self.path)

    def tearDown(self):
        self.db.close()

    def test_json_report(self):
        self.assertEqual(self.logged, 1)
        doc = report.build(self.db, model="clf", stream="live", bins=8)
        model = doc["models"][0]
        self.assertEqual(model["name"], "clf")
        self.assertEqual(model["versions"][0]["aliases"], ["production"])
        self.assertTrue(any(m["name"] == "roc_auc" for m in model["versions"][0]["metrics"]))
        drifted = {f["name"]: f["drifted"] for f in model["drift"]["features"]}
        self.assertEqual(drifted, {"a": True, "b": False})
        for feature in model["drift"]["features"]:
            histogram = feature["histogram"]
            self.assertEqual(len(histogram["edges"]), 9)
            self.assertAlmostEqual(sum(histogram["reference"]), 1.0, places=9)
            self.assertAlmostEqual(sum(histogram["current"]), 1.0, places=9)
        self.assertEqual(model["serving"], serve.stats(self.db, "clf"))
        self.assertEqual(model["serving"]["requests"], 50)
        self.assertEqual(doc["summary"]["drifted_features"], 1)

    def test_html_is_well_formed_and_shows_the_report_numbers(self):
        text = report.build_json(self.db, model="clf", stream="live")
        doc = json.loads(text)
        page = report.html(text)
        tree = parse_page(page)
        self.assertEqual(tree.tag, "html")
        self.assertEqual([e.tag for e in tree.iter("script")], [])
        for element in tree.iter():
            for name, value in element.attrib.items():
                self.assertNotIn(name, ("src", "href"))
                self.assertNotIn("//", value)
        self.assertIn("a &lt;toy&gt; classifier", page)
        shown = shown_numbers(tree)
        for kind, exact, text_shown in shown:
            if kind == "num":
                self.assertEqual(text_shown, "%.4g" % float(exact))
            elif kind == "pct":
                self.assertEqual(text_shown, "%.4g%%" % (100 * float(exact)))
            else:
                self.assertEqual(text_shown, exact)
        exact_values = {float(exact) for kind, exact, _ in shown if kind in ("num", "pct")}
        expected = report_numbers(doc)
        self.assertGreater(len(expected), 10)
        for value in expected:
            self.assertIn(value, exact_values)
        counts = {int(exact) for kind, exact, _ in shown if kind == "int"}
        self.assertIn(doc["models"][0]["serving"]["requests"], counts)

    def test_importance_section(self):
        doc = report.build(self.db, model="clf", importance={
            "method": "permutation", "output": 0, "rows": 300,
            "features": [{"name": "a", "importance": 0.1875, "std_error": 0.0125},
                         {"name": "b", "importance": 0.03125, "std_error": 0.004}]})
        page = report.html(doc)
        tree = parse_page(page)
        self.assertIn("Feature importance", page)
        values = {float(exact) for kind, exact, _ in shown_numbers(tree) if kind == "num"}
        self.assertTrue({0.1875, 0.0125, 0.03125, 0.004} <= values)

    def test_write_html(self):
        path = os.path.join(self.directory.name, "page.html")
        doc = report.write_html(self.db, path, model="clf")
        self.assertEqual(doc["models"][0]["name"], "clf")
        with open(path, encoding="utf-8") as file:
            parse_page(file.read())

    def test_errors(self):
        with self.assertRaises(mlops.NotFound) as caught:
            report.build(self.db, model="nope")
        self.assertIn("nope", str(caught.exception))
        with self.assertRaises(mlops.FormatError) as caught:
            report.build(self.db, windows=0)
        self.assertIn("$.windows", str(caught.exception))
        with self.assertRaises(mlops.FormatError) as caught:
            report.html("{")
        with self.assertRaises(mlops.FormatError) as caught:
            report.html({})
        self.assertIn("$.models", str(caught.exception))
        with self.assertRaises(mlops.InvalidArgument):
            report.build("not a database")
        with self.assertRaises(mlops.InvalidArgument):
            serve.stats(None, "clf")


if __name__ == "__main__":
    unittest.main()
