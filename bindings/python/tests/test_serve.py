"""The serving router through the bindings: routing, reload, metrics, outcomes, drift events, closing."""
import os
import tempfile
import unittest

import mlops
import mlops.serve as serve
import mlops.train as train

from _data import MLP, binary_frame


class RouterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.directory.name, "serve.db")
        cls.frame = binary_frame()
        with mlops.open(cls.path) as db:
            registry = mlops.Registry(db)
            registry.create_model("clf")
            config = dict(MLP, split={"test": 0.2})
            v1, net = train.train_register(db, "clf", cls.frame, config)
            cls.net = net
            v2, other = train.train_register(db, "clf", cls.frame, dict(config, seed=11))
            other.close()
            registry.set_alias("clf", "production", v1)
            registry.set_alias("clf", "staging", v2)
            cls.versions = (v1, v2)

    @classmethod
    def tearDownClass(cls):
        cls.net.close()
        cls.directory.cleanup()

    def setUp(self):
        self.db = mlops.open(self.path)

    def tearDown(self):
        self.db.close()

    def test_routing_and_outputs(self):
        settings = {"challenger": "staging", "mode": "canary", "share": 0.5, "reload_interval_ms": 0}
        with serve.Router(self.db, "clf", settings) as router:
            self.assertEqual((router.version(serve.CHAMPION), router.version(serve.CHALLENGER)), self.versions)
            seen = set()
            for i in range(40):
                key = f"customer-{i}"
                scores, version = router.run(key, [[0.5, 0.4]])
                self.assertEqual(len(scores), 1)
                arm = router.assign(key)
                self.assertEqual(version, self.versions[0 if arm == "champion" else 1])
                seen.add(version)
            self.assertEqual(seen, set(self.versions))
            # the champion agrees with the net it was exported from
            for i in range(40):
                if router.assign(f"k{i}") == "champion":
                    scores, _ = router.run(f"k{i}", [0.3, -0.2])
                    self.assertAlmostEqual(scores[0], self.net.predict([0.3, -0.2])[0], places=4)
                    break
            if mlops.HAVE_NUMPY:
                import numpy
                out, _ = router.run("n", numpy.zeros((3, 2)))
                self.assertEqual(out.shape, (3, 1))
            with self.assertRaises(mlops.InvalidArgument):
                router.run("bad", [1.0, 2.0, 3.0])

    def test_reload_metrics_outcomes_quality(self):
        registry = mlops.Registry(self.db)
        with serve.Router(self.db, "clf", {"reload_interval_ms": 0}) as router:
            squared = 0.0
            for i in range(20):
                row = [0.5, 0.5] if i % 2 else [-0.5, -0.5]
                router.run(f"r{i}", [row])
                router.outcome(f"r{i}", float(i % 2))
                squared += (self.net.predict(row)[0] - i % 2) ** 2
            with self.assertRaises(mlops.NotFound):
                router.outcome("r1", 1.0)
            # one output column: the outcomes are scored as a regression
            self.assertEqual(router.log_quality("live"), 1)
            rmse = [m for m in registry.version("clf", self.versions[0])["metrics"]
                    if m["name"] == "rmse" and m["dataset"] == "live"]
            self.assertAlmostEqual(rmse[0]["value"], (squared / 20) ** 0.5, places=4)
            metrics = router.metrics()
            self.assertEqual(metrics["model"], "clf")
            self.assertIn("mlops_serve_live", router.prometheus())
            self.assertFalse(router.reload())
            registry.set_alias("clf", "production", self.versions[1])
            try:
                self.assertTrue(router.reload())
                self.assertEqual(router.version(), self.versions[1])
            finally:
                registry.set_alias("clf", "production", self.versions[0])
        with self.assertRaises(mlops.InvalidState):
            router.run("after", [[0.0, 0.0]])

    def test_drift_events(self):
        events = []
        with serve.Router(self.db, "clf", {"reload_interval_ms": 0}) as router:
            router.on_drift(events.append)
            for i in range(200):
                router.run(f"d{i}", [[40.0 + i, -40.0 - i]])
            router.flush_drift()
            router.on_drift(None)
        self.assertEqual(len(events), 1)
        self.assertTrue(events[0]["dataset_drift"])
        self.assertEqual((events[0]["arm"], events[0]["version"]), ("champion", self.versions[0]))
        self.assertIn("columns", events[0]["report"])

    def test_open_errors(self):
        with self.assertRaises(mlops.NotFound):
            serve.Router(self.db, "absent")
        with self.assertRaises(mlops.FormatError) as caught:
            serve.Router(self.db, "clf", {"mode": "sideways"})
        self.assertIn("$.mode", caught.exception.message)
        with mlops.open(":memory:") as memory, self.assertRaises(mlops.Unsupported):
            serve.Router(memory, "clf")
        with self.assertRaises(mlops.InvalidArgument):
            serve.Router("db", "clf")


if __name__ == "__main__":
    unittest.main()
