"""Sessions and the GEMM through the bindings: every container kind, introspection, threads, errors."""
import array
import os
import tempfile
import threading
import unittest

import mlops
import mlops.train as train
from mlops.infer import Gemm, Session, default_isa

from _data import MLP, binary_frame, in_threads


class SessionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.frame = binary_frame()
        cls.net = train.train(cls.frame, MLP)
        cls.onnx = cls.net.export_onnx()

    def test_open_from_bytes_and_path(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "m.onnx")
            with open(path, "wb") as handle:
                handle.write(self.onnx)
            with Session(self.onnx) as from_bytes, Session(path) as from_path:
                rows = [[0.3, -0.1], [0.9, 0.9]]
                self.assertEqual(from_bytes.predict(rows), from_path.predict(rows))
            with self.assertRaises(mlops.NotFound):
                Session(os.path.join(directory, "absent.onnx"))
        with self.assertRaises(mlops.FormatError):
            Session(b"\x01\x02 not onnx")
        with self.assertRaises((mlops.InvalidArgument, mlops.FormatError)):
            Session(self.onnx, precision="int4")

    def test_fp32_session_matches_the_net(self):
        with Session(self.onnx, precision="fp32") as session:
            rows = [[0.3, -0.1], [0.9, 0.9], [-1.0, 0.2]]
            got = session.predict(rows)
            want = self.net.predict(rows)
            for g, w in zip(got, want):
                self.assertAlmostEqual(g[0], w[0], places=5)

    def test_container_kinds(self):
        with Session(self.onnx, precision="int8") as session:
            rows = [[0.3, -0.1], [0.9, 0.9]]
            as_lists = session.predict(rows)
            flat = array.array("f", [0.3, -0.1, 0.9, 0.9])
            out = session.predict(flat)
            self.assertIsInstance(out, array.array)
            self.assertEqual(out.tolist(), [r[0] for r in as_lists])
            view = session.predict(memoryview(flat))
            self.assertIsInstance(view, memoryview)
            self.assertEqual(view.shape, (2, 1))
            self.assertEqual(view.tolist(), as_lists)
            read_only = memoryview(bytes(flat))
            self.assertEqual(session.predict(read_only.cast("f")).tolist(), as_lists)
            self.assertEqual(session.predict(rows[1]), as_lists[1])
            with self.assertRaises(mlops.InvalidArgument) as caught:
                session.predict([])
            self.assertIn("rows must be 1", caught.exception.message)
            if mlops.HAVE_NUMPY:
                import numpy
                got = session.predict(numpy.array(rows, dtype=numpy.float64))
                self.assertEqual(got.shape, (2, 1))
                self.assertEqual(got.tolist(), as_lists)
            with self.assertRaises(mlops.InvalidArgument):
                session.predict([1.0, 2.0, 3.0])
            with self.assertRaises(mlops.InvalidArgument):
                session.predict({"a": 1})

    def test_introspection(self):
        with Session(self.onnx, precision="int8") as session:
            self.assertEqual(session.inputs, ["features"])
            self.assertEqual(session.outputs, ["output"])
            self.assertEqual(session.input_shape(), (-1, 2))
            self.assertEqual((session.input_width, session.output_width), (2, 1))
            plan = session.plan()
            self.assertEqual(plan["kernel"], session.kernel)
            self.assertIn("int8", [step.get("precision") for step in plan["steps"]])
            report = session.accuracy(self.frame.select(["a", "b"]))
            self.assertEqual(report["rows"], len(self.frame))
            self.assertGreaterEqual(report["top1_agreement"], 0.9)
            with self.assertRaises(mlops.InvalidArgument):
                session.input_shape(5)
            self.assertIn("2 -> 1", repr(session))
        self.assertEqual(repr(session), "<mlops.Session closed>")
        with self.assertRaises(mlops.InvalidState):
            session.predict([[0.0, 0.0]])

    def test_open_from_the_registry_fills_the_signature_once(self):
        with tempfile.TemporaryDirectory() as directory, mlops.Database(os.path.join(directory, "r.db")) as db:
            registry = mlops.Registry(db)
            registry.create_model("fraud")
            self.assertEqual(registry.register("fraud", self.onnx), 1)
            self.assertEqual(registry.register("fraud", b"\x01\x02 not onnx"), 2)
            registry.set_alias("fraud", "production", 1)
            self.assertIsNone(registry.version("fraud", 1)["signature"])
            rows = [[0.3, -0.1], [0.9, 0.9]]
            with Session.open(db, "fraud@production", precision="int8") as by_alias, \
                    Session(self.onnx, precision="int8") as direct:
                self.assertEqual(by_alias.predict(rows), direct.predict(rows))
                self.assertEqual(by_alias.kernel, direct.kernel)
            signature = {"inputs": [{"name": "features", "type": "float32", "shape": [-1, 2]}],
                         "outputs": [{"name": "output", "type": "float32", "shape": [-1, 1]}]}
            self.assertEqual(registry.version("fraud", 1)["signature"], signature)
            self.assertEqual(Session(self.onnx).signature, signature)
            registry.fill_signature("fraud", 2, {"inputs": []})
            with self.assertRaises(mlops.FormatError) as raised:
                Session.open(db, "fraud@2")
            self.assertIn('reference "fraud@2" (version 2)', str(raised.exception))
            self.assertEqual(registry.version("fraud", 2)["signature"], {"inputs": []})
            with self.assertRaises(mlops.NotFound) as raised:
                Session.open(db, "fraud@staging")
            self.assertIn('reference "fraud@staging"', str(raised.exception))
            with self.assertRaises(mlops.InvalidArgument):
                Session.open(db, "fraud")
            with self.assertRaises(mlops.InvalidArgument):
                Session.open("r.db", "fraud@1")

    def test_feature_names_come_from_the_version_metadata(self):
        with tempfile.TemporaryDirectory() as directory, mlops.Database(os.path.join(directory, "r.db")) as db:
            registry = mlops.Registry(db)
            registry.create_model("fraud")
            registry.register("fraud", self.onnx, metadata={"features": ["amount", "age"]})
            registry.register("fraud", self.onnx, metadata={"features": ["amount"]})
            with Session.open(db, "fraud@1") as named, Session.open(db, "fraud@2") as unnamed:
                self.assertEqual(named.feature_names, ["amount", "age"])
                self.assertEqual(named.signature["inputs"][0]["features"], ["amount", "age"])
                self.assertIsNone(unnamed.feature_names)
                self.assertNotIn("features", unnamed.signature["inputs"][0])
            self.assertIsNone(Session(self.onnx).feature_names)

    def test_auto_precision_uses_the_calibration_frame(self):
        with Session(self.onnx, self.frame.select(["a", "b"]), precision="auto", auto_tolerance=0.5) as session:
            self.assertEqual(len(session.predict([[0.1, 0.2]])), 1)
        with self.assertRaises(mlops.InvalidArgument):
            Session(self.onnx, precision="auto")

    def test_two_threads_progress_together(self):
        session = Session(self.onnx, precision="int8")
        batch = [[0.01 * i, -0.02 * i] for i in range(256)]
        want = session.predict(batch)
        counts = [0, 0]
        failures = []
        start = threading.Barrier(2)
        target = 5

        def work(me):
            other = 1 - me
            start.wait()
            # keep going until both threads have each completed `target` calls
            while counts[me] < target or counts[other] < target:
                if session.predict(batch) != want:
                    failures.append(me)
                    return
                counts[me] += 1
                if counts[me] > 100000:
                    failures.append(me)
                    return

        in_threads(work)
        session.close()
        self.assertEqual(failures, [])
        self.assertGreaterEqual(min(counts), target)


class GemmTest(unittest.TestCase):
    def test_fp32_and_int8(self):
        weights = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
        with Gemm(weights, [1.0, -1.0], precision="fp32") as gemm:
            self.assertEqual(gemm([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0]]), [[10.0, 11.0], [-3.0, -5.0]])
            self.assertEqual(gemm.kernel, "blas")
        with Gemm(weights, activation="relu") as gemm:
            got = gemm([[1.0, 0.0, -1.0]])
            self.assertEqual(got[0][0], 0.0)
            self.assertEqual(got[0][1], 0.0)
            self.assertEqual(gemm.kernel, default_isa())
        with self.assertRaises(mlops.InvalidArgument):
            Gemm(weights, precision="int2")
        with self.assertRaises(mlops.InvalidArgument):
            Gemm(weights, [1.0])
        with self.assertRaises(mlops.InvalidArgument):
            Gemm(weights, isa="mmx")

    def test_caller_scratch(self):
        weights = [[0.5 * (i - j) for j in range(8)] for i in range(16)]
        rows = [[0.1 * (r + c) for c in range(16)] for r in range(5)]
        with Gemm(weights, [0.25] * 8) as gemm:
            need = gemm.scratch_bytes(5)
            self.assertGreater(need, 0)
            self.assertGreaterEqual(gemm.scratch_bytes(50), need)
            self.assertEqual(gemm.run(rows, bytearray(need)), gemm(rows))
            self.assertEqual(gemm.run(array.array("f", rows[0]), memoryview(bytearray(need))).tolist(), gemm(rows[0]))
            with self.assertRaises(mlops.BufferTooSmall) as caught:
                gemm.run(rows, bytearray(need - 1))
            self.assertEqual(caught.exception.message,
                             f"gemm: scratch of {need - 1} bytes is below the {need} needed for 5 rows")
            with self.assertRaises(mlops.InvalidArgument) as caught:
                gemm.run(rows, bytes(need))
            self.assertIn("read-only", caught.exception.message)
            with self.assertRaises(mlops.InvalidArgument):
                gemm.run(rows, need)
            with self.assertRaises(mlops.InvalidArgument):
                gemm.scratch_bytes(-1)
        with Gemm(weights, precision="fp32") as gemm:
            self.assertEqual(gemm.scratch_bytes(5), 0)
            self.assertEqual(gemm.run(rows, bytearray()), gemm(rows))
        with self.assertRaises(mlops.InvalidState):
            gemm.scratch_bytes(1)

    def test_threads_share_one_gemm_with_their_own_scratch(self):
        weights = [[((i * 7 + j * 3) % 11 - 5) / 5 for j in range(32)] for i in range(64)]
        rows = [[((r * 5 + c) % 13 - 6) / 6 for c in range(64)] for r in range(64)]
        gemm = Gemm(weights)
        want = gemm(rows)
        results = [[], []]

        def work(me):
            scratch = bytearray(gemm.scratch_bytes(len(rows)))
            for _ in range(20):
                results[me].append(gemm.run(rows, scratch) == want)

        in_threads(work)
        gemm.close()
        self.assertEqual(results, [[True] * 20, [True] * 20])


if __name__ == "__main__":
    unittest.main()
