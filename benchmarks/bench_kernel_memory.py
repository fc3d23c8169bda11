"""How much memory one learner's kernel needs: import Keras (TensorFlow), train a small model.

    python benchmarks/bench_kernel_memory.py [--repeats 3]

Each repeat is a fresh Python process that does what a typical notebook of the
course does: import Keras on TensorFlow, load the 8x8 digits, and train the
course's small MLP (64 -> 32 ReLU -> 10 softmax) for 20 epochs.  It prints the
process's peak resident set size (``ru_maxrss``) after the import and after
training.  This is the figure behind the README's advice on JupyterHub memory.
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
    runs = [measure() for _ in range(args.repeats)]
    print("| run | peak RSS after importing Keras (MiB) | peak RSS after training (MiB) |")
    print("|---|---|---|")
    for index, run in enumerate(runs, start=1):
        print(f"| {index} | {run['import_mib']:.0f} | {run['fit_mib']:.0f} |")


if __name__ == "__main__":
    main()
