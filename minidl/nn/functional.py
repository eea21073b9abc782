"""``import minidl.nn.functional as F``: the differentiable ops by their PyTorch names.

PyTorch's name for :mod:`minidl.functional`, where the ops live: one file per
family, each op a ``Function`` with its forward and backward side by side.
The list of public ops is kept once, in ``minidl/functional/__init__.py``
(with the file of each op); this module re-exports exactly that list.
"""
from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401
