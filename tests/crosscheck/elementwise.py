"""Cross-check rows of the elementwise ops (minidl/functional/elementwise.py): picks, trigonometry,
rounding, exponentials and logarithms, NaN tests, // and %."""
import minidl.nn.functional as F
from cases import away_from_zero, case, np, positive, torch


def ties(rng, shape):
    """Whole numbers in [-2, 2]: many exact ties between two inputs (the half-and-half gradient)."""
    return rng.integers(-2, 3, shape).astype(np.float64)


# ------------------------------------------------------------------ picks
for name in ("maximum", "minimum"):
    case(f"{name}", getattr(F, name), getattr(torch, name), ((3, 4), (3, 4)))
    case(f"{name} broadcast", getattr(F, name), getattr(torch, name), ((3, 4), (4,)))
    case(f"{name} ties", getattr(F, name), getattr(torch, name), ((4, 5), (4, 5)), make=ties)
    case(f"{name} scalar", lambda a, n=name: getattr(F, n)(a, 0.3),
         lambda a, n=name: getattr(torch, n)(a, torch.tensor(0.3, dtype=a.dtype)), ((3, 4),))
case("where", lambda a, b, c: F.where(c, a, b), lambda a, b, c: torch.where(c, a, b), ((3, 4), (3, 4)),
     constants=lambda rng: (rng.random((3, 4)) > 0.5,))
case("where broadcast", lambda a, b, c: F.where(c, a, b), lambda a, b, c: torch.where(c, a, b), ((3, 1), (4,)),
     constants=lambda rng: (rng.random((3, 4)) > 0.5,))
case("where scalar other", lambda a, c: F.where(c, a, 0.0), lambda a, c: torch.where(c, a, 0.0), ((3, 4),),
     constants=lambda rng: (rng.random((3, 4)) > 0.5,))
case("Tensor.where", lambda a, b, c: a.where(c, b), lambda a, b, c: a.where(c, b), ((3, 4), (3, 4)),
     constants=lambda rng: (rng.random((3, 4)) > 0.5,))
case("masked_fill", lambda a, m: F.masked_fill(a, m, -1.5), lambda a, m: a.masked_fill(m, -1.5), ((3, 4),),
     constants=lambda rng: (rng.random((3, 4)) > 0.5,))
case("masked_fill broadcast mask", lambda a, m: a.masked_fill(m, 2.0), lambda a, m: a.masked_fill(m, 2.0),
     ((3, 4),), constants=lambda rng: (rng.random((4,)) > 0.5,))
case("masked_fill -inf (attention mask)", lambda a, m: F.softmax(a.masked_fill(m, -np.inf), axis=-1),
     lambda a, m: torch.softmax(a.masked_fill(m, -np.inf), dim=-1), ((3, 4),),
     constants=lambda rng: (np.array([False, True, False, True]),))

# ------------------------------------------------------------------ trigonometry, exponentials, logarithms
case("sin", F.sin, torch.sin, ((3, 4),))
case("cos", F.cos, torch.cos, ((3, 4),))
case("tan", F.tan, torch.tan, ((3, 4),), make=lambda rng, s: rng.uniform(-1.3, 1.3, s))
case("log2", F.log2, torch.log2, ((3, 4),), make=positive)
case("log10", F.log10, torch.log10, ((3, 4),), make=positive)
case("exp2", F.exp2, torch.exp2, ((3, 4),))
case("rsqrt", F.rsqrt, torch.rsqrt, ((3, 4),), make=positive)
case("erf", F.erf, torch.erf, ((3, 4),), make=lambda rng, s: rng.uniform(-4, 4, s), rtol=1e-12, atol=1e-14)
case("erf tails", F.erf, torch.erf, ((5,),), make=lambda rng, s: np.array([-9.0, -5.5, 0.0, 5.5, 9.0]))
case("logaddexp", F.logaddexp, torch.logaddexp, ((3, 4), (3, 4)))
case("logaddexp broadcast large", lambda a, b: F.logaddexp(a * 500, b), lambda a, b: torch.logaddexp(a * 500, b),
     ((3, 4), (4,)))
case("lerp scalar weight", lambda a, b: F.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), ((3, 4), (3, 4)))
case("lerp tensor weight", F.lerp, torch.lerp, ((3, 4), (3, 4), (3, 4)))
case("lerp broadcast weight", F.lerp, torch.lerp, ((3, 4), (3, 4), (4,)))

# ------------------------------------------------------------------ rounding: gradient 0
rounding_values = lambda rng, s: rng.uniform(-3, 3, s) + 0.01  # noqa: E731  (away from the jumps)
for name in ("floor", "ceil", "trunc", "sign"):
    case(name, getattr(F, name), getattr(torch, name), ((3, 4),),
         make=away_from_zero if name == "sign" else rounding_values)
case("round", F.round, torch.round, ((3, 4),), make=lambda rng, s: rng.uniform(-3, 3, s) + 0.1)
case("round halves to even", F.round, torch.round, ((6,),),
     make=lambda rng, s: np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]))
case("round decimals=2", lambda a: F.round(a, decimals=2), lambda a: torch.round(a, decimals=2), ((3, 4),))

# ------------------------------------------------------------------ NaN and infinity (no gradient)
special = lambda rng, s: np.array([0.0, np.nan, np.inf, -np.inf, -1.5, 3.0])  # noqa: E731
for name in ("isnan", "isinf", "isfinite"):
    case(name, getattr(F, name), getattr(torch, name), ((6,),), make=special, grad=False)

# ------------------------------------------------------------------ // and % (floats here; integers in the tests)
case("floor_divide floats", F.floor_divide, torch.floor_divide, ((3, 4), (3, 4)), make=away_from_zero, grad=False)
case("floor_divide // operator", lambda a, b: a // b, lambda a, b: a // b, ((3, 4), (4,)), make=away_from_zero,
     grad=False)
case("remainder floats", F.remainder, torch.remainder, ((3, 4), (3, 4)), make=away_from_zero, rtol=1e-6, atol=1e-12)
case("remainder % operator", lambda a: a % 0.7, lambda a: a % 0.7, ((3, 4),), make=away_from_zero,
     rtol=1e-6, atol=1e-12)
case("remainder rmod", lambda a: 5.0 % a, lambda a: 5.0 % a, ((3, 4),), make=away_from_zero, grad=False,
     rtol=1e-6, atol=1e-12)  # (PyTorch has no gradient of number % tensor)
