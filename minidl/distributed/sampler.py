"""PyTorch's DistributedSampler: which shard of every epoch a rank's DataLoader yields.

    sampler = DistributedSampler(train, shuffle=True, seed=0)   # ranks from init_process_group()
    loader = DataLoader(train, batch_size=64, sampler=sampler)

The sharding itself is the loader's (``DataLoader(num_replicas=, rank=)``,
documented there): this object carries its settings in PyTorch's spelling.
"""
from __future__ import annotations

from typing import Any, Optional

from ..validate import positive_int
from .comm import default_group


class DistributedSampler:
    """Rank ``rank``'s shard of ``dataset``, out of ``num_replicas`` (None: the default group's).

    All ranks draw the same permutation from (seed, epoch) when ``shuffle``; it
    is padded by repeating its start to a multiple of num_replicas, or with
    ``drop_last`` cut down to one, and rank r takes every num_replicas-th sample from r.
    """

    def __init__(self, dataset: Any, num_replicas: Optional[int] = None, rank: Optional[int] = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            group = default_group("DistributedSampler")
            num_replicas = group.world_size if num_replicas is None else num_replicas
            rank = group.rank if rank is None else rank
        positive_int(num_replicas, "num_replicas", "DistributedSampler")
        positive_int(rank, "rank", "DistributedSampler", minimum=0)
        if rank >= num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, num_replicas), got rank {rank} of {num_replicas}")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)

    def __len__(self) -> int:
        """The samples of one rank's shard."""
        n = len(self.dataset)
        return n // self.num_replicas if self.drop_last else -(-n // self.num_replicas)
