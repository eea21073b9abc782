"""The transfer-learning experiment at small size: transfer beats training from scratch."""
import sys
from pathlib import Path

import pytest

from minidl.data import sources

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

HAVE_DATA = any(sources.present(d, sources.FASHION_MNIST) for d in sources.candidate_dirs(sources.FASHION_MNIST))


@pytest.mark.skipif(not HAVE_DATA, reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_transfer_beats_from_scratch():
    import transfer_demo

    results = transfer_demo.run(fast=True)
    scratch = results["1. from scratch"]
    transferred = {k: v for k, v in results.items() if k[0] in "234"}
    assert len(transferred) == 4 and all(0.2 < v <= 1 for v in results.values())
    assert max(transferred.values()) > scratch, results
    assert results["2. frozen features + new head"] >= scratch - 0.01, results
