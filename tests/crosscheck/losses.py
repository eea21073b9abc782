"""Cross-check rows of the losses added for issue 10: binary_cross_entropy, nll_loss, cross_entropy
with ignore_index, 1-D logits and soft targets that get a gradient, smooth_l1_loss, huber_loss, kl_div."""
import warnings

import minidl.nn.functional as F
from cases import TF, _t, case, np


def quietly(fn):
    """fn, without the UserWarning that kl_div(reduction="mean") gives in both frameworks."""
    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args)
    return call


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def log_probabilities(rng, shape):
    return np.log(rng.dirichlet(np.ones(shape[-1]), shape[:-1]))


def labels_with_ignored(rng):
    y = rng.integers(0, 5, 6)
    y[[1, 4]] = -100
    return (y,)


REDUCTIONS = ("mean", "sum", "none")
for r in REDUCTIONS:
    case(f"binary_cross_entropy {r}", lambda x, t, r=r: F.binary_cross_entropy(x, t, reduction=r),
         lambda x, t, r=r: TF.binary_cross_entropy(x, t, reduction=r), ((4, 3), (4, 3)), make=probabilities)
    case(f"binary_cross_entropy weight {r}",
         lambda x, t, w, r=r: F.binary_cross_entropy(x, t, weight=w, reduction=r),
         lambda x, t, w, r=r: TF.binary_cross_entropy(x, t, weight=w, reduction=r), ((4, 3), (4, 3)),
         make=probabilities, constants=lambda rng: (rng.uniform(0.5, 2, (3,)),))
    case(f"nll_loss {r}", lambda x, t, r=r: F.nll_loss(x, t, reduction=r),
         lambda x, t, r=r: TF.nll_loss(x, _t(t), reduction=r), ((6, 5),), make=log_probabilities,
         constants=lambda rng: (rng.integers(0, 5, 6),))
    case(f"nll_loss weight ignore_index {r}",
         lambda x, t, w, r=r: F.nll_loss(x, t, weight=w, reduction=r),
         lambda x, t, w, r=r: TF.nll_loss(x, _t(t), weight=w, reduction=r), ((6, 5),),
         constants=lambda rng: (*labels_with_ignored(rng), rng.uniform(0.5, 2, 5)))
    case(f"cross_entropy ignore_index {r}", lambda x, t, r=r: F.cross_entropy(x, t, reduction=r),
         lambda x, t, r=r: TF.cross_entropy(x, _t(t), reduction=r), ((6, 5),), constants=labels_with_ignored)
    case(f"cross_entropy 1-D logits {r}", lambda x, t, r=r: F.cross_entropy(x, t, reduction=r),
         lambda x, t, r=r: TF.cross_entropy(x, _t(t), reduction=r), ((5,),), constants=lambda rng: (np.array(3),))
    case(f"nll_loss 1-D {r}", lambda x, t, r=r: F.nll_loss(x, t, reduction=r),
         lambda x, t, r=r: TF.nll_loss(x, _t(t), reduction=r), ((5,),), constants=lambda rng: (np.array(1),))
    for beta in (1.0, 0.5, 0.0):
        case(f"smooth_l1_loss beta={beta} {r}", lambda x, t, b=beta, r=r: F.smooth_l1_loss(x, t, r, b),
             lambda x, t, b=beta, r=r: TF.smooth_l1_loss(x, t, reduction=r, beta=b), ((4, 5), (4, 5)))
    for delta in (1.0, 0.3, 2.0):
        case(f"huber_loss delta={delta} {r}", lambda x, t, d=delta, r=r: F.huber_loss(x, t, r, d),
             lambda x, t, d=delta, r=r: TF.huber_loss(x, t, reduction=r, delta=d), ((4, 5), (4, 5)))
for r in ("batchmean", "sum", "none", "mean"):
    case(f"kl_div {r}", quietly(lambda x, t, r=r: F.kl_div(x, t, reduction=r)),
         quietly(lambda x, t, r=r: TF.kl_div(x, t, reduction=r)), ((3, 4), (3, 4)),
         make=lambda rng, shape: rng.dirichlet(np.ones(shape[1]), shape[0]))
    case(f"kl_div log_target {r}", quietly(lambda x, t, r=r: F.kl_div(x, t, reduction=r, log_target=True)),
         quietly(lambda x, t, r=r: TF.kl_div(x, t, reduction=r, log_target=True)), ((3, 4), (3, 4)),
         make=log_probabilities)
case("nll_loss (N, C, d1, d2) ignore_index", lambda x, t: F.nll_loss(x, t, ignore_index=2),
     lambda x, t: TF.nll_loss(x, _t(t), ignore_index=2), ((2, 4, 3, 3),),
     constants=lambda rng: (rng.integers(0, 4, (2, 3, 3)),))
case("cross_entropy ignore_index weight label_smoothing",
     lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2, ignore_index=-100),
     lambda x, t, w: TF.cross_entropy(x, _t(t), weight=w, label_smoothing=0.2, ignore_index=-100), ((6, 5),),
     constants=lambda rng: (*labels_with_ignored(rng), rng.uniform(0.5, 2, 5)))
case("cross_entropy ignore_index=0 (N, C, d1)", lambda x, t: F.cross_entropy(x, t, ignore_index=0),
     lambda x, t: TF.cross_entropy(x, _t(t), ignore_index=0), ((3, 4, 5),),
     constants=lambda rng: (rng.integers(0, 4, (3, 5)),))
for r in REDUCTIONS:
    case(f"cross_entropy soft targets with their gradient {r}",
         lambda x, p, r=r: F.cross_entropy(x, p, reduction=r), lambda x, p, r=r: TF.cross_entropy(x, p, reduction=r),
         ((7, 5), (7, 5)), make=lambda rng, shape: rng.dirichlet(np.ones(5), 7))
case("cross_entropy soft targets gradient weight label_smoothing",
     lambda x, p, w: F.cross_entropy(x, p, weight=w, label_smoothing=0.1),
     lambda x, p, w: TF.cross_entropy(x, p, weight=w, label_smoothing=0.1), ((7, 5), (7, 5)),
     make=lambda rng, shape: rng.dirichlet(np.ones(5), 7), constants=lambda rng: (rng.uniform(0.5, 2, 5),))
case("cross_entropy 1-D logits soft target gradient", lambda x, p: F.cross_entropy(x, p),
     lambda x, p: TF.cross_entropy(x, p), ((5,), (5,)), make=lambda rng, shape: rng.dirichlet(np.ones(5)))
