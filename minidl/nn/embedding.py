"""nn.Embedding: a learned table of vectors, one row per index (word, token, class)."""
from __future__ import annotations

from typing import Any, Optional

from .. import backend
from ..autograd import Tensor
from ..functional.embedding import check_padding_idx, embedding
from ..validate import positive_int
from . import init
from .module import Module


class Embedding(Module):
    """A lookup table: ``Embedding(10, 3)(indices)`` gives each index's row of ``weight`` (10, 3).

    Input (*) integers in [0, num_embeddings); output (*, embedding_dim).
    ``weight`` is drawn from N(0, 1) as PyTorch does (the default generator:
    ``mdl.manual_seed`` fixes it); the row ``padding_idx``, when given, starts
    at zero and gets no gradient, so it stays zero. The math:
    ``minidl/functional/embedding.py``.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Optional[int] = None,
                 device: Any = None, dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", name)
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", name)
        self.padding_idx = None if padding_idx is None else check_padding_idx(padding_idx, self.num_embeddings, name)
        self.weight = init.empty_parameter((self.num_embeddings, self.embedding_dim), device, dtype, name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), with the padding row set to zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: Optional[int] = None) -> "Embedding":
        """An Embedding holding ``embeddings`` (num_embeddings, D) as its weight; ``freeze``: not trained."""
        data = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if not backend.is_array(data) or data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be a 2-D array or Tensor, "
                             f"got {getattr(data, 'shape', type(data).__name__)}")
        layer = cls(data.shape[0], data.shape[1], padding_idx, device=backend.device_of(data), dtype=data.dtype)
        layer.weight.data[...] = data
        layer.weight.requires_grad_(not freeze)
        return layer
