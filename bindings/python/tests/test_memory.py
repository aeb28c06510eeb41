"""The allocation hook through the bindings: counting, failing the Nth allocation, restoring malloc."""
import gc
import unittest

import mlops
from mlops.memory import AllocationCounter


class AllocationCounterTest(unittest.TestCase):
    def test_counts_the_library_allocations(self):
        with AllocationCounter() as counts:
            self.assertFalse(gc.isenabled())  # no handle may be freed from inside a hook
            frame = mlops.Frame({"id": [1, 2, 3], "name": ["a", "b", "c"]})
            frame.set(0, "name", "a longer name")
            frame.close()
        self.assertTrue(gc.isenabled())
        self.assertGreater(counts.allocations, 3)
        self.assertEqual(counts.frees, counts.allocations - counts.reallocations)
        self.assertGreater(counts.bytes_requested, 0)
        self.assertEqual(counts.failed, 0)
        after = counts.allocations
        mlops.Frame({"id": [1]}).close()
        self.assertEqual(counts.allocations, after)  # removed on leaving the block

    def test_blocks_cross_the_install_boundary(self):
        frame = mlops.Frame({"name": ["allocated by plain malloc"]})
        with AllocationCounter() as counts:
            frame.close()  # freed through the hook
            kept = mlops.Frame({"name": ["allocated through the hook"]})
        self.assertGreater(counts.frees, 0)
        self.assertEqual(kept["name"], ["allocated through the hook"])
        kept.close()  # freed by plain free

    def test_failing_each_allocation_in_turn_raises_out_of_memory(self):
        with AllocationCounter(fail_at=1) as counts:
            with self.assertRaises(mlops.OutOfMemory) as caught:
                mlops.Frame({"a": [1]})
        self.assertEqual(caught.exception.code, -7)
        self.assertEqual(caught.exception.message, "out of memory creating a frame")
        self.assertEqual((counts.allocations, counts.failed), (1, 1))
        outcomes = []
        for n in range(1, 50):
            try:
                with AllocationCounter(fail_at=n) as counts, mlops.open(":memory:") as db:
                    self.assertGreaterEqual(db.schema_version, 1)
                outcomes.append("ok")
                break
            except mlops.OutOfMemory:
                outcomes.append("enomem")
        self.assertEqual(outcomes[-1], "ok")
        self.assertGreater(len(outcomes), 1)
        self.assertEqual(set(outcomes[:-1]), {"enomem"})
        self.assertEqual(mlops.Frame({"a": [1]})["a"], [1])  # malloc again

    def test_one_counter_at_a_time(self):
        with AllocationCounter():
            with self.assertRaises(mlops.InvalidState) as caught:
                with AllocationCounter():
                    pass
            self.assertEqual(caught.exception.message, "an AllocationCounter is already installed")
        with self.assertRaises(mlops.InvalidArgument):
            AllocationCounter(fail_at=0)
        self.assertIn("allocations=0", repr(AllocationCounter()))


if __name__ == "__main__":
    unittest.main()
