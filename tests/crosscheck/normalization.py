"""Cross-check rows of layer, group and instance normalisation, and of the embedding lookup."""
import minidl.nn.functional as F
from cases import TF, _t, case, np

# ------------------------------------------------------------------ layer norm
for shape, ns in (((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 3, 2, 2), (3, 2, 2))):
    case(f"layer_norm {shape} {ns}", lambda x, n=ns: F.layer_norm(x, n), lambda x, n=ns: TF.layer_norm(x, n), (shape,))
    case(f"layer_norm affine {shape} {ns}", lambda x, w, b, n=ns: F.layer_norm(x, n, w, b, eps=1e-3),
         lambda x, w, b, n=ns: TF.layer_norm(x, n, w, b, eps=1e-3), (shape, ns, ns))
case("layer_norm weight only", lambda x, w: F.layer_norm(x, 4, w), lambda x, w: TF.layer_norm(x, (4,), w),
     ((3, 4), (4,)))

# ------------------------------------------------------------------ group norm
for shape, groups in (((2, 4), 2), ((2, 6, 5), 3), ((2, 4, 3, 3), 1), ((2, 4, 3, 3), 2), ((2, 4, 3, 3), 4)):
    case(f"group_norm {shape} groups={groups}", lambda x, g=groups: F.group_norm(x, g),
         lambda x, g=groups: TF.group_norm(x, g), (shape,))
    case(f"group_norm affine {shape} groups={groups}", lambda x, w, b, g=groups: F.group_norm(x, g, w, b),
         lambda x, w, b, g=groups: TF.group_norm(x, g, w, b), (shape, shape[1:2], shape[1:2]))

# ------------------------------------------------------------------ instance norm
for shape in ((2, 3, 5), (2, 3, 3, 4)):
    case(f"instance_norm {shape}", F.instance_norm, TF.instance_norm, (shape,))
    case(f"instance_norm affine {shape}", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
         lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), (shape, shape[1:2], shape[1:2]))
    case(f"instance_norm running stats, use_input_stats=False {shape}",
         lambda x, m, v: F.instance_norm(x, m, v, use_input_stats=False),
         lambda x, m, v: TF.instance_norm(x, _t(m), _t(v), use_input_stats=False), (shape,),
         constants=lambda rng, c=shape[1]: (rng.standard_normal(c), rng.uniform(0.5, 2, c)))

# ------------------------------------------------------------------ embedding
for shape in ((7,), (3, 4)):
    for pad in (None, 2):
        case(f"embedding indices {shape} padding_idx={pad}", lambda w, i, p=pad: F.embedding(i, w, p),
             lambda w, i, p=pad: TF.embedding(i, w, p), ((5, 3),),
             constants=lambda rng, s=shape: (rng.integers(0, 5, s),))
