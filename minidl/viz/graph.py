"""Draw the computational graph behind a tensor: as Graphviz DOT text, or as a picture.

    dot = to_dot(loss)               # text in the DOT language
    save_graph(loss, "graph.png")    # a PNG: by Graphviz's `dot` when installed, else by matplotlib
    draw_graph(loss, "graph.png")    # always matplotlib (pip install 'minidl[plot]')

Tensors are ellipses (name or shape; leaves that require grad in light blue),
Functions are boxes, and the arrows follow the data: input -> function -> output.
backward walks the same arrows the other way.

matplotlib's drawing places each node in a column by its depth (the longest
path from a leaf to it), so the data flows left to right as in Graphviz's.
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


def _walk(root: Tensor):
    """Each (function, output tensor) of the graph behind ``root``, once per output, without recursion.

    A function is yielded first with ``new=True`` (then its inputs are on the
    stack to visit), again with ``new=False`` for each other output it made.
    """
    stack, seen = [root], set()
    while stack:
        t = stack.pop()
        fn = t.creator
        if fn is None:
            continue
        new = id(fn) not in seen
        if new:
            seen.add(id(fn))
            stack.extend(getattr(fn, "inputs", ()))
        yield fn, t, new


def to_dot(root: Tensor, show_values: bool = False) -> str:
    """The graph that produced ``root`` in DOT. Walks the graph without recursion."""
    lines = ["digraph minidl {", '  rankdir="LR";', '  node [fontname="Helvetica", fontsize=10];']
    seen_t = set()

    def add_tensor(t: Tensor) -> None:
        if id(t) in seen_t:
            return
        seen_t.add(id(t))
        label = _tensor_label(t)
        if show_values and t.size <= 4:
            label += "\\n" + " ".join(f"{v:.3g}" for v in t.numpy().ravel())
        style = ', style=filled, fillcolor="lightblue"' if t.is_leaf and t.requires_grad else ""
        lines.append(f'  t{id(t)} [label="{label}", shape=ellipse{style}];')

    add_tensor(root)
    for fn, t, new in _walk(root):
        if new:
            lines.append(f'  f{id(fn)} [label="{type(fn).__name__}", shape=box, style=filled, fillcolor="khaki"];')
            for x in getattr(fn, "inputs", ()):
                add_tensor(x)
                lines.append(f"  t{id(x)} -> f{id(fn)};")
        lines.append(f"  f{id(fn)} -> t{id(t)};")
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))  # each edge once, order kept


def save_graph(root: Tensor, path: Any, show_values: bool = False) -> Optional[Path]:
    """Write ``path`` with a .dot beside it; render PNG/SVG/PDF with Graphviz's `dot`.

    Without Graphviz the picture is drawn with matplotlib (:func:`draw_graph`)
    instead. Returns the picture, or None when neither is installed (the .dot
    is still written: paste it into any Graphviz viewer, or
    ``pip install 'minidl[plot]'``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(to_dot(root, show_values))
    if path.suffix == ".dot":
        return dot_path
    exe = shutil.which("dot")
    if exe is not None:
        subprocess.run([exe, f"-T{path.suffix.lstrip('.')}", str(dot_path), "-o", str(path)], check=True)
        return path
    try:
        return draw_graph(root, path)
    except ImportError:
        return None


def graph_parts(root: Tensor) -> tuple:
    """The graph behind ``root`` as plain data: (nodes, edges).

    ``nodes`` maps a key to (kind, label), kind "tensor", "leaf" (a leaf that
    requires grad) or "function"; ``edges`` lists (from key, to key) along the
    data's direction. Walks without recursion.
    """
    nodes: dict = {}
    edges: list = []

    def add_tensor(t: Tensor) -> str:
        key = f"t{id(t)}"
        if key not in nodes:
            kind = "leaf" if t.is_leaf and t.requires_grad else "tensor"
            label = f"{t.name}\n{tuple(t.shape)}" if t.name else f"{tuple(t.shape)}"
            if t.creator is None and not t.name and t.size == 1:  # a constant, such as the 2 of x ** 2
                label = f"{t.numpy().item():g}"
            nodes[key] = (kind, label)
        return key

    add_tensor(root)
    for fn, t, new in _walk(root):
        fkey = f"f{id(fn)}"
        if new:
            nodes[fkey] = ("function", type(fn).__name__)
            for x in getattr(fn, "inputs", ()):
                edges.append((add_tensor(x), fkey))
        edges.append((fkey, f"t{id(t)}"))
    return nodes, list(dict.fromkeys(edges))


def _columns(nodes: dict, edges: list) -> dict:
    """Each node's column: 1 + the deepest node pointing to it; inputs just before their first use."""
    parents: dict = {key: [] for key in nodes}
    for a, b in edges:
        parents[b].append(a)
    depth: dict = {}
    for start in nodes:  # iterative depth-first search; the graph has no cycles
        stack = [start]
        while stack:
            key = stack[-1]
            pending = [p for p in parents[key] if p not in depth]
            if pending:
                stack.extend(pending)
            else:
                depth[key] = 1 + max((depth[p] for p in parents[key]), default=-1)
                stack.pop()
    for a, b in edges:  # an input nothing made sits just before its first use, not far left
        if not parents[a]:
            depth[a] = max(depth[a], min(depth[c] for x, c in edges if x == a) - 1)
    return depth


_STYLE = {"leaf": ("round,pad=0.3", "lightblue"), "tensor": ("round,pad=0.3", "white"),
          "function": ("square,pad=0.3", "khaki")}


def draw_graph(root: Tensor, path: Any) -> Path:
    """Draw the graph behind ``root`` with matplotlib into ``path`` (PNG, SVG, PDF); returns the path."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("draw_graph needs matplotlib, which is not installed: pip install 'minidl[plot]'") from None
    nodes, edges = graph_parts(root)
    depth = _columns(nodes, edges)
    n_cols = max(depth.values()) + 1
    by_col: dict = {}
    for key in nodes:
        by_col.setdefault(depth[key], []).append(key)
    n_rows = max(len(keys) for keys in by_col.values())
    where = {}  # key -> (x, y): x the column, y counted from the top, each column centred
    for col, keys in by_col.items():
        offset = (n_rows - len(keys)) / 2
        for row, key in enumerate(keys):
            where[key] = (col, n_rows - 1 - (row + offset))
    fig = Figure(figsize=(1.6 * n_cols + 0.6, 0.9 * n_rows + 0.6))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-0.7, n_rows - 0.3)
    ax.axis("off")
    for a, b in edges:
        ax.annotate("", xy=where[b], xytext=where[a],
                    arrowprops=dict(arrowstyle="->", color="0.3", shrinkA=22, shrinkB=22))
    for key, (kind, label) in nodes.items():
        box, colour = _STYLE[kind]
        ax.text(*where[key], label, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle=box, facecolor=colour, edgecolor="0.3"))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
