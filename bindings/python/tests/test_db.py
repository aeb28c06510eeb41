"""The database handle and the error contract through the bindings."""
import os
import tempfile
import unittest

import mlops

from _data import in_threads


class DatabaseTest(unittest.TestCase):
    def test_open_close_and_properties(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "t.db")
            with mlops.open(path, busy_timeout_ms=1000, actor="py") as db:
                self.assertEqual(db.path, path)
                self.assertGreaterEqual(db.schema_version, 1)
                self.assertEqual(db.schema_version, mlops.db.supported_schema_version())
                db.check()
            self.assertTrue(db.closed)
            with self.assertRaises(mlops.InvalidState):
                db.schema_version

    def test_errors_become_typed_exceptions(self):
        with self.assertRaises(mlops.FormatError) as caught:
            mlops.open(":memory:", busy_timeout=5)
        self.assertIn("$.busy_timeout: unknown key", caught.exception.message)
        self.assertEqual(caught.exception.code, -13)
        self.assertEqual(caught.exception.subsystem, "store")
        with tempfile.TemporaryDirectory() as directory:
            garbage = os.path.join(directory, "garbage.db")
            with open(garbage, "wb") as handle:
                handle.write(b"not a database at all" * 100)
            with self.assertRaises(mlops.SchemaError):
                mlops.open(garbage)
            with self.assertRaises(mlops.NotFound):
                mlops.open(os.path.join(directory, "absent.db"), create=False)

    def test_error_detail_is_read_once(self):
        from mlops._lib import lib
        with self.assertRaises(mlops.FormatError) as caught:
            mlops.Frame.from_csv("a,b\n1\n", text=True)
        self.assertEqual(caught.exception.subsystem, "frame")
        detail = lib.mlops_error_last().contents  # cleared once turned into the exception
        self.assertEqual((detail.code, detail.message), (0, b"no error"))

    def test_error_detail_is_per_thread(self):
        messages = []

        def fail(_):
            try:
                mlops.Frame.from_csv("a,b\n1\n", text=True)
            except mlops.FormatError as exc:
                messages.append(exc.message)

        in_threads(fail, 4)
        self.assertEqual(len(messages), 4)
        self.assertTrue(all("line 2" in m for m in messages))

    def test_version(self):
        self.assertEqual(mlops.version(), mlops.__version__)
        self.assertRegex(mlops.version(), r"^0\.\d+\.\d+$")


if __name__ == "__main__":
    unittest.main()
