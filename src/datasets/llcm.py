"""LLCM reader: training records and the seeded single-shot test lists of its public code.

Layout and protocol, as found in the public LLCM / DEEN (CVPR 2023) code:

* Training lists ``idx/train_vis.txt`` and ``idx/train_nir.txt``, one ``relative/path label``
  per line, paths like ``nir/0001/0001_c01_s185535_f7010_nir.jpg``: the id is the folder,
  the camera the ``_c<cc>_`` field of the file name (training folders are not split by
  camera). Training labels are re-derived as the rank of the id among training ids.
* Test ids: the first line of ``idx/test_id.txt``, comma-separated. Test images live in
  ``test_vis/cam<N>/<4-digit id>/`` and ``test_nir/cam<N>/<4-digit id>/``; the code walks
  visible cameras 1..9 and infrared cameras 1, 2, 4, 5, 6, 7, 8, 9 (no infrared camera 3).
* Query: every image of the query modality, id-major (sorted ids, cameras in that order,
  sorted names). Gallery of trial t (0..9): ``random.seed(t)`` then ``random.choice`` of
  the sorted paths of each existing (id, camera) folder of the gallery modality, same walk.
* Directions: the code's test_mode [2, 1] (visible queries, infrared gallery) is "v2t" here
  and [1, 2] (infrared queries, visible gallery) is "t2v".
* Ranking rule ("llcm"): gallery images of the query's id *and* camera are dropped; the CMC
  counts distinct identities.
"""

import os
import re

from src.datasets.dataset import DATASETS, DIRECTIONS, DirectionOptions, VIReIDDataset
from src.datasets.folder_lists import draw_one_per_folder, list_images, read_id_line, read_path_list, require_path
from src.datasets.ranking_rule import RANKING_RULES, RankingRule
from src.datasets.records import INFRARED, VISIBLE, ImageRecord, TestLists
from src.errors import MalformedInputError

TEST_CAMS = {VISIBLE: (1, 2, 3, 4, 5, 6, 7, 8, 9), INFRARED: (1, 2, 4, 5, 6, 7, 8, 9)}
TEST_FOLDERS = {VISIBLE: "test_vis", INFRARED: "test_nir"}
TRAIN_LISTS = {VISIBLE: "train_vis.txt", INFRARED: "train_nir.txt"}
MODALITIES_OF_DIRECTION = {"v2t": (VISIBLE, INFRARED), "t2v": (INFRARED, VISIBLE)}
CAMERA_FIELD = re.compile(r"_c(\d+)_")


@RANKING_RULES.register("llcm")
class SameIdentityAndCameraRule(RankingRule):
    """Gallery images of the query's identity and camera are dropped; the CMC counts identities."""

    def keep(self, ranked_pids, ranked_cams, query_pids, query_cams):
        return ~((ranked_pids == query_pids[:, None]) & (ranked_cams == query_cams[:, None]))


@DATASETS.register("llcm")
class LLCM(VIReIDDataset):
    """Reader of an LLCM tree at ``root``.

    Raises FileNotFoundError for a missing root, idx file, test folder or listed image and
    ValueError for malformed lines or an id without images of a modality it needs.
    """

    title = "LLCM"
    TestOptions = DirectionOptions
    directions = DIRECTIONS
    ranking_rule = "llcm"
    trials = tuple(range(10))
    standard_num_classes = 713

    def __init__(self, root):
        self.root = root
        require_path(root, "an LLCM root holding idx/, test_vis/ and test_nir/")
        for folder in TEST_FOLDERS.values():
            require_path(os.path.join(root, folder), f"LLCM test folder {folder}/cam<N>/<4-digit id>/")
        train = {modality: self._read_train_list(modality) for modality in TRAIN_LISTS}
        self.train_ids = sorted({record.pid for records in train.values() for record in records})
        for modality, records in train.items():
            missing = sorted(set(self.train_ids) - {record.pid for record in records})
            if missing:
                raise MalformedInputError(f"{os.path.join(root, 'idx', TRAIN_LISTS[modality])}: training ids "
                                         f"{missing[:10]} have no {modality} images")
        labels = {pid: label for label, pid in enumerate(self.train_ids)}
        self._train_records = [ImageRecord(r.path, r.pid, r.cam, r.modality, labels[r.pid])
                               for modality in (VISIBLE, INFRARED) for r in train[modality]]
        self.test_ids = sorted(set(read_id_line(os.path.join(root, "idx", "test_id.txt"))))
        overlap = set(self.train_ids) & set(self.test_ids)
        if overlap:
            raise MalformedInputError(f"{root}: ids {sorted(overlap)[:10]} are listed for training and as test ids")
        self._test_images = {(modality, cam, pid): list_images(self._test_folder(modality, cam, pid))
                             for modality, cams in TEST_CAMS.items() for cam in cams for pid in self.test_ids}
        for modality, cams in TEST_CAMS.items():
            for pid in self.test_ids:
                if not any(self._test_images[modality, cam, pid] for cam in cams):
                    raise MalformedInputError(f"LLCM at {root}: test id {pid} has no {modality} images under "
                                              f"{TEST_FOLDERS[modality]}/cam<N>/{pid:04d}/")

    @property
    def num_classes(self):
        return len(self.train_ids)

    def _test_folder(self, modality, cam, pid):
        return os.path.join(self.root, TEST_FOLDERS[modality], f"cam{cam}", f"{pid:04d}")

    def _read_train_list(self, modality):
        path = require_path(os.path.join(self.root, "idx", TRAIN_LISTS[modality]),
                            f"the LLCM {modality} training list of 'relative/path label' lines")
        def is_valid(parts):
            return len(parts) >= 3 and parts[-2].isdigit() and CAMERA_FIELD.search(parts[-1]) is not None

        entries = read_path_list(self.root, path, is_valid, "'<folder>/<id>/<id>_c<cam>_... <label>'")
        return [ImageRecord(relative, int(parts[-2]), int(CAMERA_FIELD.search(parts[-1]).group(1)), modality)
                for relative, parts in entries]

    def train_records(self):
        """Visible then infrared training records, in idx-file order."""
        return list(self._train_records)

    def _record(self, modality, cam, pid, name):
        return ImageRecord(f"{TEST_FOLDERS[modality]}/cam{cam}/{pid:04d}/{name}", pid, cam, modality)

    def _test_lists(self, trial, options):
        """Query and seeded single-shot gallery of ``trial`` (0..9) for ``options.direction``
        "v2t" (visible queries) or "t2v"."""
        query_modality, gallery_modality = MODALITIES_OF_DIRECTION[options.direction]
        query = [self._record(query_modality, cam, pid, name)
                 for pid in self.test_ids for cam in TEST_CAMS[query_modality]
                 for name in self._test_images[query_modality, cam, pid]]
        folders = [[(gallery_modality, cam, pid, name) for name in self._test_images[gallery_modality, cam, pid]]
                   for pid in self.test_ids for cam in TEST_CAMS[gallery_modality]
                   if self._test_images[gallery_modality, cam, pid]]
        gallery = [self._record(*picked) for picked in draw_one_per_folder(folders, trial)]
        return TestLists(query, gallery)
