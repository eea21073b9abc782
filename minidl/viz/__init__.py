"""Pictures: the computational graph, training curves, image grids."""
from .curves import save_curves
from .graph import save_graph, to_dot
from .images import save_grid, to_uint8
