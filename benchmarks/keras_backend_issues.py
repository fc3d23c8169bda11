"""Minimal reproductions of the Keras 3 behaviours that differ between backends and
that the course works around, each run in a fresh process per backend.

    python benchmarks/keras_backend_issues.py            # every backend installed
    python benchmarks/keras_backend_issues.py jax torch  # some of them

Each check prints what the backend does; "reproduces" means Keras 3.15 behaves as
described in the check's title on that backend.  Nothing here depends on course_lib.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

#: title -> code that prints "reproduces: <detail>" or "does not reproduce: <detail>".
CHECKS = {
    "categorical_generalized_cross_entropy raises TypeError for NumPy inputs": """
        import numpy as np, keras
        y_true = np.array([1, 0]); y_pred = np.array([[0.2, 0.8], [0.6, 0.4]], "float32")
        try:
            value = keras.losses.categorical_generalized_cross_entropy(y_true, y_pred, q=0.5)
            print("does not reproduce:", np.round(keras.ops.convert_to_numpy(value), 6))
        except TypeError as error:
            print("reproduces: TypeError:", str(error).splitlines()[0][:90])
    """,
    "keras.ops.mean of float64 input returns a float64 computed in float32": """
        import numpy as np, keras
        x = np.full(3, 1 + 2.0**-40)  # representable in float64, rounds to 1.0 in float32
        value = keras.ops.mean(keras.ops.convert_to_tensor(x))
        exact = keras.ops.convert_to_numpy(value) == x.mean()
        dtype = keras.backend.standardize_dtype(value.dtype)
        detail = f"dtype {dtype}, value - 1 = {float(value) - 1:.3e} (exact {x.mean() - 1:.3e})"
        if dtype != "float64":
            print(f"not applicable: the input became {dtype} ({detail})")
        else:
            print(f"{'does not reproduce' if exact else 'reproduces'}: {detail}")
    """,
    "keras.utils.set_random_seed imports TensorFlow whatever the backend": """
        import sys, keras
        keras.utils.set_random_seed(0)
        imported = "tensorflow" in sys.modules
        backend = keras.backend.backend()
        if backend == "tensorflow":
            print("not applicable: TensorFlow is the backend")
        else:
            verdict = "reproduces" if imported else "does not reproduce"
            print(f"{verdict}: tensorflow imported = {imported}")
    """,
}

MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}


def run(backend: str, code: str) -> str:
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=environment, capture_output=True, text=True
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return lines[-1] if lines else f"error: {result.stderr.strip().splitlines()[-1][:100]}"


def main(argv: list[str]) -> int:
    backends = argv or [name for name, module in MODULES.items() if importlib.util.find_spec(module)]
    for title, code in CHECKS.items():
        print(title)
        for backend in backends:
            print(f"  {backend:<10} {run(backend, code)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
