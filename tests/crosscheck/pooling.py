"""Cross-check rows of pooling (max, avg, adaptive avg), max unpooling and interpolate (nearest, bilinear).

The shapes are chosen so that ceil_mode adds a last window that hangs over
the input (7 rows, kernel 2, stride 2), and so that interpolate meets every
case of its sampling rule: enlarging and shrinking, integer and
non-integer scale factors, an axis that keeps its size.
"""
import minidl.nn.functional as F
from cases import TF, case, distinct, np, torch

# ------------------------------------------------------------------ max and avg pooling
for k, s, p in ((2, None, 0), (3, 2, 1), (3, 1, 0), (2, 1, 1), ((2, 3), (1, 2), (1, 1))):
    case(f"max_pool2d k={k} s={s} p={p}", lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p),
         lambda x, k=k, s=s, p=p: TF.max_pool2d(x, k, s, p), ((2, 3, 7, 8),), make=distinct)
    for include in (True, False):
        case(f"avg_pool2d k={k} s={s} p={p} count_include_pad={include}",
             lambda x, k=k, s=s, p=p, c=include: F.avg_pool2d(x, k, s, p, count_include_pad=c),
             lambda x, k=k, s=s, p=p, c=include: TF.avg_pool2d(x, k, s, p, count_include_pad=c), ((2, 3, 7, 8),))

MAX_OPTIONS = [  # (kernel, stride, padding, dilation, ceil_mode)
    (2, 2, 0, 1, True), (3, 2, 1, 1, True), ((3, 2), (2, 3), (1, 1), 1, True), (2, 1, 0, 2, False),
    (3, 2, 1, 2, False), (3, 2, 1, 2, True), ((2, 3), 1, (1, 0), (2, 1), True), (2, 3, 1, 3, True),
]
for k, s, p, d, ceil in MAX_OPTIONS:
    tag = f"k={k} s={s} p={p} dilation={d} ceil_mode={ceil}"
    case(f"max_pool2d {tag}", lambda x, o=(k, s, p, d, ceil): F.max_pool2d(x, *o),
         lambda x, o=(k, s, p, d, ceil): TF.max_pool2d(x, *o), ((2, 3, 7, 8),), make=distinct)
    case(f"max_pool2d return_indices {tag}", lambda x, o=(k, s, p, d, ceil): F.max_pool2d(x, *o, True)[1],
         lambda x, o=(k, s, p, d, ceil): TF.max_pool2d(x, *o, True)[1], ((2, 3, 7, 8),), make=distinct, grad=False)

AVG_OPTIONS = [  # (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    (2, 2, 0, True, True, None), (3, 2, 1, True, True, None), (3, 2, 1, True, False, None),
    ((3, 2), (2, 3), (1, 1), True, True, None), ((3, 2), (2, 3), (1, 1), True, False, None),
    (3, 2, 1, False, True, 5), (3, 2, 1, True, False, 2), (2, 3, 1, True, True, None),
]
for options in AVG_OPTIONS:
    case(f"avg_pool2d k, s, p, ceil_mode, count_include_pad, divisor_override = {options}",
         lambda x, o=options: F.avg_pool2d(x, *o), lambda x, o=options: TF.avg_pool2d(x, *o), ((2, 3, 7, 8),))

for size in (1, 3, (2, 4), (5, 7)):
    case(f"adaptive_avg_pool2d {size}", lambda x, o=size: F.adaptive_avg_pool2d(x, o),
         lambda x, o=size: TF.adaptive_avg_pool2d(x, o), ((2, 3, 7, 9),))


# ------------------------------------------------------------------ max unpooling
def pooled_indices(shape, k, s, p):
    """The indices max_pool2d gives on a random input of ``shape``: what unpooling meets in use."""
    def draw(rng):
        return (TF.max_pool2d(torch.tensor(distinct(rng, shape)), k, s, p, return_indices=True)[1].numpy(),)
    return draw


UNPOOL_OPTIONS = [  # (input of the pooling, kernel, stride, padding, output_size)
    ((2, 3, 8, 8), 2, None, 0, None), ((2, 3, 7, 8), 2, None, 0, (7, 8)), ((2, 3, 7, 7), 3, 2, 1, None),
    ((2, 3, 8, 7), 3, 2, 1, (2, 3, 8, 7)), ((1, 2, 6, 9), (2, 3), (2, 3), 0, None),
]
for shape, k, s, p, size in UNPOOL_OPTIONS:
    pooled = tuple(TF.max_pool2d(torch.zeros(shape), k, s, p).shape)
    case(f"max_unpool2d of {shape} k={k} s={s} p={p} output_size={size}",
         lambda x, i, o=(k, s, p, size): F.max_unpool2d(x, i, *o),
         lambda x, i, o=(k, s, p, size): TF.max_unpool2d(x, i, *o), (pooled,), constants=pooled_indices(shape, k, s, p))


# ------------------------------------------------------------------ interpolate
RESIZES = [dict(size=(9, 5)), dict(size=(3, 4)), dict(size=7), dict(scale_factor=2), dict(scale_factor=(1.5, 0.5)),
           dict(scale_factor=(0.7, 2.3)), dict(scale_factor=(1.1, 3)), dict(size=(1, 1))]
for resize in RESIZES:
    for mode, corners in (("nearest", None), ("bilinear", False), ("bilinear", True)):
        case(f"interpolate {resize} mode={mode} align_corners={corners}",
             lambda x, r=resize, m=mode, a=corners: F.interpolate(x, **r, mode=m, align_corners=a),
             lambda x, r=resize, m=mode, a=corners: TF.interpolate(x, **r, mode=m, align_corners=a), ((2, 3, 5, 6),))
case("interpolate bilinear align_corners=None (False)", lambda x: F.interpolate(x, (4, 9), mode="bilinear"),
     lambda x: TF.interpolate(x, (4, 9), mode="bilinear"), ((1, 2, 5, 6),))
