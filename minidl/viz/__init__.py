"""Pictures: the computational graph, training curves, image grids."""
from .graph import save_graph, to_dot
