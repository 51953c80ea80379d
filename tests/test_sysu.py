"""SYSU-MM01 reader: training records, AGW and official test lists re-derived independently,
the real official kit's mat, and errors on bad trees."""

import os
import random
import shutil

import numpy as np
import pytest
import scipy.io

from conftest import FIXTURES_DIR
from src.datasets.dataset import DirectionOptions
from src.datasets.records import INFRARED, VISIBLE
from src.datasets.synthetic.layouts.sysu import write_synthetic_sysu
from src.datasets.sysu import SYSUMM01, SYSUTestOptions, read_rand_perm_cam
from src.utils.run_log import start_logging

OFFICIAL_MAT = os.path.join(FIXTURES_DIR, "official_kit", "rand_perm_cam.mat")


@pytest.fixture(scope="module")
def large_folders(tmp_path_factory):
    """A small tree whose folders hold 8..13 images, so that multi-shot draws are partial."""
    return write_synthetic_sysu(str(tmp_path_factory.mktemp("sysu_large")), num_ids=8, seed=5,
                                height=32, width=16, images_per_folder=(8, 13))


def _ids(root, split):
    with open(os.path.join(root, "exp", f"{split}_id.txt")) as handle:
        return [int(x) for x in handle.readline().split(",")]


def _sorted_paths(root, cam, pid):
    folder = os.path.join(root, f"cam{cam}", "%04d" % pid)
    if not os.path.isdir(folder):
        return []
    return ["cam%d/%04d/%s" % (cam, pid, name) for name in sorted(os.listdir(folder))]


def _paths(records):
    return [r.path for r in records]


def test_train_records(synthetic_sysu):
    root = synthetic_sysu
    dataset = SYSUMM01(root)
    train_ids = sorted(_ids(root, "train") + _ids(root, "val"))
    assert dataset.num_classes == len(train_ids) == 30
    assert dataset.ranking_rule == "sysu" and dataset.test_trials == tuple(range(10))
    records = dataset.train_records()
    expected = {p for pid in train_ids for cam in range(1, 7) for p in _sorted_paths(root, cam, pid)}
    assert {r.path for r in records} == expected and len(records) == len(expected)
    for r in records:
        cam_folder, pid_folder, _ = r.path.split("/")
        assert r.cam == int(cam_folder[3:]) and r.pid == int(pid_folder)
        assert r.label == train_ids.index(r.pid)
        assert r.modality == (INFRARED if r.cam in (3, 6) else VISIBLE)


def test_agw_query_is_id_major(synthetic_sysu):
    root = synthetic_sysu
    expected = []
    for pid in sorted(_ids(root, "test")):
        expected += _sorted_paths(root, 3, pid) + _sorted_paths(root, 6, pid)
    for mode in ("all", "indoor"):
        query = SYSUMM01(root).test_lists(0, SYSUTestOptions(mode=mode)).query
        assert _paths(query) == expected
        assert all(r.modality == INFRARED and r.label == -1 for r in query)


def _public_style_single_shot(root, mode, trial):
    """Gallery as the public AGW code draws it: global random.seed, then random.choice per
    existing folder of sorted ids x cameras."""
    random.seed(trial)
    picked = []
    for pid in sorted(_ids(root, "test")):
        for cam in {"all": [1, 2, 4, 5], "indoor": [1, 2]}[mode]:
            if os.path.isdir(os.path.join(root, "cam%d" % cam, "%04d" % pid)):
                picked.append(random.choice(_sorted_paths(root, cam, pid)))
    return picked


def test_agw_single_shot_gallery_matches_seeded_public_draws(synthetic_sysu):
    dataset = SYSUMM01(synthetic_sysu)
    not_subset = 0
    for trial in range(10):
        galleries = {}
        for mode in ("all", "indoor"):
            gallery = dataset.test_lists(trial, SYSUTestOptions(mode=mode, protocol="agw", shots=1)).gallery
            assert _paths(gallery) == _public_style_single_shot(synthetic_sysu, mode, trial)
            assert all(r.modality == VISIBLE and r.cam in (1, 2, 4, 5) for r in gallery)
            galleries[mode] = set(_paths(gallery))
        not_subset += not galleries["indoor"] <= galleries["all"]
    assert not_subset > 0, "indoor galleries should not all be subsets of the all-search ones"
    assert len({tuple(_paths(dataset.test_lists(t).gallery)) for t in range(10)}) > 1


def test_agw_gallery_draws_nothing_from_missing_folders(synthetic_sysu):
    dataset = SYSUMM01(synthetic_sysu)
    test_ids = _ids(synthetic_sysu, "test")
    existing = {(cam, pid) for pid in test_ids for cam in (1, 2, 4, 5) if _sorted_paths(synthetic_sysu, cam, pid)}
    assert len(existing) < 4 * len(test_ids)
    gallery = dataset.test_lists(4).gallery
    assert [(r.cam, r.pid) for r in gallery] == sorted(existing, key=lambda key: (key[1], key[0]))


def test_agw_multi_shot_is_numpy_choice_seeded_with_the_trial(large_folders):
    dataset = SYSUMM01(large_folders)
    for mode in ("all", "indoor"):
        for trial in (0, 7):
            np.random.seed(trial)
            expected = []
            for pid in sorted(_ids(large_folders, "test")):
                for cam in {"all": [1, 2, 4, 5], "indoor": [1, 2]}[mode]:
                    paths = _sorted_paths(large_folders, cam, pid)
                    if paths:
                        expected += list(np.random.choice(paths, min(10, len(paths)), replace=False))
            gallery = dataset.test_lists(trial, SYSUTestOptions(mode=mode, shots=10)).gallery
            assert _paths(gallery) == expected
    assert any(len(_sorted_paths(large_folders, cam, pid)) > 10 for cam in (1, 2, 4, 5) for pid in range(1, 9))


def _official_expected(root, mat_path, mode, trial, shots):
    cells = scipy.io.loadmat(mat_path)["rand_perm_cam"]
    expected = []
    for cam in {"all": [1, 2, 4, 5], "indoor": [1, 2]}[mode]:
        for pid in sorted(_ids(root, "test")):
            row = cells[cam - 1, 0][pid - 1, 0][trial]
            expected += ["cam%d/%04d/%04d.jpg" % (cam, pid, k) for k in row[:shots]]
    return expected


@pytest.mark.parametrize("shots", [1, 10])
def test_official_protocol_follows_the_mat(large_folders, shots):
    dataset = SYSUMM01(large_folders)
    mat_path = os.path.join(large_folders, "exp", "rand_perm_cam.mat")
    test_ids = sorted(_ids(large_folders, "test"))
    query = [p for cam in (3, 6) for pid in test_ids for p in _sorted_paths(large_folders, cam, pid)]
    for trial in (0, 9):
        lists = {mode: dataset.test_lists(trial, SYSUTestOptions(mode=mode, protocol="official", shots=shots))
                 for mode in ("all", "indoor")}
        for mode in ("all", "indoor"):
            assert _paths(lists[mode].gallery) == _official_expected(large_folders, mat_path, mode, trial, shots)
            assert _paths(lists[mode].query) == query
        indoor_part = [r for r in lists["all"].gallery if r.cam in (1, 2)]
        assert lists["indoor"].gallery == indoor_part
    explicit = dataset.test_lists(3, SYSUTestOptions(protocol="official", rand_perm_cam=mat_path))
    assert explicit == dataset.test_lists(3, SYSUTestOptions(protocol="official"))


def test_official_protocol_on_demo_tree(synthetic_sysu):
    mat_path = os.path.join(synthetic_sysu, "exp", "rand_perm_cam.mat")
    gallery = SYSUMM01(synthetic_sysu).test_lists(2, SYSUTestOptions(protocol="official")).gallery
    assert _paths(gallery) == _official_expected(synthetic_sysu, mat_path, "all", 2, 1)


@pytest.fixture
def tree_copy(synthetic_sysu, tmp_path):
    return shutil.copytree(synthetic_sysu, str(tmp_path / "sysu"))


def test_missing_root_and_split_files(tree_copy, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        SYSUMM01(str(tmp_path / "nowhere"))
    os.remove(os.path.join(tree_copy, "exp", "val_id.txt"))
    with pytest.raises(FileNotFoundError, match="val_id.txt"):
        SYSUMM01(tree_copy)


def test_training_id_without_infrared_images(tree_copy):
    pid = _ids(tree_copy, "train")[0]
    for cam in (3, 6):
        shutil.rmtree(os.path.join(tree_copy, f"cam{cam}", "%04d" % pid), ignore_errors=True)
    with pytest.raises(ValueError, match=f"training id {pid} has no infrared"):
        SYSUMM01(tree_copy)


def _rewrite_mat(path, change):
    cells = scipy.io.loadmat(path)["rand_perm_cam"]
    change(cells)
    scipy.io.savemat(path, {"rand_perm_cam": cells})


def test_official_mat_that_does_not_fit_the_tree(tree_copy):
    mat_path = os.path.join(tree_copy, "exp", "rand_perm_cam.mat")
    dataset = SYSUMM01(tree_copy)
    pid, cam = next((pid, cam) for pid in _ids(tree_copy, "test") for cam in (1, 2, 4, 5)
                    if _sorted_paths(tree_copy, cam, pid))
    n = len(_sorted_paths(tree_copy, cam, pid))

    def grow(cells):
        cells[cam - 1, 0][pid - 1, 0] = np.tile(np.arange(1, n + 2, dtype=np.uint8), (10, 1))
    _rewrite_mat(mat_path, grow)
    with pytest.raises(ValueError, match="does not fit"):
        dataset.test_lists(0, SYSUTestOptions(protocol="official"))

    def repeat_an_index(cells):
        cells[cam - 1, 0][pid - 1, 0] = np.ones((10, n), dtype=np.uint8)
    _rewrite_mat(mat_path, repeat_an_index)
    with pytest.raises(ValueError, match="permutations"):
        dataset.test_lists(0, SYSUTestOptions(protocol="official"))

    def truncate(cells):
        cells[cam - 1, 0] = cells[cam - 1, 0][:pid - 1]
    _rewrite_mat(mat_path, truncate)
    with pytest.raises(ValueError, match=f"camera {cam}, id {pid}.*only {pid - 1} id cells"):
        dataset.test_lists(0, SYSUTestOptions(protocol="official"))
    with pytest.raises(FileNotFoundError, match="absent.mat"):
        dataset.test_lists(0, SYSUTestOptions(protocol="official",
                                              rand_perm_cam=os.path.join(tree_copy, "absent.mat")))


def test_arguments_that_do_not_apply(synthetic_sysu):
    dataset = SYSUMM01(synthetic_sysu)
    with pytest.raises(ValueError, match="0..9"):
        dataset.test_lists(10)
    for kwargs, message in (({"mode": "outdoor"}, "mode"), ({"protocol": "market"}, "protocol"),
                            ({"shots": 5}, "shots"), ({"rand_perm_cam": "x.mat"}, "official protocol only")):
        with pytest.raises(ValueError, match=message):
            SYSUTestOptions(**kwargs)
    with pytest.raises(TypeError, match="unexpected keyword argument 'direction'"):
        SYSUTestOptions(direction="t2v")
    with pytest.raises(TypeError, match="SYSU-MM01 test options must be SYSUTestOptions; got DirectionOptions"):
        dataset.test_lists(0, DirectionOptions("t2v"))


def test_real_official_kit_mat_structure():
    permutations = read_rand_perm_cam(OFFICIAL_MAT)
    assert [len(cells) for cells in permutations] == [333, 333, 533, 533, 533, 333]
    totals = [sum(p.shape[1] for p in permutations[cam - 1]) for cam in range(1, 7)]
    assert totals[0] + totals[1] + totals[3] + totals[4] == 30071
    assert totals[2] + totals[5] == 15792
    raw = scipy.io.loadmat(OFFICIAL_MAT)["rand_perm_cam"]
    assert raw.shape == (6, 1) and raw[0, 0][0, 0].dtype == np.uint8
    empty = [p for cells in permutations for p in cells if p.shape[1] == 0]
    assert empty and all(p.shape == (10, 0) for p in empty)


def _test_id_without(tree, cams):
    """Remove the ``cams`` folders of the second test id; returns that id."""
    pid = sorted(_ids(tree, "test"))[1]
    for cam in cams:
        shutil.rmtree(os.path.join(tree, f"cam{cam}", "%04d" % pid), ignore_errors=True)
    return pid


def _warnings(capsys):
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("WARNING:")]


def test_test_id_without_infrared_images_gives_no_queries(tree_copy, synthetic_sysu, capsys):
    """As the public code: the id has no queries, and every gallery draw is unchanged."""
    start_logging()
    pid = _test_id_without(tree_copy, (3, 6))
    dataset = SYSUMM01(tree_copy)
    assert _warnings(capsys) == [f"WARNING: SYSU-MM01 at {tree_copy}: test id {pid} has no infrared images: it "
                                 f"gives no queries (looked in cam3/{pid:04d}, cam6/{pid:04d})"]
    expected_query = []
    for other in sorted(_ids(tree_copy, "test")):
        expected_query += _sorted_paths(tree_copy, 3, other) + _sorted_paths(tree_copy, 6, other)
    untouched = SYSUMM01(synthetic_sysu)
    for trial in (0, 3):
        lists = dataset.test_lists(trial)
        assert _paths(lists.query) == expected_query and all(r.pid != pid for r in lists.query)
        assert _paths(lists.gallery) == _public_style_single_shot(tree_copy, "all", trial)
        assert _paths(lists.gallery) == _paths(untouched.test_lists(trial).gallery)


def test_test_id_without_visible_images_gives_no_gallery_images(tree_copy, capsys):
    start_logging()
    pid = _test_id_without(tree_copy, (1, 2, 4, 5))
    dataset = SYSUMM01(tree_copy)
    assert _warnings(capsys) == [f"WARNING: SYSU-MM01 at {tree_copy}: test id {pid} has no visible images: it "
                                 f"gives no gallery images (looked in cam1/{pid:04d}, cam2/{pid:04d}, "
                                 f"cam4/{pid:04d}, cam5/{pid:04d})"]
    lists = dataset.test_lists(2, SYSUTestOptions(mode="indoor"))
    assert _paths(lists.gallery) == _public_style_single_shot(tree_copy, "indoor", 2)
    assert all(r.pid != pid for r in lists.gallery) and any(r.pid == pid for r in lists.query)
