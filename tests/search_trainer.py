"""A `--trainer-cmd` trainer for tests: a smoothed unigram model, fit in milliseconds.

    python tests/search_trainer.py DATA TARGET_DIR OUT [MODE]

It keeps the contract every external trainer keeps: read DATA (.npy of int32 token ids),
score each TARGET_DIR/<name>.npy, write OUT as {"losses": {"<name>": mean loss in nats}}.
MODE makes it misbehave on a deterministic subset of proxies (stream length modulo 3):
`nan` reports NaN, `fail` exits 1 with a message on stderr, `silent` writes nothing, `hang` sleeps (for --trainer-timeout).
"""

from __future__ import annotations

import glob
import json
import math
import os
import sys
import time

import numpy as np


def main() -> int:
    data_path, target_dir, out = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    data = np.load(data_path)
    chosen = len(data) % 3 == 0
    if mode == "fail" and chosen:
        print(f"out of memory (simulated) on {len(data)} tokens", file=sys.stderr)
        return 1
    if mode == "silent" and chosen:
        return 0
    if mode == "hang" and len(data) % 7 == 0:  # fewer of them: each one costs the whole timeout
        time.sleep(600)
    vocab = int(max(data.max(), max(np.load(p).max() for p in glob.glob(os.path.join(target_dir, "*.npy"))))) + 1
    counts = np.bincount(data, minlength=vocab).astype(np.float64) + 0.1
    logp = np.log(counts / counts.sum())
    losses = {}
    for path in sorted(glob.glob(os.path.join(target_dir, "*.npy"))):
        name = os.path.basename(path)[: -len(".npy")]
        losses[name] = math.nan if mode == "nan" and chosen else float(-logp[np.load(path)].mean())
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"losses": losses}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
