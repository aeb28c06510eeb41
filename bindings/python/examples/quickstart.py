"""The whole loop on generated card payments: features, training, registry, gates, serving, drift.

Run with the package importable and the library findable, e.g.
    PYTHONPATH=bindings/python MLOPS_LIBRARY=build/libmlops.so python3 bindings/python/examples/quickstart.py
"""
import os
import random
import sys
import tempfile

import mlops
from mlops import drift
from mlops.features import FeatureStore
from mlops.serve import Router
from mlops.train import train_register

HOUR = 3_600_000_000
START = 1_700_000_000_000_000


def payments(draw, customers, start, rows, shift=0.0):
    """Payments of random customers: amount, hour of day; fraud is large night payments."""
    ids, times, amounts, hours = [], [], [], []
    for i in range(rows):
        ids.append(draw.randrange(customers))
        times.append(start + i * 60_000_000)
        amounts.append(round(draw.lognormvariate(3.0 + shift, 1.0), 2))
        hours.append(draw.randrange(24))
    return {"customer_id": ids, "event_time": times, "amount": amounts, "hour": hours}


def main(directory):
    draw = random.Random(2024)
    with mlops.open(os.path.join(directory, "quickstart.db"), actor="quickstart") as db:
        # 1. features: an entity, a contract-checked view, one ingest (bad rows quarantined)
        store = FeatureStore(db)
        store.define_entity({"name": "customer", "keys": [{"name": "customer_id", "type": "int64"}]})
        store.define_view({"name": "payments", "entity": "customer", "ttl_us": 48 * HOUR,
                           "features": [{"name": "amount", "type": "float64",
                                         "contract": {"not_null": True, "min": 0}},
                                        {"name": "hour", "type": "int64", "contract": {"min": 0, "max": 23}}]})
        history = payments(draw, 200, START, 2000)
        history["amount"][7] = -5.0
        report = store.ingest("payments", mlops.Frame(history, types={"amount": "float64"}), policy="quarantine")
        print(f"ingested {report.rows_written} rows, quarantined {report.rows_quarantined}")

        # 2. a point-in-time training set: labels at later times joined with the features known then
        label_times = [START + (i + 5) * 60_000_000 for i in range(1500)]
        entities = mlops.Frame({"customer_id": history["customer_id"][5:1505], "timestamp": label_times})
        training = store.join(entities, ["payments:amount", "payments:hour"])
        amount, hour = training["payments:amount"], training["payments:hour"]
        keep = [i for i in range(len(training)) if amount[i] is not None]
        frame = mlops.Frame({
            "amount": [amount[i] for i in keep], "hour": [float(hour[i]) for i in keep],
            "ts": [label_times[i] for i in keep],
            "fraud": [int(amount[i] > 40 and (hour[i] < 6)) for i in keep]})

        # 3. train, register with lineage, metrics and a drift reference in one call
        registry = mlops.Registry(db)
        registry.create_model("fraud", "card fraud")
        config = {"features": ["amount", "hour"], "label": "fraud", "task": "binary",
                  "model": {"type": "mlp", "hidden": [16], "activation": "relu"},
                  "optimizer": {"type": "adam", "learning_rate": 0.02}, "epochs": 30, "seed": 1,
                  "split": {"test": 0.2, "time_column": "ts"}}
        version, net = train_register(db, "fraud", frame, config)
        auc = net.test_metrics()["roc_auc"]["value"]
        print(f"registered fraud v{version}: test ROC AUC {auc:.3f}")

        # 4. a gate on production, then promotion
        registry.set_gate("fraud", "production", {"rules": [{"rule": "metric_min", "metric": "roc_auc",
                                                             "min": 0.8, "dataset": "test"}]})
        registry.set_alias("fraud", "production", version)
        print("production ->", registry.resolve("fraud@production"))

        # 5. serve live payments, report outcomes, log live quality
        with Router(db, "fraud", {"reload_interval_ms": 0}) as router:
            live = payments(draw, 200, START + 2000 * 60_000_000, 300, shift=1.5)
            for i in range(300):
                key = f"payment-{i}"
                score, served = router.run(key, [[live["amount"][i], float(live["hour"][i])]])
                router.outcome(key, float(live["amount"][i] > 40 and live["hour"][i] < 6))
            router.log_quality("live")
            router.flush_drift()
            series = router.metrics()["series"][0]
            print(f"served {series['requests']} requests by version {served}; live {series['quality']['metric']}"
                  f" {series['quality']['value']:.3f}")

        # 6. drift of the live inputs against the training reference
        reference = drift.Profile.deserialize(registry.profile("fraud", version))
        current = drift.Profile.of(mlops.Frame({"amount": live["amount"], "hour": [float(h) for h in live["hour"]]}))
        result = drift.report(reference, current)
        drifted = [c["name"] for c in result["columns"] if c["drifted"]]
        print("drifted columns:", drifted)

        # 7. the audit chain is intact
        registry.verify_audit()
        print("the audit chain verifies")
        net.close()
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        sys.exit(main(scratch))
