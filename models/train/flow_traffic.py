"""What a flow model's manifest says of the traffic it was trained on, for drift and for the
simulator: the drift baseline over the benign training rows, and a traffic sample of
microaggregates per class.

    python models/train/flow_traffic.py --data-dir ../shared/data
                                        [--manifest models/flow_classifier/v2.manifest.json]

rewrites the manifest's `drift_baseline` and `traffic` from the training split the model
was made with (same data, same seed: `flows.training_split`), checking the sample against
the model itself; `flows.py` writes both for new versions.

- The drift baseline is the deciles of the *benign* training rows. The training split's
  class mix (about a third benign: the data sets are per-class samples) is an artefact of
  how the data was drawn, not the traffic of any network; live traffic is mostly benign,
  so the benign rows are the population a live model is compared with (attacks are then
  a small shift, as they are on a real network).
- The traffic sample: per class, vectors that are each the per-feature median of a group of
  `GROUP_ROWS` training rows near each other (MDAV microaggregation in the model's
  signed-log space): an aggregate of several flows, never a row of the data set, that
  keeps the features' joint shape (a DNS flow stays a DNS flow) and their distribution
  (PSI against the baseline under 0.05 per feature). Values rounded to 5 significant
  digits. Only vectors the model puts in their own class are kept (benign ones under
  every attack threshold; attack ones at probability >= `ATTACK_MIN_P`).
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np
import onnxruntime as ort

from common import CLIP, drift_baseline

# Rows per microaggregate (k-anonymity's k): each vector is the median of this many flows.
GROUP_ROWS = 5
# Vectors kept per class: benign traffic varies more than one attack tool's flows.
BENIGN_VECTORS = 800
ATTACK_VECTORS = 60
# An attack vector is kept when the model gives its class at least this (the serving
# threshold is 0.9: a margin, so every simulated attack flow alerts).
ATTACK_MIN_P = 0.95
# A benign vector is kept when the model puts it in the benign class at least this sure.
BENIGN_MIN_P = 0.6


def clean(v: np.ndarray) -> np.ndarray:
    """Values as the model's graph sees them before the log: NaN 0, clipped to +-1e12."""
    return np.clip(np.nan_to_num(v, nan=0.0, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)


def mdav(v: np.ndarray, k: int) -> list[np.ndarray]:
    """Groups of `k` rows (the last of k to 3k-1) by Maximum Distance to Average Vector, in
    standardised signed-log space: the row furthest from the centre and its k-1 nearest,
    then the row furthest from that one and its k-1 nearest, until few rows are left."""
    z = np.sign(v) * np.log1p(np.abs(v))
    sd = z.std(axis=0)
    sd[sd < 1e-9] = 1.0
    z = (z - z.mean(axis=0)) / sd
    left = np.arange(len(z))
    groups: list[np.ndarray] = []

    def take(anchor: int) -> None:
        nonlocal left
        d = ((z[left] - z[anchor]) ** 2).sum(axis=1)
        g = left[np.argsort(d, kind="stable")[:k]]
        groups.append(g)
        left = np.setdiff1d(left, g)

    while len(left) >= 3 * k:
        centre = z[left].mean(axis=0)
        r = left[np.argmax(((z[left] - centre) ** 2).sum(axis=1))]
        far = left[np.argmax(((z[left] - z[r]) ** 2).sum(axis=1))]
        take(r)
        take(far)
    if len(left) >= 2 * k:
        centre = z[left].mean(axis=0)
        take(left[np.argmax(((z[left] - centre) ** 2).sum(axis=1))])
    if len(left) > 0:
        groups.append(left)
    return groups


def significant(v: np.ndarray, digits: int = 5) -> np.ndarray:
    return np.array([[float(f"{a:.{digits}g}") for a in row] for row in v])


def microaggregates(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """About `n` microaggregates of the rows `x` (a seeded subset of n * GROUP_ROWS rows when
    there are more)."""
    v = clean(x)
    if len(v) > n * GROUP_ROWS:
        v = v[np.sort(rng.choice(len(v), n * GROUP_ROWS, replace=False))]
    vectors = np.array([np.median(v[g], axis=0) for g in mdav(v, GROUP_ROWS)])
    return significant(vectors)


def traffic_sample(
    x: np.ndarray, y: np.ndarray, classes: list[str], benign: int, session, seed: int
) -> dict:
    """Per class, microaggregates of its training rows that the model (`session`, input
    `features`, output `probabilities`) puts in their class; none equal to a row of `x`."""
    rng = np.random.default_rng(seed)
    rows = {clean(r).astype(np.float64).tobytes() for r in x}
    out: dict[str, list[list[float]]] = {}
    dropped: dict[str, int] = {}
    for c, name in enumerate(classes):
        if not np.any(y == c):
            continue
        vectors = microaggregates(x[y == c], BENIGN_VECTORS if c == benign else ATTACK_VECTORS, rng)
        p = session.run(["probabilities"], {"features": vectors.astype(np.float32)})[0]
        if c == benign:
            attack = np.delete(p, benign, axis=1)
            ok = (p[:, benign] >= BENIGN_MIN_P) & (attack.max(axis=1) < 0.9)
        else:
            ok = p[:, c] >= ATTACK_MIN_P
        ok &= np.array([r.astype(np.float64).tobytes() not in rows for r in vectors])
        dropped[name] = int((~ok).sum())
        out[name] = vectors[ok].tolist()
    return {
        "method": f"per class, the per-feature median of each group of {GROUP_ROWS} training rows "
                  "near each other (MDAV microaggregation in signed-log space), 5 significant "
                  f"digits; kept when the model agrees (benign p >= {BENIGN_MIN_P} and every attack "
                  f"class under 0.9; an attack class p >= {ATTACK_MIN_P}); no vector is a row of "
                  "the data",
        "group_rows": GROUP_ROWS,
        "seed": seed,
        "dropped": dropped,
        "classes": out,
    }


def benign_baseline(x: np.ndarray, y: np.ndarray, benign: int) -> dict:
    """The drift baseline over the benign training rows."""
    base = drift_baseline(x[y == benign])
    base["population"] = "the benign class's training rows"
    return base


def manifest_text(manifest: dict) -> str:
    """The manifest as JSON (indent 1), each traffic vector on one line."""
    classes = manifest.get("traffic", {}).get("classes")
    if not classes:
        return json.dumps(manifest, indent=1) + "\n"
    marks = {name: f"@@traffic:{name}@@" for name in classes}
    text = json.dumps({**manifest, "traffic": {**manifest["traffic"], "classes": marks}}, indent=1)
    for name, vectors in classes.items():
        rows = ",\n    ".join(json.dumps(v, separators=(",", ":")) for v in vectors)
        text = text.replace(json.dumps(marks[name]), f"[\n    {rows}\n   ]")
    return text + "\n"


def main() -> None:
    import flows  # the data loading and split the model was trained with

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default="../shared/data", type=pathlib.Path)
    ap.add_argument("--manifest", default="models/flow_classifier/v2.manifest.json",
                    type=pathlib.Path)
    args = ap.parse_args()
    manifest = json.loads(args.manifest.read_text())
    seed = int(manifest["training"]["seed"])
    x, y, _, tr, _, _ = flows.training_split(flows.load(args.data_dir), seed)
    assert len(tr) == manifest["training"]["split"]["train_rows"], "not the model's split"
    classes = manifest["classes"]
    benign = classes.index(manifest["benign_class"])
    session = ort.InferenceSession(str(args.manifest.parent / manifest["file"]),
                                   providers=["CPUExecutionProvider"])
    manifest["drift_baseline"] = benign_baseline(x[tr], y[tr], benign)
    manifest["traffic"] = traffic_sample(x[tr], y[tr], classes, benign, session, seed)
    args.manifest.write_text(manifest_text(manifest))
    kept = {c: len(v) for c, v in manifest["traffic"]["classes"].items()}
    print(json.dumps({"kept": kept, "dropped": manifest["traffic"]["dropped"]}))


if __name__ == "__main__":
    main()
