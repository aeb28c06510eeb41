"""The trainer through the bindings: training, prediction in every container kind, metrics, export."""
import array
import math
import os
import tempfile
import unittest

import mlops
import mlops.train as train
from mlops.registry import Registry

from _data import MLP, binary_frame, linear_binary


class TrainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.frame = binary_frame()
        cls.net = train.train(cls.frame, dict(MLP, split={"validation": 0.15, "test": 0.2, "time_column": "ts"},
                                              early_stopping={"metric": "roc_auc", "patience": 5}))

    def test_net_introspection(self):
        net = self.net
        self.assertEqual((net.task, net.features, net.outputs), ("binary", ["a", "b"], 1))
        self.assertEqual(len(net.parameters()), 2 * 8 + 8 + 8 + 1)
        report = net.report()
        self.assertEqual(report["inputs"], 2)
        self.assertIn("roc_auc", net.test_metrics())

    def test_predict_kinds_agree(self):
        net = self.net
        rows = [[0.8, 0.7], [-0.8, -0.6]]
        as_lists = net.predict(rows)
        self.assertEqual(len(as_lists), 2)
        self.assertGreater(as_lists[0][0], 0.5)
        self.assertLess(as_lists[1][0], 0.5)
        self.assertEqual(net.predict(rows[0]), as_lists[0])
        flat = array.array("f", [x for row in rows for x in row])
        self.assertEqual(net.predict(flat).tolist(), [r[0] for r in as_lists])
        view = net.predict(memoryview(flat))
        self.assertIsInstance(view, memoryview)
        self.assertEqual(view.tolist(), as_lists)
        self.assertEqual(net.predict(array.array("d", flat)).tolist(), [r[0] for r in as_lists])
        # NaN is imputed, so it predicts like the training mean rather than failing
        self.assertFalse(math.isnan(net.predict([math.nan, 0.0])[0]))
        by_frame = net.predict(mlops.Frame({"a": [0.8, -0.8], "b": [0.7, -0.6]}))
        self.assertEqual([list(r) for r in by_frame], as_lists)
        if mlops.HAVE_NUMPY:
            import numpy
            out = net.predict(numpy.array(rows))
            self.assertEqual(out.shape, (2, 1))
            self.assertEqual(out.tolist(), as_lists)
        with self.assertRaises(mlops.InvalidArgument):
            net.predict([1.0, 2.0, 3.0])
        with self.assertRaises(mlops.InvalidArgument):
            net.predict("text")

    def test_evaluate_and_metrics(self):
        scores = self.net.evaluate(self.frame, bootstrap=0)
        self.assertGreater(scores["roc_auc"]["value"], 0.95)
        # exact values from the definitions: 2 of 3 right, one false positive
        m = train.metrics("binary", [0.9, 0.1, 0.8], [1, 0, 0], bootstrap=0)
        self.assertAlmostEqual(m["accuracy"]["value"], 2 / 3)
        self.assertAlmostEqual(m["precision"]["value"], 0.5)
        self.assertEqual(m["confusion_matrix"], [[1, 1], [0, 1]])
        r = train.metrics("regression", [1.0, 2.0], [1.0, 4.0], bootstrap=0)
        self.assertAlmostEqual(r["mae"]["value"], 1.0)
        with self.assertRaises(mlops.InvalidArgument):
            train.metrics("ranking", [1.0], [1.0])
        with self.assertRaises(mlops.InvalidArgument):
            train.metrics("binary", [0.5, 0.5], [1.0])
        with self.assertRaises(mlops.FormatError):
            train.metrics("binary", [0.5], [1.0], bootstraps=3)

    def test_configuration_errors(self):
        with self.assertRaises(mlops.FormatError) as caught:
            train.train(self.frame, dict(MLP, optimizer={"type": "adam", "beta9": 1}))
        self.assertIn("$.optimizer.beta9", caught.exception.message)
        with self.assertRaises(mlops.NotFound):
            train.train(self.frame, dict(MLP, features=["a", "absent"]))
        with self.assertRaises(mlops.InvalidArgument):
            train.train(self.frame, ["not", "a", "mapping"])
        with self.assertRaises(mlops.NotFound):
            train.train(self.frame, MLP).test_metrics()

    def test_export_and_train_register(self):
        onnx = self.net.export_onnx()
        self.assertEqual(onnx[:2], b"\x08\x07")
        self.assertNotEqual(self.net.export_onnx("folded"), onnx)
        with self.assertRaises(mlops.FormatError):
            self.net.export_onnx("sideways")
        with tempfile.TemporaryDirectory() as directory, mlops.open(os.path.join(directory, "t.db")) as db:
            registry = Registry(db)
            registry.create_model("clf")
            config = dict(MLP, split={"test": 0.2})
            version, net = train.train_register(db, "clf", self.frame, config, run_name="py")
            with net:
                self.assertEqual(version, 1)
                shown = registry.version("clf", version)
                self.assertIn("test_roc_auc", registry.run(shown["run_id"])["metrics"])
                self.assertGreater(len(registry.profile("clf", version)), 0)
            with self.assertRaises(mlops.NotFound):
                train.train_register(db, "absent", self.frame, config)
            self.assertEqual(len(registry.versions("clf")), 1)

    def test_progress_reports_every_epoch(self):
        seen = []
        config = dict(MLP, epochs=6, split={"validation": 0.2})
        net = train.train(self.frame, config, progress=lambda *args: seen.append(args))
        self.assertEqual([(e, n) for e, n, _, _ in seen], [(e, 6) for e in range(1, 7)])
        self.assertTrue(all(loss > 0 and 0 <= validation <= 1 for _, _, loss, validation in seen))
        self.assertEqual([round(loss, 12) for _, _, loss, _ in seen],
                         [round(e["loss"], 12) for e in net.report()["epochs"]])
        seen.clear()
        train.train(self.frame, dict(MLP, epochs=2), progress=lambda *args: seen.append(args))
        self.assertEqual([(e, validation) for e, _, _, validation in seen], [(1, None), (2, None)])

    def test_progress_exception_is_raised_after_training(self):
        seen = []

        def stop(epoch, epochs, loss, validation):
            if epoch == 3:
                raise KeyError("stop at 3")
            seen.append(epoch)

        with self.assertRaises(KeyError) as caught:
            train.train(self.frame, dict(MLP, epochs=6), progress=stop)
        self.assertEqual(caught.exception.args, ("stop at 3",))
        self.assertEqual(seen, [1, 2])  # later epochs are no longer reported
        with self.assertRaises(mlops.FormatError):  # the configuration is refused before any epoch
            train.train(self.frame, dict(MLP, epochs="six"), progress=stop)

    def test_metrics_accessors(self):
        m = train.metrics("binary", [0.9, 0.1, 0.8, 0.3], [1, 0, 0, 1], bootstrap=0)
        self.assertEqual(m.names, ["accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss"])
        self.assertAlmostEqual(m.value("accuracy"), 0.5)
        self.assertAlmostEqual(m.value("recall"), 0.5)
        self.assertEqual(m.confusion(), [[1, 1], [1, 1]])
        self.assertEqual(list(m), m.names + ["confusion_matrix"])
        self.assertEqual(len(m), 8)
        self.assertEqual(dict(m), m.to_dict())
        with self.assertRaises(KeyError):
            m["auc"]
        with self.assertRaises(mlops.NotFound) as caught:
            m.value("auc")
        self.assertEqual(caught.exception.message, 'metric "auc" not found')
        r = train.metrics("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0], bootstrap=200, seed=4)
        self.assertEqual(r.names, ["rmse", "mae", "r2"])
        self.assertAlmostEqual(r.value("mae"), 2 / 3)
        low, high = r.interval("mae")
        self.assertLessEqual(low, r.value("mae"))
        self.assertLessEqual(r.value("mae"), high)
        self.assertNotIn("confusion_matrix", r)
        with self.assertRaises(mlops.NotFound) as caught:
            r.confusion()
        self.assertEqual(caught.exception.message, "a regression has no confusion matrix")
        r.close()
        with self.assertRaises(mlops.InvalidState):
            r.value("mae")
        multi = train.metrics("multiclass", [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]], [0, 2, 2],
                              classes=3, bootstrap=0)
        self.assertEqual(multi.confusion(), [[1, 0, 0], [0, 0, 0], [0, 1, 1]])  # row: true class

    def test_borrowed_test_metrics_follow_the_net(self):
        net = train.train(self.frame, dict(MLP, epochs=3, split={"test": 0.25}))
        metrics = net.test_metrics()
        self.assertGreater(metrics.value("roc_auc"), 0.5)
        self.assertEqual(sum(map(sum, metrics.confusion())), 75)
        net.close()
        with self.assertRaises(mlops.InvalidState) as caught:
            metrics.value("roc_auc")
        self.assertEqual(caught.exception.message, "the net these metrics belong to is closed")
        metrics.close()
        self.assertTrue(metrics.closed)

    def test_closed_net(self):
        net = train.train(mlops.Frame(linear_binary(50)), dict(MLP, epochs=1))
        net.close()
        with self.assertRaises(mlops.InvalidState):
            net.predict([0.0, 0.0])


if __name__ == "__main__":
    unittest.main()
