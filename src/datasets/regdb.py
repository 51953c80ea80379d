"""RegDB reader: one trial's training records and its test lists.

On disk (README, Datasets): ``Visible/<id>/...``, ``Thermal/<id>/...`` (real names look
like ``Thermal/1/male_front_t_00007_1.bmp``) and ``idx/{train,test}_{visible,thermal}_{k}.txt``
for k = 1..10, one ``relative/path label`` per line. Each trial splits the 412 ids half / half;
a model is trained on trial k's training half and tested on the same trial's test half only,
with every test image on both sides (no seeded gallery draw). Ranking rule ("regdb"): nothing
is dropped and the CMC counts images.

The id is read from the ``<id>`` folder of each path; the label column of the idx files is not
trusted (training labels are re-derived as the rank of the id). RegDB has one camera per
modality; its records carry camera 1 (visible) and camera 2 (thermal).
"""

import os

from src.datasets.dataset import DATASETS, DIRECTIONS, DirectionOptions, VIReIDDataset
from src.datasets.folder_lists import read_path_list, require_path
from src.datasets.ranking_rule import RANKING_RULES, KeepAllRule
from src.datasets.records import INFRARED, VISIBLE, ImageRecord, TestLists
from src.errors import MalformedInputError

TRIALS = tuple(range(1, 11))
MODALITY_FOLDERS = {VISIBLE: "Visible", INFRARED: "Thermal"}
IDX_NAMES = {VISIBLE: "visible", INFRARED: "thermal"}
CAMERAS = {VISIBLE: 1, INFRARED: 2}

RANKING_RULES.register("regdb")(KeepAllRule)


@DATASETS.register("regdb")
class RegDB(VIReIDDataset):
    """Reader of a RegDB tree at ``root`` for training / test split ``trial`` (1..10).

    Raises FileNotFoundError for a missing root, modality folder, idx file or listed image,
    and ValueError for a malformed idx line or a training id missing a modality.
    """

    title = "RegDB"
    TestOptions = DirectionOptions
    directions = DIRECTIONS
    ranking_rule = "regdb"
    trials = TRIALS
    trial_has_own_training_split = True
    standard_num_classes = 206

    @classmethod
    def from_config(cls, data_cfg):
        return cls(data_cfg.data_path, trial=data_cfg.trial)

    def __init__(self, root, trial=1):
        if trial not in TRIALS:
            raise ValueError(f"RegDB trial must be one of 1..10; got {trial!r}")
        self.root = root
        self.trial = trial
        require_path(root, "a RegDB root holding Visible/, Thermal/ and idx/")
        for folder in MODALITY_FOLDERS.values():
            require_path(os.path.join(root, folder), f"RegDB image folder {folder}/<id>/")
        train = {modality: self._read_idx("train", modality, trial) for modality in MODALITY_FOLDERS}
        self.train_ids = sorted({pid for records in train.values() for pid, _ in records})
        for modality, records in train.items():
            missing = sorted(set(self.train_ids) - {pid for pid, _ in records})
            if missing:
                raise MalformedInputError(f"{self._idx_path('train', modality, trial)}: training ids "
                                          f"{missing[:10]} have no {modality} images (they appear only in the "
                                          f"other modality's list)")
        labels = {pid: label for label, pid in enumerate(self.train_ids)}
        self._train_records = [ImageRecord(path, pid, CAMERAS[modality], modality, labels[pid])
                               for modality in (VISIBLE, INFRARED) for pid, path in train[modality]]

    def for_trial(self, trial):
        return self if trial == self.trial else RegDB(self.root, trial=trial)

    @property
    def num_classes(self):
        return len(self.train_ids)

    def _idx_path(self, split, modality, trial):
        return os.path.join(self.root, "idx", f"{split}_{IDX_NAMES[modality]}_{trial}.txt")

    def _read_idx(self, split, modality, trial):
        """(pid, relative path) pairs of one idx file, in file order."""
        path = require_path(self._idx_path(split, modality, trial),
                            f"a RegDB idx file of 'relative/path label' lines ({split}, {modality}, trial {trial})")
        folder = MODALITY_FOLDERS[modality]
        entries = read_path_list(self.root, path,
                                 lambda parts: len(parts) >= 3 and parts[0] == folder and parts[1].isdigit(),
                                 f"'{folder}/<id>/<file> <label>'")
        return [(int(parts[1]), relative) for relative, parts in entries]

    def train_records(self):
        """Visible then thermal records of the trial's training half, in idx-file order."""
        return list(self._train_records)

    def _test_lists(self, trial, options):
        """Query and gallery of ``trial``'s test half: visible to thermal ("v2t") or the
        transposed problem ("t2v")."""
        sides = {modality: [ImageRecord(path, pid, CAMERAS[modality], modality)
                            for pid, path in self._read_idx("test", modality, trial)]
                 for modality in MODALITY_FOLDERS}
        if options.direction == "v2t":
            return TestLists(sides[VISIBLE], sides[INFRARED])
        return TestLists(sides[INFRARED], sides[VISIBLE])
