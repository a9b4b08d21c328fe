"""Trains Vigil's login-risk model and writes it as ONNX with its manifest.

    python models/train/login.py --rows .cache/login/rows.csv [--out models/login_risk]
                                 [--version 1] [--seed 7]

ROWS is the CSV `models/train/login_data.ts` writes: one row per successful login of
simulated traffic, its features exactly as the user actors compute them, labelled
`benign` or with the attack scenario that made it. Training:

- scenarios held out (`--held-out`, default `credential_stuffing`) are never trained on
  (not even as benign rows); the model is reported on them separately, to show how it does
  on attacks it has not seen;
- split by time: days 0-9 train, days 10-13 validate (no user history crosses into the
  past of a validation row);
- a random forest; its probability of the `risky` class is the risk the actors read.

Writes vN.onnx (input `features` float32 [N, 10] in manifest order; outputs `label` and
`probabilities` float32 [N, 2]: benign, risky), vN.manifest.json (features, classes,
levels, data hash, parameters, validation at each level, held-out scenarios, drift
baseline) and vN.fixtures.json (rows with the probabilities Python onnxruntime gives, for
the parity test in Deno). The same rows and seed give the same model bytes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.ensemble import RandomForestClassifier

from common import OPSET, drift_baseline, forest_to_onnx, libraries

CLASSES = ["benign", "risky"]
LEVELS = {"low": 0.5, "medium": 0.8, "high": 0.95}
TRAIN_DAYS = 10


def load(path: pathlib.Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Features, days and labels of the rows, and the feature names (the actors' order)."""
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert header[:3] == ["event_id", "day", "label"], header
        days, labels, x = [], [], []
        for row in reader:
            days.append(int(row[1]))
            labels.append(row[2])
            x.append([float(v) for v in row[3:]])
    return np.array(x, dtype=np.float32), np.array(days), np.array(labels), header[3:]


def at_levels(risk: np.ndarray, risky: np.ndarray) -> dict:
    """Precision, recall and alerts per 1,000 benign logins at each level."""
    out = {}
    benign = int(np.sum(~risky))
    for name, t in LEVELS.items():
        hit = risk >= t
        tp = int(np.sum(hit & risky))
        fp = int(np.sum(hit & ~risky))
        out[name] = {
            "threshold": t,
            "precision": round(tp / max(tp + fp, 1), 4),
            "recall": round(tp / max(int(np.sum(risky)), 1), 4),
            "false_alerts_per_1000_benign": round(1000 * fp / max(benign, 1), 4),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default=".cache/login/rows.csv", type=pathlib.Path)
    ap.add_argument("--out", default="models/login_risk", type=pathlib.Path)
    ap.add_argument("--version", default="1")
    ap.add_argument("--seed", default=7, type=int)
    ap.add_argument("--held-out", default="credential_stuffing",
                    help="scenarios kept out of training, comma-separated")
    args = ap.parse_args()
    HELD_OUT = [s for s in args.held_out.split(",") if s]

    x, days, labels, features = load(args.rows)
    risky = labels != "benign"
    held = np.isin(labels, HELD_OUT)
    tr = (days < TRAIN_DAYS) & ~held
    va = (days >= TRAIN_DAYS) & ~held
    y = risky.astype(np.int64)

    params = {
        "n_estimators": 100,
        "max_depth": 12,
        "min_samples_leaf": 10,
        "max_features": 0.5,
        "random_state": args.seed,
        "n_jobs": 2,
    }
    forest = RandomForestClassifier(**params)
    forest.fit(x[tr], y[tr])

    model = forest_to_onnx(forest, "features", len(features))
    model.graph.name = "vigil_login_risk"
    model.graph.doc_string = "login risk: a random forest over the user actor's login features"
    outputs = [o.name for o in model.graph.output]
    assert outputs == ["label", "probabilities"], outputs
    onnx.checker.check_model(model)
    model_bytes = model.SerializeToString()

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    risk = session.run(["probabilities"], {"features": x})[0][:, 1]
    validation = {
        "rows": int(np.sum(va)),
        "risky_rows": int(np.sum(va & risky)),
        "by_level": at_levels(risk[va], risky[va]),
        "recall_by_scenario": {
            s: round(float(np.mean(risk[va & (labels == s)] >= LEVELS["low"])), 4)
            for s in sorted(set(labels[va & risky]))
        },
    }
    held_out = {
        s: {
            "rows": int(np.sum(labels == s)),
            "recall": {n: round(float(np.mean(risk[labels == s] >= t)), 4)
                       for n, t in LEVELS.items()},
        }
        for s in HELD_OUT
    }

    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"v{args.version}"
    stem.with_suffix(".onnx").write_bytes(model_bytes)

    # Fixture rows: a few of each label from the validation days, and edge values.
    rng = np.random.default_rng(args.seed)
    picks = []
    for s in sorted(set(labels)):
        idx = np.flatnonzero((labels == s) & (days >= TRAIN_DAYS))
        picks.extend(rng.choice(idx, size=min(3, len(idx)), replace=False).tolist())
    edge = np.array([
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 720],
        [12, 12, 40, 1, 1, 9000, 20000, 12, 50, 0],
        [5, 0, 5, 1, 0, 0, 0, 3.5, 2, 0.1],
    ], dtype=np.float32)
    fx = np.vstack([x[sorted(picks)], edge]).astype(np.float32)
    fx_probs = session.run(["probabilities"], {"features": fx})[0]
    (args.out / f"v{args.version}.fixtures.json").write_text(json.dumps({
        "model": f"v{args.version}.onnx",
        "note": "simulated logins' features and edge rows; probabilities from Python onnxruntime",
        "rows": [[float(v) for v in r] for r in fx],
        "probabilities": fx_probs.astype(float).round(7).tolist(),
    }, indent=1) + "\n")

    rows_bytes = args.rows.read_bytes()
    manifest = {
        "name": "login_risk",
        "version": args.version,
        "file": f"v{args.version}.onnx",
        "sha256": hashlib.sha256(model_bytes).hexdigest(),
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "task": "risk of a successful login from the user actor's features (auth.risky_login)",
        "input": {"name": "features", "dtype": "float32", "shape": [-1, len(features)]},
        "output": {"name": "probabilities", "dtype": "float32", "shape": [-1, len(CLASSES)]},
        "features": features,
        "classes": CLASSES,
        "benign_class": "benign",
        "thresholds": {"default": LEVELS["low"], "per_class": {}},
        "levels": {n: {"threshold": t, "action": a} for (n, t), a in
                   zip(LEVELS.items(), ["allow", "step_up", "block"])},
        "algorithm": {
            "kind": "RandomForestClassifier (scikit-learn), converted with skl2onnx",
            "params": {k: v for k, v in params.items() if k != "n_jobs"},
            "opset": OPSET,
        },
        "training": {
            "command": "deno task train:login (models/train/login_data.ts, then python "
                       f"models/train/login.py --version {args.version} --seed {args.seed} "
                       f"--held-out {args.held_out})",
            "seed": args.seed,
            "data": {
                "source": "Vigil's simulator (sim/simulator.ts), folded through the user "
                          "actor's behaviour by models/train/login_data.ts",
                # login_data.ts writes how it simulated beside the rows.
                "simulation": json.loads(args.rows.with_suffix(".json").read_text())
                if args.rows.with_suffix(".json").exists() else None,
                "rows_file_sha256": hashlib.sha256(rows_bytes).hexdigest(),
                "rows": int(len(labels)),
                "by_label": {s: int(np.sum(labels == s)) for s in sorted(set(labels))},
            },
            "split": {
                "method": f"by day: days < {TRAIN_DAYS} train, the rest validate; the held-out "
                          "scenarios' rows are in neither",
                "train_rows": int(np.sum(tr)),
                "validation_rows": int(np.sum(va)),
                "held_out_scenarios": HELD_OUT,
            },
            "libraries": libraries(),
        },
        "validation": validation,
        "held_out": held_out,
        "drift_baseline": drift_baseline(x[tr]),
    }
    (args.out / f"v{args.version}.manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps({"validation": validation, "held_out": held_out}, indent=1))
    print(f"wrote {stem}.onnx ({len(model_bytes):,} bytes), manifest and fixtures")


if __name__ == "__main__":
    main()
