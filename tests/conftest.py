"""Shared test setup: silence TensorFlow's C++ logs before anything imports it.

The kernels that nbval starts for the notebooks inherit this environment.
"""

from course_lib.notebook import quiet_tensorflow

quiet_tensorflow()
