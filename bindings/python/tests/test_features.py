"""The feature store through the bindings: definitions, contracts, point-in-time reads, forget."""
import math
import unittest

import mlops
from mlops.features import FeatureStore, IngestOptions, ReadOptions, read_options

CUSTOMER = {"name": "customer", "keys": [{"name": "customer_id", "type": "int64"}]}
TXN = {"name": "txn", "entity": "customer", "ttl_us": 100,
       "features": [{"name": "amount", "type": "float64", "contract": {"not_null": True, "min": 0}},
                    {"name": "count", "type": "int64"},
                    {"name": "currency", "type": "string", "contract": {"allowed": ["EUR", "USD"]}}]}


def rows(ids, times, amounts, counts=None, currencies=None):
    counts = counts or [1] * len(ids)
    currencies = currencies or ["EUR"] * len(ids)
    return mlops.Frame({"customer_id": ids, "event_time": times, "amount": amounts, "count": counts,
                        "currency": currencies}, types={"amount": "float64"})


class FeatureStoreTest(unittest.TestCase):
    def setUp(self):
        self.db = mlops.open(":memory:")
        self.store = FeatureStore(self.db)
        self.store.define_entity(CUSTOMER)
        self.assertEqual(self.store.define_view(TXN), 1)

    def tearDown(self):
        self.db.close()

    def test_definitions(self):
        store = self.store
        store.define_entity(CUSTOMER)  # identical: a no-op
        with self.assertRaises(mlops.Conflict):
            store.define_entity({"name": "customer", "keys": [{"name": "id", "type": "string"}]})
        wider = dict(TXN, features=TXN["features"] + [{"name": "online", "type": "bool"}])
        self.assertEqual(store.define_view(wider), 2)
        self.assertEqual(len(store.view("txn")["features"]), 4)
        self.assertEqual(len(store.view("txn", 1)["features"]), 3)
        narrower = dict(TXN, features=TXN["features"][:1])
        with self.assertRaises(mlops.Conflict):
            store.define_view(narrower)
        self.assertEqual(store.define_view(narrower, incompatible=True), 3)
        with self.assertRaises(mlops.FormatError) as caught:
            store.define_view(dict(TXN, colour="blue"))
        self.assertIn("$.colour", caught.exception.message)
        with self.assertRaises(mlops.NotFound):
            store.view("absent")
        with self.assertRaises(mlops.InvalidArgument):
            store.define_view("not a mapping")
        with self.assertRaises(mlops.InvalidArgument):
            FeatureStore(None)

    def test_ingest_reject_and_quarantine(self):
        store = self.store
        report = store.ingest("txn", rows([1, 2], [10, 20], [5.0, 6.0]))
        self.assertEqual((report.rows_written, report.rows_quarantined, report.errors), (2, 0, []))
        self.assertEqual(store.ingest("txn", rows([1], [10], [5.0])).rows_duplicate, 1)
        bad = rows([3, 4, 5], [30, 30, 30], [1.0, -1.0, None], currencies=["EUR", "EUR", "GBP"])
        with self.assertRaises(mlops.PolicyRefused) as caught:
            store.ingest("txn", bad)
        refused = caught.exception.report
        self.assertEqual(refused.rows_written, 0)
        self.assertEqual([(e.row, e.column, e.rule) for e in refused.errors][:2], [(1, "amount", "min"),
                                                                                   (2, "amount", "not_null")])
        self.assertEqual(store.stats("txn")["rows"], 2)
        report = store.ingest("txn", bad, policy="quarantine")
        self.assertEqual((report.rows_written, report.rows_quarantined), (1, 2))
        quarantined = store.quarantine("txn")
        self.assertEqual(quarantined["customer_id"], [4, 5])
        fixed = quarantined.to_dict()
        fixed["amount"] = [1.0, 2.0]
        fixed["currency"] = ["EUR", "USD"]
        retried = store.retry("txn", mlops.Frame(fixed, types={"amount": "float64"}))
        self.assertEqual((retried.rows_written, retried.rows_quarantined), (2, 0))
        self.assertEqual(len(store.quarantine("txn")), 0)
        stats = store.stats("txn")
        self.assertEqual((stats["rows"], stats["keys"], stats["newest_event_time"]), (5, 5, 30))
        with self.assertRaises(mlops.InvalidArgument):
            store.ingest("txn", bad, policy="drop")
        with self.assertRaises(mlops.InvalidArgument):
            store.ingest("txn", mlops.Frame({"customer_id": [1], "when": [1]}))
        moved = mlops.Frame({"customer_id": [9], "when": [1], "amount": [1.0]})
        self.assertEqual(store.ingest("txn", moved, event_time_column="when").rows_written, 1)
        with self.assertRaises(mlops.NotFound):
            store.ingest("absent", moved)

    def test_reads(self):
        store = self.store
        store.ingest("txn", rows([1, 1, 2], [10, 50, 20], [1.0, 5.0, 2.0], counts=[1, 2, 3]))
        keys = mlops.Frame({"customer_id": [1, 2, 7]})
        online = store.online("txn", keys, ["amount", "count"], now=60)
        self.assertEqual(online["amount"], [5.0, 2.0, None])
        self.assertEqual(online["age_us"], [10, 40, None])
        expired = store.online("txn", keys, ["amount"], now=151)
        self.assertEqual(expired["amount"], [None, None, None])
        self.assertEqual(expired["event_time"], [50, 20, None])
        as_of = store.as_of("txn", keys, ["amount"], 30)
        self.assertEqual(as_of["amount"], [1.0, 2.0, None])
        entities = mlops.Frame({"customer_id": [1, 1, 2, 1], "ts": [5, 10, 200, 55]})
        joined = store.join(entities, ["txn:amount", "txn:count"], timestamp_column="ts")
        self.assertEqual(joined.columns, ["customer_id", "ts", "txn:amount", "txn:count"])
        self.assertEqual(joined["txn:amount"], [None, 1.0, None, 5.0])
        self.assertEqual(joined["txn:count"], [None, 1, None, 2])
        with self.assertRaises(mlops.InvalidArgument):
            store.online("txn", keys, [])
        with self.assertRaises(mlops.NotFound):
            store.online("txn", keys, ["absent"])
        with self.assertRaises(mlops.InvalidArgument):
            store.join(entities, ["txn:amount"])  # no "timestamp" column

    def test_online_reader(self):
        store = self.store
        store.ingest("txn", rows([1, 2], [10, 20], [1.5, 2.5], counts=[3, 4]))
        with store.reader("txn", ["amount", "count"]) as reader:
            self.assertEqual(reader.width, 2)
            got = reader.read(mlops.Frame({"customer_id": [2, 1, 8]}), now=25)
            got = got.tolist() if mlops.HAVE_NUMPY else got
            self.assertEqual(got[:2], [[2.5, 4.0], [1.5, 3.0]])
            self.assertTrue(all(math.isnan(x) for x in got[2]))
            stale = reader.read(mlops.Frame({"customer_id": [1]}), now=1000)
            stale = stale.tolist() if mlops.HAVE_NUMPY else stale
            self.assertTrue(math.isnan(stale[0][0]))
        with self.assertRaises(mlops.InvalidState):
            reader.read(mlops.Frame({"customer_id": [1]}))
        with self.assertRaises(mlops.InvalidArgument):
            store.reader("txn", ["currency"])

    def test_forget_and_options(self):
        store = self.store
        store.ingest("txn", rows([1, 2, 1], [10, 20, 30], [1.0, 2.0, 3.0]))
        # two history rows and the key's online row
        self.assertEqual(store.forget("customer", mlops.Frame({"customer_id": [1]})), 3)
        self.assertEqual(store.stats("txn")["keys"], 1)
        with self.assertRaises(mlops.NotFound):
            store.forget("nobody", mlops.Frame({"customer_id": [1]}))
        options = read_options(now=5, timestamp_column="t")
        self.assertEqual((options.version, options.now, options.as_of_system_time, options.timestamp_column),
                         (1, 5, -(2 ** 63), b"t"))
        self.assertEqual(IngestOptions().version, 0)
        self.assertIsInstance(options, ReadOptions)


if __name__ == "__main__":
    unittest.main()
