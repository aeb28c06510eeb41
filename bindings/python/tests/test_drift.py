"""Drift statistics through the bindings: values from closed forms (and SciPy when present), profiles, reports."""
import array
import math
import random
import unittest

import mlops
import mlops.drift as drift

try:
    import scipy.stats as sps
except ImportError:
    sps = None


class StatisticsTest(unittest.TestCase):
    def test_closed_forms(self):
        ks = drift.ks_2samp([1, 2, 3], [4, 5, 6])
        # disjoint samples of 3: D = 1 and the exact p-value is 2 / C(6, 3)
        self.assertEqual((ks.statistic, ks.method, ks.n_ref), (1.0, "exact", 3))
        self.assertAlmostEqual(ks.pvalue, 2 / 20)
        self.assertEqual(drift.ks_2samp([1, 2, 3], [4, 5, 6], method="asymptotic").method, "asymptotic")
        self.assertAlmostEqual(drift.wasserstein([0, 1], [2, 3]).statistic, 2.0)
        self.assertAlmostEqual(drift.energy([0], [1]).statistic, math.sqrt(2))
        self.assertTrue(math.isnan(drift.energy([0], [1]).pvalue))
        chi = drift.chisquare([10, 20], [15, 15])
        self.assertAlmostEqual(chi.statistic, 25 / 15 * 2)
        self.assertEqual(chi.dof, 1)
        self.assertAlmostEqual(drift.kl([0.5, 0.5], [0.25, 0.75]).statistic,
                               0.5 * math.log(2) + 0.5 * math.log(2 / 3))
        self.assertAlmostEqual(drift.jensenshannon([1, 0], [1, 0]).statistic, 0.0)
        self.assertAlmostEqual(drift.psi_hist([1, 1], [1, 1]).statistic, 0.0)
        result, edges = drift.psi(list(range(1, 11)), list(range(1, 11)), bins=2, binning="width")
        self.assertEqual((result.statistic, edges), (0.0, [1.0, 5.5, 10.0]))
        with_nan = drift.wasserstein(array.array("d", [0.0, math.nan]), [1.0])
        self.assertEqual((with_nan.n_ref, with_nan.nan_ref, with_nan.statistic), (1, 1, 1.0))

    @unittest.skipIf(sps is None, "SciPy is not installed for this interpreter")
    def test_against_scipy(self):
        draw = random.Random(5)
        a = [draw.gauss(0, 1) for _ in range(60)]
        b = [draw.gauss(0.4, 1.2) for _ in range(70)]
        self.assertAlmostEqual(drift.ks_2samp(a, b).pvalue, sps.ks_2samp(a, b).pvalue, places=10)
        self.assertAlmostEqual(drift.cvm_2samp(a, b).statistic, sps.cramervonmises_2samp(a, b).statistic, places=10)
        self.assertAlmostEqual(drift.anderson_ksamp([a, b]).statistic, sps.anderson_ksamp([a, b]).statistic, places=8)
        expected = sps.chi2_contingency([[10, 20, 30], [15, 15, 40]])
        got = drift.chi2_contingency([10, 20, 30], [15, 15, 40])
        self.assertAlmostEqual(got.statistic, expected[0], places=10)
        self.assertAlmostEqual(got.pvalue, expected[1], places=10)

    def test_errors(self):
        with self.assertRaises(mlops.InvalidArgument):
            drift.ks_2samp([], [1.0])
        with self.assertRaises(mlops.InvalidArgument):
            drift.ks_2samp([1.0], [2.0], method="bootstrap")
        with self.assertRaises(mlops.InvalidArgument):
            drift.kl([1, 2], [1, 2, 3])
        with self.assertRaises(mlops.InvalidArgument):
            drift.psi([1, 2], [1, 2], binning="log")
        with self.assertRaises(mlops.InvalidArgument):
            drift.anderson_ksamp([[1.0, 2.0]])


class ProfileTest(unittest.TestCase):
    def frame(self, shift=0.0, rows=200):
        return mlops.Frame({"x": [float(i % 100) + shift for i in range(rows)],
                            "c": ["a" if i % 4 else "b" for i in range(rows)]})

    def test_profile_summaries(self):
        with drift.Profile.of(self.frame()) as profile:
            self.assertEqual(profile.columns, ["x", "c"])
            stats = profile.stats("x")
            # 0..99 twice: mean 49.5, population variance (100^2 - 1) / 12
            self.assertEqual((stats.kind, stats.count, stats.min, stats.max), ("numeric", 200, 0.0, 99.0))
            self.assertAlmostEqual(stats.mean, 49.5)
            self.assertAlmostEqual(stats.variance, (100 ** 2 - 1) / 12)
            self.assertAlmostEqual(profile.quantile("x", 0.5), 49.5, delta=1.0)
            self.assertAlmostEqual(profile.rank("x", 49.0), 0.5, delta=0.01)
            self.assertEqual(profile.category_count("c", "b"), 50)
            self.assertEqual(profile.stats("c").kind, "categorical")
            self.assertEqual([c["name"] for c in profile.describe()["columns"]], ["x", "c"])
            with self.assertRaises(mlops.NotFound):
                profile.stats("absent")

    def test_update_merge_serialize(self):
        spec = {"columns": [{"name": "v", "kind": "numeric"}, {"name": "k", "kind": "categorical"}]}
        left = drift.Profile(spec)
        right = left.new_like()
        left.update_column("v", [1.0, 2.0, None])
        right.update_column("v", [3.0])
        left.update_column("k", ["x", None])
        left.merge(right)
        stats = left.stats("v")
        self.assertEqual((stats.count, stats.nulls, stats.mean), (3, 1, 2.0))
        copy = drift.Profile.deserialize(left.serialize())
        self.assertEqual(copy.stats("v"), stats)
        self.assertEqual(copy.category_count("k", "x"), 1)
        with self.assertRaises(mlops.InvalidArgument):
            left.merge(drift.Profile.of(self.frame()))
        matrix = drift.Profile({"columns": [{"name": "p", "kind": "numeric"}, {"name": "q", "kind": "numeric"}]})
        matrix.update_matrix([[1.0, 10.0], [3.0, 30.0]])
        matrix.update_matrix(array.array("f", [5.0, 50.0]))
        self.assertEqual((matrix.stats("p").mean, matrix.stats("q").max), (3.0, 50.0))
        with self.assertRaises(mlops.InvalidArgument) as caught:
            matrix.update_matrix([1.0, 2.0, 3.0])
        self.assertEqual(caught.exception.message, "profile: 3 values are not whole rows of 2")
        with self.assertRaises(mlops.InvalidArgument):
            left.update_matrix([[1.0, 2.0]])  # a categorical column cannot take floats
        binned = drift.Profile({"columns": [{"name": "v", "kind": "numeric", "edges": [0, 1, 2, 3]}]})
        binned.update_column("v", [-5.0, 0.5, 1.5, 1.7, 2.5, 9.0])
        self.assertEqual(binned.histogram("v"), [2, 2, 2])
        damaged = bytearray(left.serialize())
        damaged[len(damaged) // 2] ^= 0x55
        with self.assertRaises((mlops.Corrupt, mlops.FormatError)):
            drift.Profile.deserialize(damaged)
        with self.assertRaises(mlops.FormatError):
            drift.Profile({"columns": [{"name": "v", "kind": "ordinal"}]})
        with self.assertRaises(mlops.InvalidArgument):
            drift.Profile(None)
        left.close()
        with self.assertRaises(mlops.InvalidState):
            left.stats("v")

    def test_reports(self):
        reference, same, moved = self.frame(), self.frame(), self.frame(shift=60.0)
        calm = drift.report(reference, same)
        self.assertFalse(calm["dataset"]["drifted"])
        shifted = drift.report(reference, moved, {"include": ["x"]})
        self.assertTrue(shifted["dataset"]["drifted"])
        by_profile = drift.report(drift.Profile.of(reference), drift.Profile.of(moved))
        self.assertEqual(by_profile["reference_rows"], 200)
        with self.assertRaises(mlops.FormatError):
            drift.report(reference, same, {"alpha": "small"})
        with self.assertRaises(mlops.InvalidArgument):
            drift.report(reference, drift.Profile.of(same))

    def test_windows_and_trend(self):
        with mlops.open(":memory:") as db:
            windows = drift.Windows(db)
            reference = drift.Profile.of(self.frame())
            windows.put("model", 0, 100, drift.Profile.of(self.frame()))
            windows.put("model", 100, 200, drift.Profile.of(self.frame(shift=60.0)))
            windows.put("model", 100, 200, drift.Profile.of(self.frame(shift=60.0)))
            listed = windows.list("model")["windows"]
            self.assertEqual([(w["start_us"], w["rows"]) for w in listed], [(0, 200), (100, 400)])
            self.assertEqual(windows.get("model", 100).stats("x").count, 400)
            with self.assertRaises(mlops.Conflict):
                windows.put("model", 0, 50, reference)
            with self.assertRaises(mlops.NotFound):
                windows.get("model", 7)
            trend = windows.trend("model", reference)["windows"]
            self.assertEqual([w["report"]["dataset"]["drifted"] for w in trend], [False, True])


if __name__ == "__main__":
    unittest.main()
