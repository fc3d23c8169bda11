"""How much memory one learner's kernel needs: import Keras (TensorFlow), train a small model.

    python benchmarks/bench_kernel_memory.py [--repeats 3]

Each repeat is a fresh Python process that does what a typical notebook of the
course does: import Keras on TensorFlow, load the 8x8 digits, and train the
course's small MLP (64 -> 32 ReLU -> 10 softmax) for 20 epochs.  It prints the
process's peak resident set size (``ru_maxrss``) after the import and after
training.  This is the figure behind the README's advice on JupyterHub memory.

A ``%%on_each_backend`` cell adds, while it runs, one fresh process per installed
backend, all at once (:func:`course_lib.backends.on_each_backend`).  Each repeat also
runs a small loss cell that way and prints each process's peak; the kernel's peak
plus the sum of its children's is what the learner's memory limit must hold during
such a cell (an upper bound: the children's peaks need not coincide).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource
from course_lib.training import dense_model, fit_quietly, keras_session
keras = keras_session(0)
after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from course_lib.datasets import noisy_digits
data = noisy_digits(noise_rate=0.0, seed=0)
model = dense_model(64, 10, hidden=(32,), activation="softmax", seed=0)
fit_quietly(model, data.x_train, data.y_train, loss=keras.losses.SparseCategoricalCrossentropy(),
            epochs=20, batch_size=32, learning_rate=0.01, seed=0)
after_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"import_mib": after_import / 1024, "fit_mib": after_fit / 1024}))
"""


#: A typical ``%%on_each_backend`` cell: import Keras, evaluate a loss, print the peak RSS.
CELL = """
import json, resource
import numpy as np
import keras
y_true = np.array([[0.0, 1.0], [1.0, 0.0]], dtype="float32")
y_pred = np.array([[0.2, 0.8], [0.6, 0.4]], dtype="float32")
keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(y_true, y_pred))
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""


def measure_cell() -> dict[str, float]:
    """Peak RSS (MiB) of each installed backend's process in one ``%%on_each_backend`` cell."""
    from course_lib.backends import on_each_backend

    printed = on_each_backend(CELL)
    return {backend: json.loads(text) for backend, text in printed.items() if text is not None}


def measure() -> dict[str, float]:
    """Peak RSS (MiB, Linux ``ru_maxrss`` is in KiB) of one fresh kernel-like process."""
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = [(measure(), measure_cell()) for _ in range(args.repeats)]
    backends = list(runs[0][1])
    print(
        "| run | peak RSS after importing Keras (MiB) | peak RSS after training (MiB) | "
        + "".join(f"`%%on_each_backend` child, {backend} (MiB) | " for backend in backends)
        + "kernel + children (MiB) |"
    )
    print("|---" * (4 + len(backends)) + "|")
    for index, (run, cell) in enumerate(runs, start=1):
        children = "".join(f"{cell[backend]:.0f} | " for backend in backends)
        total = run["fit_mib"] + sum(cell.values())
        print(f"| {index} | {run['import_mib']:.0f} | {run['fit_mib']:.0f} | {children}{total:.0f} |")


if __name__ == "__main__":
    main()
