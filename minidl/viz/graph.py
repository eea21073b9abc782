"""Draw the computational graph behind a tensor, as Graphviz DOT text.

    dot = to_dot(loss)               # text in the DOT language
    save_graph(loss, "graph.png")    # rendered when Graphviz's `dot` is installed

Tensors are ellipses (name or shape; leaves that require grad in light blue),
Functions are boxes, and the arrows follow the data: input -> function -> output.
backward walks the same arrows the other way.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional

from ..autograd import Tensor


def _tensor_label(t: Tensor) -> str:
    name = f"{t.name}\\n" if t.name else ""
    return f"{name}{tuple(t.shape)} {t.dtype}"


def to_dot(root: Tensor, show_values: bool = False) -> str:
    """The graph that produced ``root`` in DOT. Walks the graph without recursion."""
    lines = ["digraph minidl {", '  rankdir="LR";', '  node [fontname="Helvetica", fontsize=10];']
    seen_t, seen_f = set(), set()

    def add_tensor(t: Tensor) -> None:
        if id(t) in seen_t:
            return
        seen_t.add(id(t))
        label = _tensor_label(t)
        if show_values and t.size <= 4:
            label += "\\n" + " ".join(f"{v:.3g}" for v in t.numpy().ravel())
        style = ', style=filled, fillcolor="lightblue"' if t.is_leaf and t.requires_grad else ""
        lines.append(f'  t{id(t)} [label="{label}", shape=ellipse{style}];')

    stack = [root]
    add_tensor(root)
    while stack:
        t = stack.pop()
        fn = t.creator
        if fn is None:
            continue
        if id(fn) not in seen_f:
            seen_f.add(id(fn))
            lines.append(f'  f{id(fn)} [label="{type(fn).__name__}", shape=box, style=filled, fillcolor="khaki"];')
            for x in getattr(fn, "inputs", ()):
                add_tensor(x)
                lines.append(f"  t{id(x)} -> f{id(fn)};")
                stack.append(x)
        lines.append(f"  f{id(fn)} -> t{id(t)};")
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))  # each edge once, order kept


def save_graph(root: Tensor, path: Any, show_values: bool = False) -> Optional[Path]:
    """Write ``path`` with a .dot beside it; render PNG/SVG/PDF when `dot` is installed.

    Returns the rendered file, or None when Graphviz is missing (the .dot is still written).
    """
    path = Path(path)
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(to_dot(root, show_values))
    if path.suffix == ".dot":
        return dot_path
    exe = shutil.which("dot")
    if exe is None:
        return None
    subprocess.run([exe, f"-T{path.suffix.lstrip('.')}", str(dot_path), "-o", str(path)], check=True)
    return path
