"""SYSU-MM01 reader: training records and the test lists of the AGW and official protocols.

On disk (README, Datasets): ``cam1..cam6/<4-digit id>/<4-digit frame>.jpg``,
``exp/{train,val,test}_id.txt`` (first line: comma-separated ids) and, for the official
protocol, the kit's ``rand_perm_cam.mat``. RGB cameras 1, 2, 4, 5; IR cameras 3, 6.

Protocols (facts from the public code and the official kit):

* Direction: "t2v" alone (infrared queries, visible gallery; ``eval.direction`` "standard").
* Query, both protocols: every cam3 and cam6 image of the test ids. AGW order is id-major
  (sorted ids, cam3 then cam6, sorted names); the official kit's is the cam3 block, then the
  cam6 block, each id-sorted.
* ``agw`` gallery, single-shot: ``random.seed(trial)``, then for each sorted test id and each
  gallery camera (all: 1, 2, 4, 5; indoor: 1, 2) with an existing folder, ``random.choice``
  of the sorted paths. Multi-shot: the public code (DDAG / CAJ family) calls
  ``np.random.choice(paths, 10, replace=False)`` on numpy's *unseeded* global generator, which
  cannot be reproduced and fails on folders of fewer than 10 images. Here multi-shot uses
  ``np.random.RandomState(trial)`` with that same call (numpy draws it as the first 10
  entries of ``permutation(n)``), taking the whole permutation when n < 10, so it matches
  the public code whenever numpy's global generator was seeded with the trial and every
  folder holds at least 10 images.
* ``official`` gallery: trial t takes row t of the mat's 10 x n permutation of each
  (camera, id) folder, the first 1 (single-shot) or first 10 (multi-shot) entries, index k
  meaning file ``%04d.jpg % k``; order camera-major (camera, then id).
* Ranking rule ("sysu"): a camera-3 query drops every camera-2 gallery image (same room),
  whatever its identity; camera-6 queries drop nothing. The CMC counts distinct identities.
"""

import dataclasses
import os

import numpy as np
import scipy.io

from src.datasets.dataset import DATASETS, VIReIDDataset
from src.datasets.folder_lists import draw_one_per_folder, list_images, read_id_line, require_path
from src.datasets.ranking_rule import RANKING_RULES, RankingRule
from src.datasets.records import INFRARED, VISIBLE, ImageRecord, TestLists
from src.errors import MalformedInputError
from src.options import Option, Options
from src.utils.run_log import get_logger


SYSU_OPTIONS = Options(
    Option("eval.mode", "all", "SYSU-MM01 search mode: all or indoor", choices=("all", "indoor")),
    Option("eval.protocol", "agw", "SYSU-MM01 gallery protocol: agw or official", choices=("agw", "official")),
    Option("eval.shots", 1, "gallery images per identity and camera: 1 or 10", choices=(1, 10)),
    Option("eval.rand_perm_cam", "", "official protocol: path of rand_perm_cam.mat (empty: <data_path>/exp/)"),
)

RGB_CAMS = (1, 2, 4, 5)
IR_CAMS = (3, 6)
GALLERY_CAMS = {"all": (1, 2, 4, 5), "indoor": (1, 2)}
PROTOCOLS = SYSU_OPTIONS.choices("eval.protocol")
SHOTS = SYSU_OPTIONS.choices("eval.shots")
NUM_CAMS = 6
# Infrared camera 3 and visible camera 2 share a room.
SAME_ROOM_QUERY_CAM = 3
SAME_ROOM_GALLERY_CAM = 2


@RANKING_RULES.register("sysu")
class SameRoomRule(RankingRule):
    """A camera-3 query drops the camera-2 gallery images; the CMC counts identities."""

    def keep(self, ranked_pids, ranked_cams, query_pids, query_cams):
        same_room = (query_cams == SAME_ROOM_QUERY_CAM)[:, None] & (ranked_cams == SAME_ROOM_GALLERY_CAM)
        return ~same_room


@dataclasses.dataclass(frozen=True)
class SYSUTestOptions:
    """SYSU-MM01 test settings.

    ``mode`` "all" or "indoor" (gallery cameras); ``protocol`` "agw" or "official";
    ``shots`` 1 or 10 gallery images per (id, camera); ``rand_perm_cam`` the official kit's
    mat (empty: ``<root>/exp/rand_perm_cam.mat``; official protocol only).
    """

    mode: str = "all"
    protocol: str = "agw"
    shots: int = 1
    rand_perm_cam: str = ""

    def __post_init__(self):
        if self.mode not in GALLERY_CAMS:
            raise ValueError(f"SYSU-MM01 mode must be 'all' or 'indoor'; got {self.mode!r}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"SYSU-MM01 protocol must be 'agw' or 'official'; got {self.protocol!r}")
        if self.shots not in SHOTS:
            raise ValueError(f"SYSU-MM01 shots must be 1 or 10; got {self.shots!r}")
        if self.rand_perm_cam and self.protocol != "official":
            raise ValueError("rand_perm_cam applies to the official protocol only; got it with protocol "
                             f"{self.protocol!r}")

    @classmethod
    def variants(cls):
        """Both modes, both shot counts, AGW then official (with the mat at its default place)."""
        return tuple(cls(mode=mode, shots=shots, protocol=protocol)
                     for mode in GALLERY_CAMS for shots in SHOTS for protocol in PROTOCOLS)


@DATASETS.register("sysu", options=SYSU_OPTIONS)
class SYSUMM01(VIReIDDataset):
    """Reader of a SYSU-MM01 tree at ``root``.

    Training uses the train + val ids (labels 0..C-1 by rank of the id). Raises
    FileNotFoundError for a missing root or id file and ValueError for a training id without
    images of a modality. A test id without infrared (or visible) images is warned about and
    kept, as the public evaluation code keeps it: it gives no queries (or no gallery images),
    and the gallery draws of the other ids are unchanged.
    """

    title = "SYSU-MM01"
    TestOptions = SYSUTestOptions
    directions = ("t2v",)  # infrared (cam3, cam6) queries searched in the visible gallery
    ranking_rule = "sysu"
    trials = tuple(range(10))
    standard_num_classes = 395

    def __init__(self, root):
        self.root = root
        require_path(root, "a SYSU-MM01 root holding cam1..cam6/ and exp/")
        for cam in range(1, NUM_CAMS + 1):
            require_path(os.path.join(root, f"cam{cam}"), f"SYSU-MM01 camera folder cam{cam}/<4-digit id>/")
        exp = os.path.join(root, "exp")
        self.train_ids = sorted(set(read_id_line(os.path.join(exp, "train_id.txt")))
                                | set(read_id_line(os.path.join(exp, "val_id.txt"))))
        self.test_ids = sorted(set(read_id_line(os.path.join(exp, "test_id.txt"))))
        overlap = set(self.train_ids) & set(self.test_ids)
        if overlap:
            raise MalformedInputError(f"{exp}: ids {sorted(overlap)[:10]} are both training (train/val) and test ids")
        self._images = {}
        for pid in self.train_ids + self.test_ids:
            for cam in range(1, NUM_CAMS + 1):
                self._images[cam, pid] = list_images(self._folder(cam, pid))
        for pid in self.train_ids:
            self._require_modality(pid, RGB_CAMS, "training", "visible")
            self._require_modality(pid, IR_CAMS, "training", "infrared")
        for pid in self.test_ids:
            for cams, role in ((IR_CAMS, "infrared images: it gives no queries"),
                               (RGB_CAMS, "visible images: it gives no gallery images")):
                if not any(self._images[cam, pid] for cam in cams):
                    get_logger().warning(f"SYSU-MM01 at {root}: test id {pid} has no {role} "
                                         f"(looked in {self._folders_text(pid, cams)})")

    @property
    def num_classes(self):
        return len(self.train_ids)

    def _folder(self, cam, pid):
        return os.path.join(self.root, f"cam{cam}", f"{pid:04d}")

    def _require_modality(self, pid, cams, split, modality):
        if not any(self._images[cam, pid] for cam in cams):
            raise MalformedInputError(f"SYSU-MM01 at {self.root}: {split} id {pid} has no {modality} images "
                                      f"(looked in {self._folders_text(pid, cams)})")

    @staticmethod
    def _folders_text(pid, cams):
        return ", ".join(f"cam{cam}/{pid:04d}" for cam in cams)

    def _record(self, cam, pid, name, label=-1):
        modality = INFRARED if cam in IR_CAMS else VISIBLE
        return ImageRecord(f"cam{cam}/{pid:04d}/{name}", pid, cam, modality, label)

    def train_records(self):
        """Visible then infrared records of the train + val ids, id-major, cameras ascending."""
        records = []
        for cams in (RGB_CAMS, IR_CAMS):
            for label, pid in enumerate(self.train_ids):
                for cam in cams:
                    records.extend(self._record(cam, pid, name, label) for name in self._images[cam, pid])
        return records

    def _test_lists(self, trial, options):
        """Query (infrared) and gallery (visible) of ``trial`` (0..9) under ``options``."""
        if options.protocol == "agw":
            return TestLists(self._agw_query(), self._agw_gallery(trial, options.mode, options.shots))
        mat_path = options.rand_perm_cam or os.path.join(self.root, "exp", "rand_perm_cam.mat")
        return TestLists(self._official_query(), self._official_gallery(trial, options.mode, options.shots, mat_path))

    def _agw_query(self):
        return [self._record(cam, pid, name)
                for pid in self.test_ids for cam in IR_CAMS for name in self._images[cam, pid]]

    def _official_query(self):
        return [self._record(cam, pid, name)
                for cam in IR_CAMS for pid in self.test_ids for name in self._images[cam, pid]]

    def _agw_gallery(self, trial, mode, shots):
        walk = [(cam, pid) for pid in self.test_ids for cam in GALLERY_CAMS[mode] if self._images[cam, pid]]
        if shots == 1:
            folders = [[(cam, pid, name) for name in self._images[cam, pid]] for cam, pid in walk]
            return [self._record(*picked) for picked in draw_one_per_folder(folders, trial)]
        generator = np.random.RandomState(trial)
        gallery = []
        for cam, pid in walk:
            names = self._images[cam, pid]
            order = generator.permutation(len(names))[:shots]
            gallery.extend(self._record(cam, pid, names[index]) for index in order)
        return gallery

    def _official_gallery(self, trial, mode, shots, mat_path):
        permutations = read_rand_perm_cam(mat_path)
        gallery = []
        for cam in GALLERY_CAMS[mode]:
            cells = permutations[cam - 1]
            for pid in self.test_ids:
                names = self._images[cam, pid]
                where = f"{mat_path} (camera {cam}, id {pid}, folder {self._folder(cam, pid)})"
                if pid > len(cells):
                    if names:
                        raise MalformedInputError(f"{where}: the mat has only {len(cells)} id cells for this camera "
                                         f"but the folder holds {len(names)} images")
                    continue
                perm = cells[pid - 1]
                if perm.shape[1] != len(names):
                    raise MalformedInputError(f"{where}: the mat's permutation covers {perm.shape[1]} images but the "
                                     f"folder holds {len(names)}; the mat does not fit this tree")
                if perm.shape[1] == 0:
                    continue
                for index in perm[trial, :shots]:
                    name = f"{int(index):04d}.jpg"
                    if name not in names:
                        raise MalformedInputError(f"{where}: index {int(index)} names {name}, which the folder lacks")
                    gallery.append(self._record(cam, pid, name))
        return gallery


def read_rand_perm_cam(path):
    """The official kit's ``rand_perm_cam`` as a list of 6 lists (one per camera) of per-id
    int arrays of shape (10, n), each row a permutation of 1..n.

    Raises FileNotFoundError when ``path`` is absent and ValueError when its structure is not
    the kit's (variable ``rand_perm_cam``, 6 camera cells, 10-row permutations).
    """
    require_path(path, "the official SYSU-MM01 kit's rand_perm_cam.mat")
    try:
        content = scipy.io.loadmat(path)
    except Exception as error:  # noqa: BLE001  (scipy raises many types, IndexError included, for a non-.mat file)
        raise MalformedInputError(f"{path}: not a readable MATLAB file ({error})") from None
    if "rand_perm_cam" not in content:
        raise MalformedInputError(f"{path}: no variable 'rand_perm_cam'")
    cameras = np.asarray(content["rand_perm_cam"]).reshape(-1)
    if cameras.dtype != object or cameras.size != NUM_CAMS:
        raise MalformedInputError(f"{path}: 'rand_perm_cam' must be a cell of {NUM_CAMS} cameras; "
                         f"got {cameras.dtype} array of {cameras.size} entries")
    permutations = []
    for cam, cells in enumerate(cameras, start=1):
        cells = np.asarray(cells).reshape(-1)
        if cells.dtype != object:
            raise MalformedInputError(f"{path}: camera {cam} must hold a cell per person id; got {cells.dtype} array")
        per_id = []
        for pid, perm in enumerate(cells, start=1):
            perm = np.asarray(perm, dtype=np.int64)
            if perm.ndim != 2 or perm.shape[0] != 10:
                raise MalformedInputError(f"{path}: camera {cam}, id {pid}: expected a 10 x n matrix; "
                                          f"got shape {perm.shape}")
            expected = np.arange(1, perm.shape[1] + 1)
            if any(not np.array_equal(np.sort(row), expected) for row in perm):
                raise MalformedInputError(f"{path}: camera {cam}, id {pid}: rows must be permutations of "
                                          f"1..{perm.shape[1]}")
            per_id.append(perm)
        permutations.append(per_id)
    return permutations
