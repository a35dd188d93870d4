"""Compiled kernels are dropped when any source of the package changes, and only then."""

from detector.kernel_cache import STAMP_NAME, drop_stale_kernels


def _package(tmp_path):
    (tmp_path / "fft.py").write_text("TABLE = 1\n")
    (tmp_path / "salience.py").write_text("def kernel(): pass\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    return cache


def _compiled(cache):
    for name in ("salience.kernel-1.py311.nbi", "salience.kernel-1.py311.1.nbc"):
        (cache / name).write_bytes(b"compiled")


def test_kernels_compiled_from_other_sources_are_dropped(tmp_path):
    cache = _package(tmp_path)
    _compiled(cache)  # compiled before any stamp: of unknown sources
    assert drop_stale_kernels(tmp_path)
    assert not list(cache.glob("*.nb*")) and (cache / STAMP_NAME).exists()


def test_kernels_of_the_same_sources_are_kept(tmp_path):
    cache = _package(tmp_path)
    drop_stale_kernels(tmp_path)
    _compiled(cache)
    assert not drop_stale_kernels(tmp_path)
    assert len(list(cache.glob("*.nb*"))) == 2


def test_editing_a_callee_module_drops_every_kernel(tmp_path):
    cache = _package(tmp_path)
    drop_stale_kernels(tmp_path)
    _compiled(cache)
    (tmp_path / "fft.py").write_text("TABLE = 2\n")  # the kernel's own file is unchanged
    assert drop_stale_kernels(tmp_path)
    assert not list(cache.glob("*.nb*"))
