"""The database handle and the error contract through the bindings."""
import os
import tempfile
import threading
import unittest

import mlops


class DatabaseTest(unittest.TestCase):
    def test_open_close_and_properties(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "t.db")
            with mlops.open(path, busy_timeout_ms=1000, actor="py") as db:
                self.assertEqual(db.path, path)
                self.assertGreaterEqual(db.schema_version, 1)
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

    def test_error_detail_is_per_thread(self):
        messages = []

        def fail():
            try:
                mlops.Frame.from_csv("a,b\n1\n", text=True)
            except mlops.FormatError as exc:
                messages.append(exc.message)

        threads = [threading.Thread(target=fail) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len(messages), 4)
        self.assertTrue(all("line 2" in m for m in messages))

    def test_version(self):
        self.assertEqual(mlops.version(), mlops.__version__)
        self.assertRegex(mlops.version(), r"^0\.\d+\.\d+$")


if __name__ == "__main__":
    unittest.main()
