"""The transfer-learning experiment at small size: transfer beats training from scratch."""
import sys
from pathlib import Path

import pytest


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))



@pytest.mark.needs_fashion_mnist
def test_transfer_beats_from_scratch():
    import transfer_demo

    results = transfer_demo.run(fast=True)
    scratch = results["1. from scratch"]
    transferred = {k: v for k, v in results.items() if k[0] in "234"}
    assert len(transferred) == 4 and all(0.2 < v <= 1 for v in results.values())
    assert max(transferred.values()) > scratch, results
    assert results["2. frozen features + new head"] >= scratch - 0.01, results
