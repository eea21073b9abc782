"""Pictures: the computational graph, training curves, image grids."""
from .curves import save_curves
from .graph import draw_graph, graph_parts, save_graph, to_dot
from .images import save_grid, to_uint8
