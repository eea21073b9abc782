"""Cross-check rows of the activations added for issue 10: ELU, SELU, CELU, SiLU, GELU, Mish,
Softplus, Softsign, Hardswish, Hardsigmoid, Hardtanh, LogSigmoid, PReLU (inputs away from kinks)."""
import minidl.nn.functional as F
from cases import TF, case, np


def spread(rng, shape):
    """Values over (-5, 5), none within 0.05 of a kink (0, +-1, +-3)."""
    a = rng.uniform(-5, 5, shape)
    for kink in (0.0, 1.0, -1.0, 3.0, -3.0):
        a = np.where(np.abs(a - kink) < 0.05, kink + 0.2, a)
    return a


for name in ("elu", "selu", "celu", "silu", "gelu", "mish", "softplus", "softsign", "hardswish", "hardsigmoid",
             "hardtanh", "logsigmoid"):
    case(name, getattr(F, name), getattr(TF, name), ((4, 5),), make=spread)
for alpha in (0.5, 2.0):
    case(f"elu alpha={alpha}", lambda a, al=alpha: F.elu(a, al), lambda a, al=alpha: TF.elu(a, al), ((4, 5),),
         make=spread)
    case(f"celu alpha={alpha}", lambda a, al=alpha: F.celu(a, al), lambda a, al=alpha: TF.celu(a, al), ((4, 5),),
         make=spread)
case("gelu approximate=tanh", lambda a: F.gelu(a, approximate="tanh"), lambda a: TF.gelu(a, approximate="tanh"),
     ((4, 5),), make=spread)
for beta, threshold in ((2.0, 3.0), (0.5, 1.0)):  # some inputs past the threshold (the linear part)
    case(f"softplus beta={beta} threshold={threshold}", lambda a, b=beta, t=threshold: F.softplus(a, b, t),
         lambda a, b=beta, t=threshold: TF.softplus(a, b, t), ((4, 5),), make=spread)
case("hardtanh min_val=-2 max_val=0.5", lambda a: F.hardtanh(a, -2.0, 0.5), lambda a: TF.hardtanh(a, -2.0, 0.5),
     ((4, 5),), make=lambda rng, shape: rng.choice([-3.1, -1.2, 0.2, 0.4, 1.7], shape) + rng.uniform(0, 0.05, shape))
case("logsigmoid large |x|", lambda a: F.logsigmoid(a * 300), lambda a: TF.logsigmoid(a * 300), ((4, 5),))
case("prelu one slope", F.prelu, TF.prelu, ((2, 3, 4), (1,)), make=spread)
case("prelu per channel (N, C, H, W)", F.prelu, TF.prelu, ((2, 3, 4, 2), (3,)), make=spread)
case("prelu per channel (N, C)", F.prelu, TF.prelu, ((5, 3), (3,)), make=spread)
case("prelu Tensor method", lambda x, w: x.prelu(w), lambda x, w: x.prelu(w), ((5, 3), (3,)), make=spread)
