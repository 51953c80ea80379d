"""The dataset contract: what training and evaluation read from a dataset, and the datasets by name.

A dataset is one file in ``src/datasets/`` (or a user's module) that declares a subclass of
``VIReIDDataset`` and registers it::

    @DATASETS.register("sysu")
    class SYSUMM01(VIReIDDataset): ...

``data.dataset`` takes its allowed values from ``DATASETS``. The rest of the code only reads
the contract below, so nothing outside a dataset's own file knows its name or its settings.

Test options. A dataset's test-list settings are its own frozen dataclass (``TestOptions``),
which validates its values (ValueError) when built and lists every setting its protocol
defines (classmethod ``variants``). They come from the ``eval`` section of the
configuration: each field from the ``eval`` key of the same name; a field without such a key
keeps its default. An ``eval`` key that is a field of another registered dataset's options but
not of this one's must keep that field's default: changing it is a ConfigError, not silently
ignored.

Query directions. A dataset declares the directions its protocol tests (``directions``, its
standard one first): "v2t", visible queries searched in the infrared gallery, or "t2v",
infrared queries searched in the visible gallery. "t" is the infrared side whether the camera
is thermal (RegDB) or near-infrared (SYSU-MM01, LLCM). ``eval.direction`` picks one of them
("standard": the first; "both": each), and results are reported under the direction's name;
asking a dataset for a direction it does not test is a ConfigError.
"""

import dataclasses

from src.config import ConfigError, load_config
from src.errors import MissingInputError
from src.options import Option, Options
from src.registry import Registry


DATASET_OPTIONS = Options(
    Option("data.dataset", "sysu", "sysu, regdb or llcm"),
    Option("data.data_path", "data/synthetic_sysu_demo", "dataset root in its original on-disk layout"),
    Option("data.trial", 1, "RegDB: training / test split 1..10 (ignored elsewhere)", minimum=1, maximum=10),
    Option("eval.direction", "standard",
           "query direction: v2t (visible queries, infrared gallery), t2v (the reverse), both (each the dataset "
           "tests) or standard (its first: v2t; SYSU-MM01 tests t2v alone)",
           choices=("v2t", "t2v", "standard", "both")),
)

DATASETS = Registry("dataset", config_keys=("data.dataset",))
DIRECTIONS = ("v2t", "t2v")
QUERY_AND_GALLERY = {"v2t": "visible queries, infrared gallery", "t2v": "infrared queries, visible gallery"}


@dataclasses.dataclass(frozen=True)
class NoTestOptions:
    """Test options of a dataset with a single test setting."""

    @classmethod
    def variants(cls):
        return (cls(),)


@dataclasses.dataclass(frozen=True)
class DirectionOptions:
    """Test options of a dataset whose queries may come from either modality.

    ``direction``: "v2t" (visible queries, infrared gallery) or "t2v" (the reverse).
    """

    direction: str = "v2t"

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'v2t' or 't2v'; got {self.direction!r}")

    @classmethod
    def variants(cls):
        return tuple(cls(direction) for direction in DIRECTIONS)


class VIReIDDataset:
    """Base of the dataset readers: a reader is one dataset tree (and, where each trial has its
    own training split, one trial's split).

    Class attributes a dataset sets:
        title: the dataset's name in messages ("SYSU-MM01").
        TestOptions: frozen dataclass of its test-list settings (``NoTestOptions`` if none).
        directions: the query directions its protocol tests (of ``DIRECTIONS``), the standard
            one first; with ``DirectionOptions``, the directions those options take.
        ranking_rule: name of the registered ``RankingRule`` its protocol ranks with.
        trials: every trial number of its protocol, as the dataset numbers them.
        trial_has_own_training_split: each trial has its own training / test split (RegDB):
            a model is trained on one trial's split and tested on that trial only.
        standard_num_classes: training identities of the standard split (sizes a network
            without reading the data, e.g. for a parameter count).

    Subclasses implement ``num_classes``, ``train_records`` and ``_test_lists``, and
    ``from_config`` when their constructor takes more than the root; datasets with
    ``trial_has_own_training_split`` also ``trial`` and ``for_trial``.
    """

    title = ""
    TestOptions = NoTestOptions
    directions = ("v2t",)
    ranking_rule = ""
    trials = ()
    trial_has_own_training_split = False
    standard_num_classes = 0

    @classmethod
    def from_config(cls, data_cfg):
        """The reader for the ``data`` section of the configuration; by default ``cls(data_path)``."""
        return cls(data_cfg.data_path)

    @property
    def num_classes(self):
        """Number of training identities (labels 0..num_classes-1)."""
        raise NotImplementedError

    def train_records(self):
        """Training ImageRecords, labelled 0..num_classes-1 by rank of the identity."""
        raise NotImplementedError

    @property
    def test_trials(self):
        """The trials this reader's model is tested on: all of them, or with
        ``trial_has_own_training_split`` only the reader's own."""
        return (self.trial,) if self.trial_has_own_training_split else self.trials

    def for_trial(self, trial):
        """The reader of ``trial``'s training split (the same reader when there is one split)."""
        return self

    def test_lists(self, trial, options=None):
        """TestLists (query and gallery ImageRecords, in the protocol's order) of ``trial``.

        ``options``: a ``TestOptions`` instance (None: its defaults). Raises ValueError for a
        trial the protocol does not define and TypeError for another dataset's options.
        """
        if trial not in self.trials:
            raise ValueError(f"{self.title} trial must be one of {_trials_text(self.trials)}; got {trial!r}")
        options = self.TestOptions() if options is None else options
        if not isinstance(options, self.TestOptions):
            raise TypeError(f"{self.title} test options must be {self.TestOptions.__name__}; "
                            f"got {type(options).__name__}")
        return self._test_lists(trial, options)

    def _test_lists(self, trial, options):
        raise NotImplementedError

    def every_test_record(self, trial, variants=None):
        """Every record that the test settings ``variants`` (default: every setting,
        ``TestOptions.variants()``) of ``trial`` use, once each, in first-seen order.

        A setting that needs a file which is absent (MissingInputError; e.g. SYSU-MM01's
        official protocol without its mat) is skipped; when every setting is, the last such
        error is raised.
        """
        records, missing = {}, None
        for options in self.TestOptions.variants() if variants is None else variants:
            try:
                lists = self.test_lists(trial, options)
            except MissingInputError as error:
                missing = error
                continue
            for record in lists.query + lists.gallery:
                records.setdefault(record.path, record)
        if not records and missing is not None:
            raise missing
        return list(records.values())


def _trials_text(trials):
    if list(trials) == list(range(trials[0], trials[0] + len(trials))):
        return f"{trials[0]}..{trials[-1]}"
    return ", ".join(map(str, trials))


def dataset_class(name):
    """The registered dataset class ``name``."""
    return DATASETS.get(name)


def reader_from_config(data_cfg):
    """The reader of ``data_cfg.dataset`` for the ``data`` section ``data_cfg``."""
    return dataset_class(data_cfg.dataset).from_config(data_cfg)


def open_dataset(name, root, trial=1):
    """The reader of dataset ``name`` at ``root``, as the default configuration with that dataset
    and root opens it; ``trial`` sets ``data.trial`` where each trial has its own training split
    (ignored elsewhere)."""
    argv = ["--data.dataset", name, "--data.data_path", root]
    if name in DATASETS and dataset_class(name).trial_has_own_training_split:
        argv += ["--data.trial", str(trial)]
    return reader_from_config(load_config(argv).data)


def _option_fields(options_class):
    return {field.name: field.default for field in dataclasses.fields(options_class)}


def tested_directions(dataset_name, direction):
    """The directions of dataset ``dataset_name`` that ``eval.direction`` ``direction`` asks for:
    "standard" its first, "both" each it tests, else that one direction.

    Raises ConfigError for a direction the dataset does not test.
    """
    dataset = dataset_class(dataset_name)
    if direction == "standard":
        return dataset.directions[:1]
    if direction == "both":
        return dataset.directions
    if direction not in dataset.directions:
        tested = "; ".join(f"{name} ({QUERY_AND_GALLERY[name]})" for name in dataset.directions)
        raise ConfigError(f"{dataset.title} does not test eval.direction {direction!r} "
                          f"({QUERY_AND_GALLERY.get(direction, 'not a direction')}); it tests {tested}")
    return (direction,)


def configured_test_options(dataset_name, eval_cfg):
    """{direction: the dataset's TestOptions} for the ``eval`` section ``eval_cfg`` (a mapping).

    One entry per direction of the dataset that ``eval.direction`` asks for (``tested_directions``);
    results are reported under these keys. Raises ConfigError for an ``eval`` key that only
    other datasets read and that was changed from its default, and for values the options refuse.
    """
    options_class = dataset_class(dataset_name).TestOptions
    own = _option_fields(options_class)
    for other in DATASETS.names():
        # eval.direction is checked against the dataset's own directions (tested_directions).
        for key, default in _option_fields(dataset_class(other).TestOptions).items():
            if key not in own and key != "direction" and key in eval_cfg and eval_cfg[key] != default:
                raise ConfigError(f"eval.{key} does not apply to {dataset_name}: leave it at {default!r}; "
                                  f"got {eval_cfg[key]!r}")
    directions = tested_directions(dataset_name, eval_cfg["direction"])
    options = {}
    for direction in directions:
        values = dict(eval_cfg, direction=direction)
        try:
            options[direction] = options_class(**{key: values[key] for key in own if key in values})
        except ValueError as error:
            raise ConfigError(f"{dataset_name} test options: {error}") from None
    return options
