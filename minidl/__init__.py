"""minidl: a deep-learning framework written from scratch on NumPy, for teaching.

    import minidl as mdl
    x = mdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad                     # array([2., 4., 6.], dtype=float32)
"""
from .autograd import Function, Tensor, grad
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .backend import (
    Device,
    cuda_is_available,
    device,
    get_default_device,
    get_default_dtype,
    manual_seed,
    set_backend,
    set_default_dtype,
)
from .functional.shape import cat, concat, stack
from .functional.shape import (  # torch.flip, torch.roll, ...: minidl/functional/shape.py
    chunk, clone, diagonal, flatten, flip, gather, numel, permute, repeat_interleave, roll, scatter_add, split, tril,
    triu, unflatten,
)
from .functional.creation import (  # mdl.tensor(data), mdl.zeros(2, 3), ...: minidl/functional/creation.py
    tensor, arange, empty, empty_like, eye, full, full_like, linspace, ones, ones_like,
    rand, rand_like, randint, randint_like, randn, randn_like, zeros, zeros_like,
)
from .functional.elementwise import (  # torch.where, torch.maximum, ...: minidl/functional/elementwise.py
    ceil, cos, erf, exp2, floor, floor_divide, isfinite, isinf, isnan, lerp, log2, log10, logaddexp, masked_fill,
    maximum, minimum, remainder, round, rsqrt, sign, sin, tan, trunc, where,
)
from .functional.reduce import (  # torch.prod, torch.var, torch.sort, ...: minidl/functional/reduce.py
    all, any, argmax, argmin, argsort, cumsum, logsumexp, prod, sort, std, topk, var,
)
from .functional.einsum import einsum
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .serialization import load, save
from .torch_checkpoint import load_pytorch

from . import functional  # noqa: E402  (the ops; they need Function and Tensor from above)

functional.methods.bind(Tensor)  # Tensor's operators and methods: the table in functional/methods.py
# How many threads the ops' fast paths share their work over (torch.set_num_threads): functional/fast/threads.py
from .functional.fast.threads import get_num_threads, set_num_threads  # noqa: E402

from . import nn, optim  # noqa: E402  (subpackages, after the core names they use)
from . import augment, data, distributed, ensemble, models, train, transfer  # noqa: E402

__version__ = "0.1.0"
