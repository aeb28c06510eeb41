#!/usr/bin/python3
"""Generate the trainer's fixtures with Debian's python3-sklearn.

Run once from this folder:  /usr/bin/python3 make_fixtures.py
Writes:
  metrics_binary.csv, metrics_multiclass.csv, metrics_regression.csv
      inputs for the metric tests (scores rounded to create ties);
  metrics_expected.json
      the values sklearn.metrics computes on them;
  digits_{train,test}.csv, breast_cancer_{train,test}.csv
      scikit-learn's shipped data sets with a header, split 75/25 by
      train_test_split(random_state=0, stratify=y);
  mlp_reference.json
      test accuracy of sklearn.neural_network.MLPClassifier on those splits.
"""
import csv
import gzip
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data"
rng = np.random.default_rng(20261125)
expected = {"sklearn_version": sklearn.__version__}

# ---- binary: 200 rows, scores on a 0.05 grid so that many tie ----------------
n = 200
y = rng.integers(0, 2, n)
s = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0.001, 0.999)
s = np.round(s * 20) / 20
s = np.clip(s, 0.01, 0.99)
yp = (s >= 0.5).astype(int)
with open("metrics_binary.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["label", "score"])
    for a, b in zip(y, s):
        w.writerow([int(a), repr(float(b))])
expected["binary"] = {
    "accuracy": metrics.accuracy_score(y, yp),
    "precision": metrics.precision_score(y, yp),
    "recall": metrics.recall_score(y, yp),
    "f1": metrics.f1_score(y, yp),
    "roc_auc": metrics.roc_auc_score(y, s),
    "pr_auc": metrics.average_precision_score(y, s),
    "log_loss": metrics.log_loss(y, s),
    "confusion_matrix": metrics.confusion_matrix(y, yp).tolist(),
}

# ---- multiclass: 150 rows, 4 classes ------------------------------------------
n, k = 150, 4
y = rng.integers(0, k, n)
logits = rng.normal(0, 1, (n, k))
logits[np.arange(n), y] += 1.2
p = np.exp(logits)
p /= p.sum(axis=1, keepdims=True)
p = np.round(p, 3)
p /= p.sum(axis=1, keepdims=True)
yp = p.argmax(axis=1)
with open("metrics_multiclass.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["label"] + ["p%d" % j for j in range(k)])
    for a, row in zip(y, p):
        w.writerow([int(a)] + [repr(float(v)) for v in row])
expected["multiclass"] = {
    "accuracy": metrics.accuracy_score(y, yp),
    "precision": metrics.precision_score(y, yp, average="macro"),
    "recall": metrics.recall_score(y, yp, average="macro"),
    "f1": metrics.f1_score(y, yp, average="macro"),
    "log_loss": metrics.log_loss(y, p, labels=list(range(k))),
    "confusion_matrix": metrics.confusion_matrix(y, yp).tolist(),
}

# ---- regression: 120 rows ------------------------------------------------------
n = 120
y = rng.normal(3.0, 2.0, n)
pred = y + rng.normal(0.2, 0.8, n)
with open("metrics_regression.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["label", "prediction"])
    for a, b in zip(y, pred):
        w.writerow([repr(float(a)), repr(float(b))])
expected["regression"] = {
    "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
    "mae": metrics.mean_absolute_error(y, pred),
    "r2": metrics.r2_score(y, pred),
}
with open("metrics_expected.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")


# ---- data sets and the reference MLP ----------------------------------------------
def load_digits():
    with gzip.open(os.path.join(SRC, "digits.csv.gz"), "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def load_breast_cancer():
    with open(os.path.join(SRC, "breast_cancer.csv")) as f:
        rows = list(csv.reader(f))[1:]
    data = np.array(rows, dtype=float)
    return data[:, :-1], data[:, -1].astype(int)


def write_split(name, x, y):
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    header = ["f%d" % j for j in range(x.shape[1])] + ["label"]
    for part, xs, ys in (("train", xtr, ytr), ("test", xte, yte)):
        with open("%s_%s.csv" % (name, part), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for row, label in zip(xs, ys):
                w.writerow(["%.17g" % v for v in row] + [int(label)])
    return xtr, xte, ytr, yte


reference = {"sklearn_version": sklearn.__version__,
             "settings": "StandardScaler + MLPClassifier(hidden_layer_sizes=(64,), activation='relu', "
                         "solver='adam', learning_rate_init=1e-3, batch_size=32, alpha=1e-4, "
                         "max_iter=100, random_state=seed), mean over seeds 0..4"}
for name, loader in (("digits", load_digits), ("breast_cancer", load_breast_cancer)):
    xtr, xte, ytr, yte = write_split(name, *loader())
    accs = []
    for seed in range(5):
        clf = make_pipeline(StandardScaler(),
                            MLPClassifier(hidden_layer_sizes=(64,), activation="relu", solver="adam",
                                          learning_rate_init=1e-3, batch_size=32, alpha=1e-4,
                                          max_iter=100, random_state=seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(xtr, ytr)
        accs.append(float(metrics.accuracy_score(yte, clf.predict(xte))))
    reference[name] = {"test_accuracy": float(np.mean(accs)), "per_seed": accs,
                       "train_rows": int(len(ytr)), "test_rows": int(len(yte))}
with open("mlp_reference.json", "w") as f:
    json.dump(reference, f, indent=1, sort_keys=True)
    f.write("\n")
