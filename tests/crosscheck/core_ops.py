"""Cross-check rows of the ops minidl started with: arithmetic, reductions, shapes, activations,
linear, losses, padding and batch norm (convolution: convolution.py; pooling: pooling.py)."""
import minidl.nn.functional as F
from cases import TF, _t, away_from_zero, case, distinct, labels, labels_and_weights, np, positive, torch

# ------------------------------------------------------------------ arithmetic
for shape_a, shape_b in (((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1))):
    tag = f"{shape_a}{shape_b}"
    case(f"add {tag}", lambda a, b: a + b, lambda a, b: a + b, (shape_a, shape_b))
    case(f"sub {tag}", lambda a, b: a - b, lambda a, b: a - b, (shape_a, shape_b))
    case(f"mul {tag}", lambda a, b: a * b, lambda a, b: a * b, (shape_a, shape_b))
    case(f"div {tag}", lambda a, b: a / b, lambda a, b: a / b, (shape_a, shape_b), make=away_from_zero)
case("neg", lambda a: -a, lambda a: -a, ((3, 4),))
case("pow scalar 3", lambda a: a ** 3, lambda a: a ** 3, ((3, 4),))
case("pow scalar 0.5", lambda a: a ** 0.5, lambda a: a ** 0.5, ((3, 4),), make=positive)
case("pow scalar -2", lambda a: a ** -2, lambda a: a ** -2, ((3, 4),), make=away_from_zero)
case("pow tensor", lambda a, b: a ** b, lambda a, b: a ** b, ((3, 4), (3, 4)), make=positive)
case("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, ((3, 4),))
case("exp", F.exp, torch.exp, ((3, 4),))
case("log", F.log, torch.log, ((3, 4),), make=positive)
case("sqrt", F.sqrt, torch.sqrt, ((3, 4),), make=positive)
case("abs", F.abs, torch.abs, ((3, 4),), make=away_from_zero)
case("clip both", lambda a: F.clip(a, -0.5, 0.5), lambda a: torch.clamp(a, -0.5, 0.5), ((4, 5),), make=distinct)
case("clip min", lambda a: F.clip(a, min=0.3), lambda a: torch.clamp(a, min=0.3), ((4, 5),), make=distinct)
case("clip max", lambda a: F.clip(a, max=0.3), lambda a: torch.clamp(a, max=0.3), ((4, 5),), make=distinct)
for sa, sb in (((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)),
               ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2))):
    case(f"matmul {sa}@{sb}", lambda a, b: a @ b, lambda a, b: a @ b, (sa, sb))

# ------------------------------------------------------------------ reductions
for axis, keep in ((None, False), (0, False), (1, True), ((0, 2), False), (-1, True)):
    tag = f"axis={axis} keepdims={keep}"
    case(f"sum {tag}", lambda a, ax=axis, k=keep: F.sum(a, axis=ax, keepdims=k),
         lambda a, ax=axis, k=keep: a.sum() if ax is None else a.sum(dim=ax, keepdim=k), ((2, 3, 4),))
    case(f"mean {tag}", lambda a, ax=axis, k=keep: F.mean(a, axis=ax, keepdims=k),
         lambda a, ax=axis, k=keep: a.mean() if ax is None else a.mean(dim=ax, keepdim=k), ((2, 3, 4),))
    case(f"max {tag}", lambda a, ax=axis, k=keep: F.max(a, axis=ax, keepdims=k),
         lambda a, ax=axis, k=keep: a.max() if ax is None else torch.amax(a, dim=ax, keepdim=k), ((2, 3, 4),),
         make=distinct)
    case(f"min {tag}", lambda a, ax=axis, k=keep: F.min(a, axis=ax, keepdims=k),
         lambda a, ax=axis, k=keep: a.min() if ax is None else torch.amin(a, dim=ax, keepdim=k), ((2, 3, 4),),
         make=distinct)

# ------------------------------------------------------------------ shapes
case("reshape", lambda a: a.reshape(4, 6), lambda a: a.reshape(4, 6), ((2, 3, 4),))
case("reshape -1", lambda a: a.reshape(-1, 2), lambda a: a.reshape(-1, 2), ((2, 3, 4),))
case("transpose permute", lambda a: a.transpose(2, 0, 1), lambda a: a.permute(2, 0, 1), ((2, 3, 4),))
case("T", lambda a: a.T, lambda a: a.permute(*reversed(range(a.ndim))), ((2, 3, 4),))
case("squeeze all", lambda a: F.squeeze(a), lambda a: a.squeeze(), ((2, 1, 4, 1),))
case("squeeze axis", lambda a: F.squeeze(a, 1), lambda a: a.squeeze(1), ((2, 1, 4),))
case("unsqueeze", lambda a: F.unsqueeze(a, 1), lambda a: a.unsqueeze(1), ((2, 4),))
case("unsqueeze -1", lambda a: F.unsqueeze(a, -1), lambda a: a.unsqueeze(-1), ((2, 4),))
case("getitem slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], ((3, 5),))
case("getitem int", lambda a: a[1], lambda a: a[1], ((3, 5),))
case("getitem negative step-free", lambda a: a[:, -2:], lambda a: a[:, -2:], ((3, 5),))
case("getitem repeated index array", lambda a, i: a[i], lambda a, i: a[i], ((4, 3),),
     constants=lambda rng: (np.array([0, 2, 2, 3, 0]),))
case("getitem boolean mask", lambda a, m: a[m], lambda a, m: a[m], ((4, 3),),
     constants=lambda rng: (rng.random((4, 3)) > 0.5,))
case("cat axis 0", lambda a, b: F.cat([a, b], axis=0), lambda a, b: torch.cat([a, b], dim=0), ((2, 3), (4, 3)))
case("cat axis 1", lambda a, b: F.cat([a, b], axis=1), lambda a, b: torch.cat([a, b], dim=1), ((2, 3), (2, 1)))
case("stack", lambda a, b: F.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1), ((2, 3), (2, 3)))

# ------------------------------------------------------------------ activations
case("relu", F.relu, TF.relu, ((4, 5),), make=away_from_zero)
for slope in (0.01, 0.2):
    case(f"leaky_relu {slope}", lambda a, s=slope: F.leaky_relu(a, s), lambda a, s=slope: TF.leaky_relu(a, s),
         ((4, 5),), make=away_from_zero)
case("relu6", F.relu6, TF.relu6, ((4, 5),), make=lambda rng, shape: rng.uniform(-3, 9, shape))
case("sigmoid", F.sigmoid, torch.sigmoid, ((4, 5),))
case("tanh", F.tanh, torch.tanh, ((4, 5),))
for axis in (-1, 0, 1):
    case(f"softmax axis={axis}", lambda a, ax=axis: F.softmax(a, axis=ax), lambda a, ax=axis: TF.softmax(a, dim=ax),
         ((3, 4, 5),))
    case(f"log_softmax axis={axis}", lambda a, ax=axis: F.log_softmax(a, axis=ax),
         lambda a, ax=axis: TF.log_softmax(a, dim=ax), ((3, 4, 5),))
case("softmax large logits", lambda a: F.softmax(a * 500, axis=-1), lambda a: TF.softmax(a * 500, dim=-1), ((3, 4),),
     make=distinct)

# ------------------------------------------------------------------ linear
case("linear", lambda x, w, b: F.linear(x, w, b), TF.linear, ((5, 4), (3, 4), (3,)))
case("linear no bias", lambda x, w: F.linear(x, w), TF.linear, ((5, 4), (3, 4)))
case("linear 3-d input", lambda x, w, b: F.linear(x, w, b), TF.linear, ((2, 5, 4), (3, 4), (3,)))

# ------------------------------------------------------------------ losses
for reduction in ("mean", "sum", "none"):
    case(f"cross_entropy labels {reduction}", lambda x, t, r=reduction: F.cross_entropy(x, t, reduction=r),
         lambda x, t, r=reduction: TF.cross_entropy(x, _t(t), reduction=r), ((6, 5),), constants=labels(6, 5))
    case(f"cross_entropy weight {reduction}",
         lambda x, t, w, r=reduction: F.cross_entropy(x, t, weight=w, reduction=r),
         lambda x, t, w, r=reduction: TF.cross_entropy(x, t, weight=w, reduction=r),
         ((6, 5),), constants=labels_and_weights(6, 5))
    case(f"mse_loss {reduction}", lambda a, b, r=reduction: F.mse_loss(a, b, reduction=r),
         lambda a, b, r=reduction: TF.mse_loss(a, b, reduction=r), ((4, 3), (4, 3)))
    case(f"binary_cross_entropy_with_logits {reduction}",
         lambda x, t, r=reduction: F.binary_cross_entropy_with_logits(x, t, reduction=r),
         lambda x, t, r=reduction: TF.binary_cross_entropy_with_logits(x, t, reduction=r), ((4, 3), (4, 3)),
         make=lambda rng, shape: rng.uniform(0.05, 0.95, shape) if shape == (4, 3) else rng.standard_normal(shape))
for smoothing in (0.1, 0.3):
    case(f"cross_entropy label_smoothing {smoothing}",
         lambda x, t, s=smoothing: F.cross_entropy(x, t, label_smoothing=s),
         lambda x, t, s=smoothing: TF.cross_entropy(x, _t(t), label_smoothing=s), ((6, 5),), constants=labels(6, 5))
    case(f"cross_entropy weight + label_smoothing {smoothing}",
         lambda x, t, w, s=smoothing: F.cross_entropy(x, t, weight=w, label_smoothing=s),
         lambda x, t, w, s=smoothing: TF.cross_entropy(x, t, weight=w, label_smoothing=s),
         ((6, 5),), constants=labels_and_weights(6, 5))
case("cross_entropy (N, C, d1, d2)", lambda x, t: F.cross_entropy(x, t),
     lambda x, t: TF.cross_entropy(x, _t(t)), ((2, 4, 3, 3),), constants=labels(2, 4, (3, 3)))
case("cross_entropy soft targets", lambda x, p: F.cross_entropy(x, p),
     lambda x, p: TF.cross_entropy(x, p), ((6, 5),),
     constants=lambda rng: (rng.dirichlet(np.ones(5), 6),))
case("binary_cross_entropy_with_logits pos_weight",
     lambda x, t, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw),
     lambda x, t, pw: TF.binary_cross_entropy_with_logits(x, t, pos_weight=pw), ((4, 3),),
     constants=lambda rng: (rng.integers(0, 2, (4, 3)).astype(np.float64), rng.uniform(0.5, 3, (3,))))

# ------------------------------------------------------------------ padding
for mode in ("constant", "reflect", "replicate", "circular"):
    for pad_, shape in (((1, 2), (2, 3, 5)), ((2, 1, 0, 3), (2, 3, 4, 5))):  # torch: 3-d for one axis
        case(f"pad {mode} {pad_}", lambda x, m=mode, p=pad_: F.pad(x, p, m, value=0.0 if m != "constant" else 0.7),
             lambda x, m=mode, p=pad_: TF.pad(x, p, m, value=None if m != "constant" else 0.7), (shape,))


# ------------------------------------------------------------------ batch norm
for shape in ((6, 4), (4, 3, 5, 5)):
    case(f"batch_norm training {shape}",
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), (shape, shape[1:2], shape[1:2]))
    case(f"batch_norm eval {shape}",
         lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False),
         lambda x, w, b, m, v: TF.batch_norm(x, _t(m), _t(v), w, b, training=False), (shape, shape[1:2], shape[1:2]),
         constants=lambda rng, c=shape[1]: (rng.standard_normal(c), rng.uniform(0.5, 2, c)))
