"""The data tests' shared fixtures."""
import pytest

from minidl.data import sources


@pytest.fixture
def no_system(monkeypatch, tmp_path):
    """No installed datasets and an empty cache: only the files a test writes are found."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    monkeypatch.setattr(sources.FASHION_MNIST, "system_dirs", [])
    monkeypatch.setattr(sources.MNIST, "system_dirs", [])
