"""Frames and CSV through the bindings, with and without numpy."""
import array
import math
import os
import tempfile
import unittest

import mlops


class FrameTest(unittest.TestCase):
    def test_build_from_lists_and_read_back(self):
        with mlops.Frame({"id": [1, 2, 3], "amount": [9.5, None, 1e300], "ok": [True, False, None],
                          "name": ["anna", None, "zoë"], "vec": [[1, 2], None, [5, 6]]}) as frame:
            self.assertEqual(len(frame), 3)
            self.assertEqual(frame.columns, ["id", "amount", "ok", "name", "vec"])
            self.assertEqual([frame.type(c) for c in frame.columns], ["int64", "float64", "bool", "string", "f32vec"])
            self.assertEqual(frame["id"], [1, 2, 3])
            self.assertEqual(frame["amount"], [9.5, None, 1e300])
            self.assertEqual(frame["ok"], [True, False, None])
            self.assertEqual(frame["name"], ["anna", None, "zoë"])
            self.assertEqual(frame["vec"], [[1.0, 2.0], None, [5.0, 6.0]])
            self.assertEqual(frame.nulls("amount"), [False, True, False])
            self.assertEqual(frame.dim("vec"), 2)

    def test_types_are_forced_and_validated(self):
        frame = mlops.Frame({"x": [1, 2]}, types={"x": "float64"})
        self.assertEqual(frame.type("x"), "float64")
        self.assertEqual(frame["x"], [1.0, 2.0])
        with self.assertRaises(mlops.InvalidArgument):
            mlops.Frame({"x": [1, "a"]})
        with self.assertRaises(mlops.InvalidArgument):
            mlops.Frame({"x": [1]}, types={"x": "int32"})
        with self.assertRaises(mlops.InvalidArgument) as caught:
            mlops.Frame({"a": [1, 2], "b": [1]})
        self.assertIn("has 1 rows, the frame has 2", str(caught.exception))
        self.assertEqual(caught.exception.code, -1)
        self.assertEqual(caught.exception.subsystem, "frame")
        with self.assertRaises(mlops.AlreadyExists):
            frame.add_column("x", [3, 4])

    def test_array_and_memoryview_inputs(self):
        frame = mlops.Frame({"q": array.array("q", [5, -6]), "d": memoryview(array.array("d", [0.5, 1.5]))})
        self.assertEqual(frame["q"], [5, -6])
        self.assertEqual(frame["d"], [0.5, 1.5])

    def test_select_copy_drop_and_matrix(self):
        frame = mlops.Frame({"a": [1, 2], "b": [0.5, None], "s": ["x", "y"]})
        picked = frame.select(["b", "a"])
        self.assertEqual(picked.columns, ["b", "a"])
        copy = frame.copy()
        frame.drop("a")
        self.assertEqual(frame.columns, ["b", "s"])
        self.assertEqual(copy.columns, ["a", "b", "s"])
        matrix = copy.to_matrix(["a", "b"])
        rows = matrix.tolist() if mlops.HAVE_NUMPY else matrix
        self.assertEqual(rows[0], [1.0, 0.5])
        self.assertTrue(math.isnan(rows[1][1]))
        with self.assertRaises(mlops.InvalidArgument):
            copy.to_matrix(["a", "b"], refuse_nulls=True)
        with self.assertRaises(mlops.InvalidArgument):
            copy.to_matrix(["s"])
        with self.assertRaises(mlops.NotFound):
            copy.index("ghost")

    def test_take_rows(self):
        frame = mlops.Frame({"a": [1, 2, 3], "s": ["x", None, "z"]})
        taken = frame.take([2, 0, 2])
        self.assertEqual(taken.to_dict(), {"a": [3, 1, 3], "s": ["z", "x", "z"]})
        self.assertEqual(len(frame.take([])), 0)
        with self.assertRaises(mlops.InvalidArgument):
            frame.take([3])

    def test_csv_round_trip_and_errors(self):
        frame = mlops.Frame({"id": [1, 2], "note": ['said "hi", twice', None]})
        text = frame.to_csv()
        self.assertEqual(text, 'id,note\r\n1,"said ""hi"", twice"\r\n2,\r\n')
        back = mlops.Frame.from_csv(text, text=True)
        self.assertEqual(back.to_dict(), {"id": [1, 2], "note": ['said "hi", twice', None]})
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "f.csv")
            frame.to_csv(path, delimiter=";")
            again = mlops.Frame.from_csv(path, delimiter=";", schema={"id": "string"})
            self.assertEqual(again["id"], ["1", "2"])
            with self.assertRaises(mlops.NotFound):
                mlops.Frame.from_csv(os.path.join(directory, "absent.csv"))
        with self.assertRaises(mlops.FormatError) as caught:
            mlops.Frame.from_csv("a,b\n1\n", text=True)
        self.assertIn("line 2", str(caught.exception))
        with self.assertRaises(mlops.FormatError):
            mlops.Frame.from_csv("a\n1\n", text=True, quote="'")

    def test_cells_read_and_written_one_at_a_time(self):
        frame = mlops.Frame({"i": [1, 2], "f": [0.5, None], "b": [True, None], "s": ["x", None], "v": [[1, 2], None]})
        self.assertEqual([frame.get(0, c) for c in frame.columns], [1, 0.5, True, "x", [1.0, 2.0]])
        self.assertEqual([frame.get(-1, c) for c in frame.columns], [2, None, None, None, None])
        self.assertEqual([frame.is_null(1, c) for c in frame.columns], [False, True, True, True, True])
        frame.set(1, "i", -7)
        frame.set(1, "f", 3)
        frame.set(1, "b", False)
        frame.set(1, "s", "zoë")
        frame.set(1, "v", array.array("f", [3, 4]))
        frame.set(0, "s", None)
        self.assertEqual(frame.to_dict(), {"i": [1, -7], "f": [0.5, 3.0], "b": [True, False], "s": [None, "zoë"],
                                           "v": [[1.0, 2.0], [3.0, 4.0]]})
        self.assertIsInstance(frame.get(1, "f"), float)
        self.assertTrue(frame.is_null(0, "s"))

    def test_rows_and_columns_grown_then_filled(self):
        frame = mlops.Frame({"id": [1]})
        frame.append_rows(2)
        self.assertEqual(frame["id"], [1, None, None])
        frame.add_null_column("vec", "f32vec", 3)
        frame.add_null_column("name", "string")
        self.assertEqual(frame["vec"], [None, None, None])
        frame.set(2, "vec", [1, 2, 3])
        frame.set(2, "name", "c")
        self.assertEqual(frame.get(2, "vec"), [1.0, 2.0, 3.0])
        self.assertEqual(frame["name"], [None, None, "c"])
        frame.append_rows(0)
        self.assertEqual(len(frame), 3)

    def test_cell_errors(self):
        frame = mlops.Frame({"i": [1, 2], "v": [[1, 2], [3, 4]]})
        with self.assertRaises(mlops.InvalidArgument) as caught:
            frame.get(2, "i")
        self.assertEqual(caught.exception.message, 'mlops_frame_get_int64: column "i": row 2 out of range (2 rows)')
        with self.assertRaises(mlops.InvalidArgument) as caught:
            frame.set(-3, "i", 1)
        self.assertEqual(caught.exception.message, 'column "i": row -3 out of range (2 rows)')
        with self.assertRaises(mlops.InvalidArgument) as caught:
            frame.is_null(5, "v")
        self.assertIn("row 5 out of range", caught.exception.message)
        with self.assertRaises(mlops.InvalidArgument) as caught:
            frame.set(0, "i", 1.5)
        self.assertEqual(caught.exception.message, 'column "i" is int64: cannot store a float')
        with self.assertRaises(mlops.InvalidArgument):
            frame.set(0, "i", True)
        with self.assertRaises(mlops.InvalidArgument):
            frame.get("0", "i")
        with self.assertRaises(mlops.InvalidArgument) as caught:
            frame.set(0, "v", [1.0])
        self.assertEqual(caught.exception.message, 'column "v" row 0: vector of 1 values, the column holds 2')
        with self.assertRaises(mlops.NotFound):
            frame.get(0, "ghost")
        with self.assertRaises(mlops.InvalidArgument) as caught:
            frame.add_null_column("w", "f32vec")
        self.assertIn('column "w": vector dimension 0', caught.exception.message)
        with self.assertRaises(mlops.InvalidArgument):
            frame.add_null_column("w", "int32")
        with self.assertRaises(mlops.AlreadyExists):
            frame.add_null_column("i", "int64")
        with self.assertRaises(mlops.InvalidArgument):
            frame.append_rows(-1)
        self.assertEqual(frame.to_dict(), {"i": [1, 2], "v": [[1.0, 2.0], [3.0, 4.0]]})

    def test_type_names_come_from_the_library(self):
        from mlops.frame import TYPE_NAMES
        self.assertEqual(TYPE_NAMES, {1: "int64", 2: "float64", 3: "bool", 4: "string", 5: "f32vec"})

    def test_use_after_close_raises(self):
        frame = mlops.Frame({"a": [1]})
        frame.close()
        frame.close()
        self.assertTrue(frame.closed)
        with self.assertRaises(mlops.InvalidState):
            frame["a"]
        with self.assertRaises(mlops.InvalidState):
            frame.get(0, "a")
        with self.assertRaises(mlops.InvalidState):
            frame.set(0, "a", 1)
        self.assertEqual(repr(frame), "<mlops.Frame closed>")


@unittest.skipUnless(mlops.HAVE_NUMPY, "numpy is not available to this interpreter")
class NumpyFrameTest(unittest.TestCase):
    def test_numpy_scalars_in_cells(self):
        import numpy as np
        frame = mlops.Frame({"i": [1, 2], "f": [0.5, 1.5], "b": [True, False]})
        frame.set(np.int64(1), "i", np.int32(-4))
        frame.set(0, "f", np.float32(2.5))
        frame.set(0, "b", np.bool_(False))
        self.assertEqual(frame.to_dict(), {"i": [1, -4], "f": [2.5, 1.5], "b": [False, False]})
        with self.assertRaises(mlops.InvalidArgument):
            frame.set(0, "i", np.bool_(True))
        with self.assertRaises(mlops.InvalidArgument):
            frame.set(0, "i", np.float64(1.0))

    def test_numpy_columns_in_and_views_out(self):
        import numpy as np
        frame = mlops.Frame({"i": np.arange(5, dtype=np.int64), "f": np.array([0.5, np.nan, 2, 3, 4]),
                             "b": np.array([True, False, True, True, False]), "v": np.ones((5, 3), np.float32),
                             "s": np.array(["a", "b", "c", "d", "e"])})
        self.assertEqual(frame.type("v"), "f32vec")
        self.assertEqual(frame.type("s"), "string")
        self.assertEqual(frame["f"][1], None)
        view = frame.numpy("i")
        self.assertEqual(view.tolist(), [0, 1, 2, 3, 4])
        self.assertEqual(frame.numpy("v").shape, (5, 3))
        self.assertEqual(frame.numpy("b").dtype, np.bool_)
        del frame  # the view keeps the frame's storage alive
        self.assertEqual(view.sum(), 10)
        matrix = mlops.Frame({"a": np.arange(3.0), "b": np.arange(3)}).to_matrix()
        self.assertEqual(matrix.dtype, np.float32)
        self.assertEqual(matrix.shape, (3, 2))


if __name__ == "__main__":
    unittest.main()
