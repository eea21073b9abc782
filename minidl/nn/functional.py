"""``import minidl.nn.functional as F``: every differentiable op by its PyTorch name.

The ops themselves live in :mod:`minidl.functional`, one file per family.
"""
from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401
