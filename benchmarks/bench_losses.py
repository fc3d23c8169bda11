"""Time every course_lib loss against the Keras loss, in the same process.

For each of the 22 losses and each size (1e3, 1e5 and 1e6 elements of
``y_pred``) we time one call of the *class* with its default reduction on
float32 input and report the best of several repeats, the ratio
``course_lib / keras`` and course_lib's peak extra memory (``tracemalloc`` sees
NumPy's allocations; the backends' allocators are invisible to it, so Keras'
memory is not reported).  course_lib gets NumPy arrays; Keras gets tensors of its
backend, converted before the clock starts (on PyTorch, Keras 3.15's
``CategoricalGeneralizedCrossEntropy`` fails on NumPy input).  Keras' time includes
converting its (scalar) result to NumPy, which waits for the computation: JAX
returns from a call before it has computed.

Usage::

    python benchmarks/bench_losses.py [--backend jax] [--sizes 1000 100000 1000000]
        [--markdown FILE]

``--backend`` (tensorflow, jax, torch or numpy; default ``$KERAS_BACKEND`` or
tensorflow) selects the Keras backend.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from functools import partial

import course_lib.losses as our_losses
from course_lib.notebook import quiet_tensorflow
from course_lib.sample_inputs import LOSS_NAMES, sample_inputs

CLASS_OF = our_losses.CLASS_OF_FUNCTION


def best_time(call, budget_s: float = 0.5, max_repeats: int = 20) -> float:
    """Best wall time of ``call()`` over up to ``max_repeats`` runs within ``budget_s``."""
    call()  # warm-up (TensorFlow traces and caches kernels on first use)
    best, spent, repeats = float("inf"), 0.0, 0
    while repeats < max_repeats and (spent < budget_s or repeats < 3):
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        best, spent, repeats = min(best, elapsed), spent + elapsed, repeats + 1
    return best


def peak_memory_mib(call) -> float:
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run(sizes: list[int]) -> list[dict]:
    quiet_tensorflow()
    import keras  # after main() has chosen the backend

    convert = keras.ops.convert_to_tensor
    rows = []
    for name in LOSS_NAMES:
        class_name = CLASS_OF[name]
        for size in sizes:
            y_true, y_pred, options = sample_inputs(name, size, seed=0, dtype="float32")
            ours = getattr(our_losses, class_name)(**options)
            theirs = getattr(keras.losses, class_name)(**options)
            call_ours = partial(ours, y_true, y_pred)
            # to NumPy, so that the clock waits for the result: JAX dispatches
            # asynchronously and would otherwise be timed before it computes
            keras_loss = partial(theirs, convert(y_true), convert(y_pred))
            call_keras = partial(_finished, keras, keras_loss)
            t_ours, t_keras = best_time(call_ours), best_time(call_keras)
            rows.append(
                {
                    "loss": class_name,
                    "elements": y_pred.size,
                    "course_lib_ms": 1e3 * t_ours,
                    "keras_ms": 1e3 * t_keras,
                    "ratio": t_ours / t_keras,
                    "peak_mib": peak_memory_mib(call_ours),
                }
            )
            print(_format_row(rows[-1]), flush=True)
    return rows


def _finished(keras, call):
    """``call()``'s value as NumPy: returns only once the backend has computed it."""
    return keras.ops.convert_to_numpy(call())


HEADER = (
    "| loss | elements | course_lib (ms) | keras (ms) | ratio | course_lib peak (MiB) |\n"
    "|---|---:|---:|---:|---:|---:|"
)


def _format_row(row: dict) -> str:
    return (
        f"| {row['loss']} | {row['elements']:.0e} | {row['course_lib_ms']:.3f} | "
        f"{row['keras_ms']:.3f} | {row['ratio']:.2f} | {row['peak_mib']:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument(
        "--backend",
        choices=["tensorflow", "jax", "torch", "numpy"],
        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
        help="the Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    args = parser.parse_args()
    os.environ["KERAS_BACKEND"] = args.backend
    print(f"Keras backend: {args.backend}\n")
    print(HEADER)
    rows = run(args.sizes)
    slow = [r for r in rows if r["elements"] >= 100_000 and r["ratio"] > 2.0]
    summary = (
        f"\n{len(slow)} of {sum(r['elements'] >= 100_000 for r in rows)} runs at >= 1e5 elements "
        "are more than 2x slower than Keras"
        + (
            ": " + ", ".join(f"{r['loss']} ({r['elements']:.0e}, {r['ratio']:.2f}x)" for r in slow)
            if slow
            else "."
        )
    )
    print(summary)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            table = "\n".join(_format_row(r) for r in rows)
            handle.write(f"Keras backend: {args.backend}\n\n{HEADER}\n{table}\n{summary}\n")


if __name__ == "__main__":
    main()
