"""Shared test setup: silence TensorFlow's C++ logs before anything imports it.

The kernels that nbval starts for the notebooks inherit this environment.
"""

import os

from course_lib.notebook import TF_ENVIRONMENT

for key, value in TF_ENVIRONMENT.items():
    os.environ.setdefault(key, value)
