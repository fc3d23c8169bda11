"""Hand-derived gradients of every loss in :mod:`course_lib.losses`.

For each loss function ``f`` there is a function of the same name here, with
the same signature, that returns

.. math:: \\frac{\\partial}{\\partial\\, \\hat y} \\sum_{\\text{samples}} f(y, \\hat y),

an array shaped like ``y_pred`` as passed.  With ``from_logits=True`` the
derivative is with respect to the logits.  Every formula is derived by hand
and written in NumPy; none uses automatic differentiation.  Where a loss has a
kink (``|e| = delta`` for Huber, a hinge at its margin) the one-sided value
that Keras' autodiff also returns is used.
"""

from course_lib.gradients.classification_metrics import *  # noqa: F403
from course_lib.gradients.hinge import *  # noqa: F403
from course_lib.gradients.image import *  # noqa: F403
from course_lib.gradients.metric_learning import *  # noqa: F403
from course_lib.gradients.probabilistic import *  # noqa: F403
from course_lib.gradients.regression import *  # noqa: F403
from course_lib.gradients.segmentation import *  # noqa: F403
from course_lib.gradients.sequence import *  # noqa: F403
from course_lib.gradients.similarity import *  # noqa: F403
