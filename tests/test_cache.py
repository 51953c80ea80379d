"""Resized-image cache: contents, reuse, rebuild on change, atomic builds, unreadable files."""

import os
import pickle

import numpy as np
import pytest
from PIL import Image

from src.datasets import cache as cache_module
from src.datasets.cache import open_resized_cache


@pytest.fixture
def image_root(tmp_path):
    """Six small JPEGs of different sizes under <tmp>/data/<id>/."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        relative = f"{i % 2:04d}/{i:04d}.jpg"
        os.makedirs(root / os.path.dirname(relative), exist_ok=True)
        size = (20 + 3 * i, 40 + i)
        Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)).save(root / relative)
        paths.append(relative)
    return str(root), paths


def _pil_resized(path, height, width):
    return np.asarray(Image.open(path).convert("RGB").resize((width, height), Image.BILINEAR))


def _files(folder):
    return sorted(os.listdir(folder))


def test_cache_holds_pil_bilinear_resized_images(image_root, tmp_path):
    root, paths = image_root
    cache = open_resized_cache(root, paths, 16, 8, str(tmp_path / "cache"), show_progress=False)
    assert cache.images.shape == (6, 16, 8, 3) and cache.images.dtype == np.uint8
    for i, path in enumerate(paths):
        np.testing.assert_array_equal(cache.images[i], _pil_resized(os.path.join(root, path), 16, 8))
    np.testing.assert_array_equal(cache.read([3, 1]), cache.images[[3, 1]])
    assert cache.unreadable == {}


def test_cache_is_reused_without_decoding(image_root, tmp_path, monkeypatch):
    root, paths = image_root
    folder = str(tmp_path / "cache")
    first = open_resized_cache(root, paths, 16, 8, folder, show_progress=False)

    def no_decoding(*args):
        raise AssertionError("a valid cache must not be rebuilt")

    monkeypatch.setattr(cache_module, "read_resized", no_decoding)
    second = open_resized_cache(root, paths, 16, 8, folder, show_progress=False)
    assert second.npy_path == first.npy_path
    np.testing.assert_array_equal(second.images, first.images)


def test_cache_is_rebuilt_when_a_source_changes(image_root, tmp_path):
    root, paths = image_root
    folder = str(tmp_path / "cache")
    old = open_resized_cache(root, paths, 16, 8, folder, show_progress=False)
    changed = os.path.join(root, paths[2])
    Image.new("RGB", (20, 40), (255, 0, 0)).save(changed)
    os.utime(changed, ns=(1, 1))  # a different modification time even on coarse-clock file systems
    new = open_resized_cache(root, paths, 16, 8, folder, show_progress=False)
    assert new.npy_path != old.npy_path
    np.testing.assert_array_equal(new.images[2], _pil_resized(changed, 16, 8))
    assert np.abs(new.images[2].astype(int) - [255, 0, 0]).max() <= 3  # red, up to JPEG error
    assert not os.path.exists(old.npy_path), "the outdated cache of the same list is removed"
    # A different size or image list is a different cache, kept beside this one.
    other = open_resized_cache(root, paths[:3], 16, 8, folder, show_progress=False)
    assert os.path.exists(new.npy_path) and os.path.exists(other.npy_path)


def test_crash_while_building_leaves_no_valid_cache(image_root, tmp_path, monkeypatch):
    root, paths = image_root
    folder = str(tmp_path / "cache")
    real_read = cache_module.read_resized
    calls = []

    def crash_on_fourth(path, height, width):
        calls.append(path)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_read(path, height, width)

    monkeypatch.setattr(cache_module, "read_resized", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        open_resized_cache(root, paths, 16, 8, folder, show_progress=False)
    assert not [name for name in _files(folder) if name.endswith((".npy", ".json"))]
    monkeypatch.setattr(cache_module, "read_resized", real_read)
    cache = open_resized_cache(root, paths, 16, 8, folder, show_progress=False)
    np.testing.assert_array_equal(cache.images[5], _pil_resized(os.path.join(root, paths[5]), 16, 8))
    assert not [name for name in _files(folder) if ".tmp" in name], "leftovers of the crash are removed"


def test_array_without_its_index_is_rebuilt(image_root, tmp_path, monkeypatch):
    root, paths = image_root
    folder = str(tmp_path / "cache")
    cache = open_resized_cache(root, paths, 16, 8, folder, show_progress=False)
    os.remove(cache.npy_path[:-len(".npy")] + ".json")  # as if the build died after renaming the array
    calls = []
    real_read = cache_module.read_resized
    monkeypatch.setattr(cache_module, "read_resized", lambda *args: calls.append(1) or real_read(*args))
    open_resized_cache(root, paths, 16, 8, folder, show_progress=False)
    assert len(calls) == len(paths)


def test_unreadable_files_are_recorded_and_reported_on_reuse(image_root, tmp_path):
    root, paths = image_root
    with open(os.path.join(root, paths[1]), "wb") as file:
        file.write(b"\xff\xd8\xff\xe0 not really a jpeg")
    folder = str(tmp_path / "cache")
    cache = open_resized_cache(root, paths + ["0000/missing.jpg"], 16, 8, folder, show_progress=False)
    assert sorted(cache.unreadable) == sorted([paths[1], "0000/missing.jpg"])
    assert (cache.images[1] == 0).all()
    again = open_resized_cache(root, paths + ["0000/missing.jpg"], 16, 8, folder, show_progress=False)
    assert again.unreadable == cache.unreadable


def test_cache_pickles_without_the_memory_map(image_root, tmp_path):
    root, paths = image_root
    cache = open_resized_cache(root, paths, 16, 8, str(tmp_path / "cache"), show_progress=False)
    cache.read([0])
    payload = pickle.dumps(cache)
    assert len(payload) < 2000
    np.testing.assert_array_equal(pickle.loads(payload).read([4]), cache.read([4]))
