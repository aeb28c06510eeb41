"""The model registry through the bindings: documents parsed, every error typed."""
import hashlib
import os
import tempfile
import unittest

import mlops
from mlops.registry import Registry, Watch, keygen


class RegistryTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.db = mlops.open(os.path.join(self.directory.name, "r.db"), actor="alice")
        self.registry = Registry(self.db)
        self.registry.create_model("fraud", "card fraud", {"team": "risk"})

    def tearDown(self):
        self.db.close()
        self.directory.cleanup()

    def test_models(self):
        r = self.registry
        self.assertEqual([m["name"] for m in r.models()], ["fraud"])
        self.assertEqual(r.model("fraud")["tags"], {"team": "risk"})
        with self.assertRaises(mlops.AlreadyExists):
            r.create_model("fraud")
        with self.assertRaises(mlops.NotFound):
            r.model("absent")
        with self.assertRaises(mlops.InvalidArgument):
            r.create_model("a@b")
        with self.assertRaises(mlops.InvalidArgument):
            Registry("not a database")

    def test_versions_from_bytes_and_path(self):
        r = self.registry
        v1 = r.register("fraud", b"model one", tags={"stage": "dev"}, metadata={"lr": 0.1})
        path = os.path.join(self.directory.name, "model.bin")
        payload = os.urandom(3 << 20)
        with open(path, "wb") as handle:
            handle.write(payload)
        v2 = r.register("fraud", path)
        self.assertEqual((v1, v2), (1, 2))
        self.assertEqual(r.artifact("fraud", 1), b"model one")
        self.assertEqual(r.artifact("fraud", 2), payload)
        shown = r.version("fraud", 2)
        self.assertEqual(shown["artifact"]["sha256"], hashlib.sha256(payload).hexdigest())
        self.assertEqual(r.version("fraud", 1)["metadata"], {"lr": 0.1})
        self.assertEqual([v["version"] for v in r.versions("fraud")], [2, 1])
        self.assertEqual([v["version"] for v in r.versions("fraud", tags={"stage": "dev"})], [1])
        r.log_metric("fraud", 2, "auc", 0.93, ci=(0.9, 0.95), dataset="test")
        self.assertEqual([v["version"] for v in r.versions("fraud", metric="auc >= 0.9")], [2])
        metric = r.version("fraud", 2)["metrics"][0]
        self.assertEqual((metric["value"], metric["ci_low"], metric["dataset"]), (0.93, 0.9, "test"))
        with self.assertRaises(mlops.FormatError):
            r.versions("fraud", metric="auc about 3")
        with self.assertRaises(mlops.NotFound):
            r.register("absent", b"x")
        with self.assertRaises(FileNotFoundError):
            r.register("fraud", os.path.join(self.directory.name, "absent.bin"))
        with self.assertRaises(mlops.NotFound):
            r.artifact("fraud", 9)
        r.delete_version("fraud", 1)
        self.assertEqual([v["version"] for v in r.versions("fraud")], [2])
        self.assertEqual(r.gc(), 1)

    def test_signature_profile_approvals(self):
        r = self.registry
        v = r.register("fraud", b"m")
        signature = {"inputs": [{"name": "x", "type": "float32", "shape": [-1, 2]}],
                     "outputs": [{"name": "y", "type": "float32", "shape": [-1, 1]}]}
        r.fill_signature("fraud", v, signature)
        self.assertEqual(r.version("fraud", v)["signature"]["inputs"][0]["name"], "x")
        with self.assertRaises(mlops.InvalidState):
            r.fill_signature("fraud", v, signature)
        with self.assertRaises(mlops.NotFound):
            r.profile("fraud", v)
        r.set_profile("fraud", v, b"\x00profile\xff")
        self.assertEqual(r.profile("fraud", v), b"\x00profile\xff")
        r.approve("fraud", v, "looks good")
        with self.assertRaises(mlops.AlreadyExists):
            r.approve("fraud", v)
        self.assertEqual(r.version("fraud", v)["approvals"][0]["actor"], "alice")

    def test_aliases_and_gates(self):
        r = self.registry
        for auc in (0.8, 0.9, 0.7):
            v = r.register("fraud", f"model {auc}".encode())
            r.log_metric("fraud", v, "auc", auc)
        r.set_alias("fraud", "production", 1)
        r.set_alias("fraud", "production", 2)
        self.assertEqual(r.resolve("fraud@production"), 2)
        self.assertEqual(r.resolve("fraud@3"), 3)
        history = r.alias_history("fraud", "production")
        self.assertEqual([h["version"] for h in history], [1, 2])
        self.assertEqual(r.alias_at("fraud", "production", history[0]["time_us"]), 1)
        with self.assertRaises(mlops.NotFound):
            r.alias_at("fraud", "production", history[0]["time_us"] - 1)
        with self.assertRaises(mlops.InvalidState):
            r.delete_version("fraud", 2)
        policy = {"rules": [{"rule": "better_than_current", "metric": "auc"}]}
        r.set_gate("fraud", "production", policy)
        self.assertEqual(r.gate("fraud", "production")["rules"][0]["rule"], "better_than_current")
        with self.assertRaises(mlops.PolicyRefused) as caught:
            r.set_alias("fraud", "production", 3)
        self.assertIn("better_than_current", caught.exception.message)
        self.assertEqual(r.resolve("fraud@production"), 2)
        self.assertEqual(r.rollback("fraud", "production"), 1)
        with self.assertRaises(mlops.InvalidState):
            r.rollback("fraud", "production")
        with self.assertRaises(mlops.FormatError):
            r.set_gate("fraud", "production", {"rules": [{"rule": "no_such_rule"}]})
        r.set_gate("fraud", "production", None)
        with self.assertRaises(mlops.NotFound):
            r.gate("fraud", "production")
        r.delete_alias("fraud", "production")
        with self.assertRaises(mlops.NotFound):
            r.delete_alias("fraud", "production")
        with self.assertRaises(mlops.NotFound):
            r.resolve("fraud@production")

    def test_runs_lineage_audit(self):
        r = self.registry
        run = r.start_run("exp", "first", {"lr": 0.1}, {"who": "me"})
        r.log_run_metric(run, "loss", 0.5, step=1)
        r.log_run_metric(run, "loss", 0.25, step=2)
        r.set_run_tag(run, "note", "ok")
        r.end_run(run, "finished")
        with self.assertRaises(mlops.InvalidState):
            r.end_run(run)
        shown = r.run(run)
        self.assertEqual((shown["status"], shown["params"], shown["tags"]["note"]), ("finished", {"lr": 0.1}, "ok"))
        self.assertEqual([run], [x["id"] for x in r.runs("exp")])
        self.assertEqual(r.runs("other"), [])
        v = r.register("fraud", b"m", run_id=run)
        self.assertEqual(r.lineage("fraud", v)["run_id"], run)
        self.assertEqual(r.lineage_users("txn"), [])
        with self.assertRaises(mlops.NotFound):
            r.register("fraud", b"m", run_id=run + 100)
        entries = r.audit()
        self.assertGreaterEqual(len(entries), 3)
        self.assertEqual([e["seq"] for e in r.audit(after_seq=1, limit=2)], [2, 3])
        r.verify_audit()

    def test_bundles(self):
        r = self.registry
        v = r.register("fraud", b"weights", tags={"k": "v"})
        public, secret = keygen()
        self.assertEqual((len(public), len(secret)), (32, 64))
        signed = os.path.join(self.directory.name, "signed.bundle")
        unsigned = os.path.join(self.directory.name, "unsigned.bundle")
        r.export_bundle("fraud", v, signed, secret)
        r.export_bundle("fraud", v, unsigned)
        with self.assertRaises(mlops.InvalidArgument):
            r.export_bundle("fraud", v, signed, b"short")
        with mlops.open(os.path.join(self.directory.name, "other.db")) as other:
            target = Registry(other)
            target.trust_key(public, "ci")
            with self.assertRaises(mlops.PolicyRefused):
                target.import_bundle(unsigned)
            self.assertEqual(target.import_bundle(signed), ("fraud", 1))
            self.assertEqual(target.artifact("fraud", 1), b"weights")
            with open(signed, "rb") as handle:
                data = bytearray(handle.read())
            data[len(data) // 2] ^= 0xFF
            damaged = os.path.join(self.directory.name, "damaged.bundle")
            with open(damaged, "wb") as handle:
                handle.write(data)
            with self.assertRaises((mlops.Corrupt, mlops.FormatError, mlops.PolicyRefused)):
                target.import_bundle(damaged)

    def test_streamed_artifact_and_watch(self):
        r = self.registry
        changes = []
        with Watch(self.db.path, changes.append, after_seq=0) as watch:
            payload = os.urandom((1 << 20) + 17)
            v = r.register("fraud", payload)
            self.assertEqual(b"".join(r.artifact_chunks("fraud", v, chunk_bytes=300_000)), payload)
            self.assertGreater(len(list(r.artifact_chunks("fraud", v, chunk_bytes=300_000))), 3)
            self.assertEqual(r.artifact_size("fraud", v), len(payload))
            with self.assertRaises(mlops.NotFound):
                r.artifact_size("fraud", v + 1)
            with self.assertRaises(mlops.NotFound):
                next(r.artifact_chunks("fraud", v + 1))
            self.assertEqual(watch.poll(), 2)
            self.assertEqual(watch.poll(), 0)
            r.set_alias("fraud", "production", v)
            self.assertEqual(watch.poll(), 1)
        self.assertEqual([c["kind"] for c in changes], ["model.create", "version.create", "alias.set"])
        self.assertEqual((changes[2]["model"], changes[2]["version"], changes[2]["alias"]), ("fraud", v, "production"))
        with self.assertRaises(mlops.InvalidState):
            watch.poll()
        with Watch(self.db.path, changes.append) as watch, self.assertRaises(mlops.InvalidArgument):
            watch.start(0)
        with self.assertRaises(mlops.NotFound):
            Watch(os.path.join(self.directory.name, "absent.db"), changes.append)

    def test_closed_database(self):
        self.db.close()
        with self.assertRaises(mlops.InvalidState):
            self.registry.models()


if __name__ == "__main__":
    unittest.main()
