"""Explanations through the bindings: linear SHAP's closed form, completeness, KernelSHAP, global and
permutation importance, container kinds and errors."""
import array
import os
import unittest

import mlops
from mlops.explain import Explainer, Explanation
from mlops.infer import Session

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "data", "explain")
W = [0.5, -1.25, 2.0, 0.0, 0.75]  # linear.onnx: y = x . W + 0.25
B = 0.25
BACKGROUND = [[0.1 * i - 0.2 * j for j in range(5)] for i in range(8)]
ROWS = [[1.0, -2.0, 0.5, 3.0, -1.5], [0.0, 0.25, -1.0, 2.0, 1.0]]


def model(name):
    return os.path.join(DATA, name + ".onnx")


class ExplainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.linear = Session(model("linear"))
        cls.mlp = Session(model("mlp_tanh"))
        cls.quantized = Session(model("quantized"))

    @classmethod
    def tearDownClass(cls):
        for session in (cls.linear, cls.mlp, cls.quantized):
            session.close()

    def test_linear_shap_is_the_closed_form(self):
        mean = [sum(row[i] for row in BACKGROUND) / len(BACKGROUND) for i in range(5)]
        with Explainer(self.linear, BACKGROUND, features=["a", "b", "c", "d", "e"]) as explainer:
            self.assertEqual(explainer.method, "linear")
            self.assertEqual(explainer.features, ["a", "b", "c", "d", "e"])
            self.assertAlmostEqual(explainer.baseline_output, B + sum(w * m for w, m in zip(W, mean)), places=5)
            result = explainer.explain(ROWS)
            self.assertIsInstance(result, Explanation)
            for r, row in enumerate(ROWS):
                for i in range(5):
                    self.assertAlmostEqual(result.attributions[r][i], W[i] * (row[i] - mean[i]), places=5)
                    self.assertEqual(result.std_errors[r][i], 0.0)
                self.assertAlmostEqual(result.predictions[r], B + sum(w * x for w, x in zip(W, row)), places=5)
                self.assertLess(result.completeness_errors[r], 1e-5)

    def test_container_kinds(self):
        with Explainer(self.linear, BACKGROUND) as explainer:
            as_lists = explainer.explain(ROWS).attributions
            flat = array.array("f", [x for row in ROWS for x in row])
            out = explainer.explain(flat).attributions
            self.assertIsInstance(out, array.array)
            self.assertEqual(len(out), 10)
            for got, want in zip(out, [x for row in as_lists for x in row]):
                self.assertAlmostEqual(got, want, places=6)
            self.assertEqual(len(explainer.explain(ROWS[0]).attributions), 5)
            if mlops.HAVE_NUMPY:
                import numpy
                result = explainer.explain(numpy.array(ROWS, dtype=numpy.float64))
                self.assertEqual(result.attributions.shape, (2, 5))
                self.assertEqual(result.predictions.shape, (2,))
                self.assertAlmostEqual(float(result.attributions[0][2]), as_lists[0][2], places=6)

    def test_integrated_gradients_add_up(self):
        rows = [[0.3, -1.2, 0.8, 1.1, -0.4, 0.9], [1.0, 0.5, -0.5, 0.0, 0.2, -1.0]]
        with Explainer(self.mlp, method="integrated_gradients", steps=256, output=1) as explainer:
            result = explainer.explain(rows)
            for r in range(2):
                total = sum(result.attributions[r])
                self.assertAlmostEqual(explainer.baseline_output + total, result.predictions[r], places=4)
                self.assertLess(result.completeness_errors[r], 1e-3 * abs(result.predictions[r]))
            predicted = self.mlp.predict(rows)
            self.assertAlmostEqual(result.predictions[0], predicted[0][1], places=5)
            document = explainer.explain_json(rows)
            self.assertEqual(document["method"], "integrated_gradients")
            self.assertEqual(document["features"], ["x0", "x1", "x2", "x3", "x4", "x5"])
            self.assertIn("completeness_error", document["rows"][0])
            self.assertEqual(len(explainer.gradient(rows)), 2)

    def test_kernel_shap_near_linear_shap(self):
        with Explainer(self.linear, BACKGROUND) as exact, \
                Explainer(self.linear, BACKGROUND, method="kernel_shap", samples=4000, seed=2) as sampled:
            want = exact.explain(ROWS).attributions
            got = sampled.explain(ROWS)
            for r in range(2):
                for i in range(5):
                    self.assertLessEqual(abs(got.attributions[r][i] - want[r][i]), 4 * got.std_errors[r][i] + 1e-4)
            self.assertIn("std_error", sampled.explain_json(ROWS)["rows"][0])

    def test_global_and_permutation_importance(self):
        rows = [[(i * 7 % 11) / 5.0 - 1.0, (i * 3 % 7) / 3.0 - 1.0, (i * 5 % 13) / 6.0 - 1.0, float(i % 2),
                 (i * 11 % 17) / 8.0 - 1.0] for i in range(40)]
        labels = [B + sum(w * x for w, x in zip(W, row)) for row in rows]
        with Explainer(self.linear, rows, features=["a", "b", "c", "d", "e"]) as explainer:
            report = explainer.global_importance(rows)
            self.assertEqual(report["method"], "linear")
            self.assertEqual(report["rows"], 40)
            self.assertEqual(report["features"][-1], {"name": "d", "importance": 0, "std_error": 0})
            importances = [f["importance"] for f in report["features"]]
            self.assertEqual(importances, sorted(importances, reverse=True))
            permuted = explainer.permutation_importance(rows, labels, metric="rmse", repeats=3, seed=1)
            self.assertEqual(permuted["method"], "permutation")
            self.assertEqual(permuted["metric"], "rmse")
            self.assertEqual(permuted["features"][-1]["name"], "d")
            self.assertGreater(permuted["features"][0]["importance"], 0)
            with self.assertRaises(mlops.InvalidArgument):
                explainer.permutation_importance(rows, labels[:3])
            with self.assertRaises(mlops.FormatError) as caught:
                explainer.permutation_importance(rows, labels, metric="fun")
            self.assertIn("$.metric", str(caught.exception))

    def test_errors(self):
        with self.assertRaises(mlops.InvalidArgument):
            Explainer("not a session")
        with self.assertRaises(mlops.FormatError) as caught:
            Explainer(self.linear, method="lime")
        self.assertIn("$.method", str(caught.exception))
        with self.assertRaises(mlops.InvalidArgument) as caught:
            Explainer(self.mlp, method="kernel_shap")
        self.assertIn("needs a background", str(caught.exception))
        with self.assertRaises(mlops.Unsupported) as caught:
            Explainer(self.quantized, method="integrated_gradients")
        self.assertIn("(QuantizeLinear) has no derivative", str(caught.exception))
        with Explainer(self.linear) as explainer:
            with self.assertRaises(mlops.InvalidArgument):
                explainer.explain([[1.0, 2.0, 3.0]])
            self.assertIn("linear", repr(explainer))
        self.assertIn("closed", repr(explainer))
        with self.assertRaises(mlops.InvalidState):
            explainer.explain(ROWS)


if __name__ == "__main__":
    unittest.main()
