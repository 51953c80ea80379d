"""The trainer: builds every part from the config, then steps; the hooks do the rest.

Nothing is written to the run folder before every part is built, so a configuration or an
input that fails leaves the folder as it was (and a resumed run's config.yaml intact). A
folder holds one run (src/engine/run_folder.py). The training takes the folder's lock
(src/engine/run_lock.py) before it checks the folder, writing nothing then (if train.lock is
there), writes its PID into it once everything is built, and releases it at the end of run().

The loop only steps; logging, checkpoints and resumable states, validation, the H(y|z) - H(y|v)
probe and the stop signals are hooks (src/engine/hooks.py, one file each). SIGTERM / SIGHUP
are acted on at step boundaries (src/engine/stop_hook.py), at the same step on every rank of
a distributed run (src/engine/stop_agreement.py).
"""

import math
import os
import time

import mindspore as ms
import numpy as np
from mindspore import nn

from src.config import ConfigError
from src.engine import builders
from src.engine.checkpoint import CheckpointManager
from src.engine.checkpoint_hook import CheckpointHook
from src.engine.context import seed_everything, setup_context
from src.engine.information_gap_hook import InformationGapHook
from src.engine.logger import TrainingLogger
from src.engine.overflow import NonFiniteLossError, NonFiniteSteps  # noqa: F401  (run() raises the error)
from src.engine.resume import RUN_CONFIG, check_resume_changes, require_resumable
from src.engine.run_folder import check_run_folder, delete_earlier_run, delete_save_leftovers
from src.engine.run_lock import RunFolderLock
from src.engine.schedule import learning_rates
from src.engine.step_logging_hook import StepLoggingHook
from src.engine.stop_agreement import StopAgreement
from src.engine.stop_hook import StopHook
from src.engine.train_step import NetworkWithObjective, TrainStep
from src.engine.validation_hook import ValidationHook
from src.losses.objective import build_objective
from src.models.network import build_network
from src.options import Option, Options
from src.utils.progress import format_duration
from src.utils.safe_write import WriteFailedError
from src.utils.run_log import attach_log_file


TRAINING_OPTIONS = Options(
    Option("paper_preset", False,
           "the config claims the paper's setting (true in configs/sysu, regdb, llcm and the ablation rows): training "
           "warns if backbone.pretrained is empty"),
    Option("train.epochs", 300, "training epochs", minimum=1),
    Option("train.lr", 2.6e-4, "initial learning rate (Adam)", minimum=0.0),
    Option("train.weight_decay", 5.0e-4, "weight decay", minimum=0.0),
    Option("train.amp_level", "O0",
           "mixed precision: O0 (off), O1 or O2 (GPU / Ascend; dynamic loss scaling)", choices=("O0", "O1", "O2")),
    Option("train.loss_scale", 1024.0, "O1 / O2: initial loss scale, halved after an overflowing step", minimum=1.0),
    Option("train.loss_scale_window", 1000,
           "O1 / O2: overflow-free steps after which the loss scale doubles", minimum=1),
    Option("train.max_nonfinite_steps", 20,
           "O1 / O2: skipped (overflowing) steps in a row that stop training", minimum=1),
)

LOG_FILE = "train.log"


def bottleneck_noise(seed, rank, epoch, step, shape):
    """Standard-normal draw for the Gaussian bottlenecks of one step.

    Drawn on the host from (seed, rank, epoch, step) alone, so that a resumed run samples
    exactly what an uninterrupted one would: MindSpore's in-graph random operators keep
    state that a checkpoint cannot restore.
    """
    return np.random.default_rng([seed, rank, epoch, step]).standard_normal(shape, dtype=np.float32)


class Trainer:
    """Trains the network described by ``cfg`` (a resolved ``src.config.Config``).

    Everything is built in the constructor; ``run()`` trains from the start or, with
    ``cfg.train.resume``, from the last saved state in ``<output_dir>/checkpoints``.
    ``overwrite``: delete an earlier run in ``output_dir`` first (else a new run there is refused).

    ``hooks``: hooks of your own (``src.engine.hooks.TrainingHook``), called at each point after
    the built-in ones and before the stop-signal check, on every rank of a distributed run
    (``trainer.context.is_main`` is rank 0's). The built-in ones, in their order:
    ValidationHook (with ``data.val_ratio``), CheckpointHook, StepLoggingHook,
    InformationGapHook (with ``train.gap_interval``, rank 0 only), and StopHook last. E.g.::

        class EpochLine(TrainingHook):
            def after_epoch(self, trainer):
                trainer.logger.info(f"epoch {trainer.epoch + 1} done at step {trainer.global_step}")

        Trainer(cfg, hooks=[EpochLine()]).run()
    """

    def __init__(self, cfg, overwrite=False, hooks=()):
        self.cfg = cfg
        if cfg.train.amp_level != "O0" and cfg.device_target == "CPU":
            raise ConfigError("mixed precision (train.amp_level O1 / O2) needs GPU or Ascend; use O0 on CPU")
        self.context = setup_context(cfg.device_target, cfg.device_id, cfg.graph_mode)
        seed_everything(cfg.seed)
        self.output_dir = cfg.output_dir
        self.overwrite = overwrite
        self.lock = RunFolderLock(self.output_dir)
        if self.context.is_main:  # the folder is rank 0's: it alone checks, locks and writes it
            # The lock first: a folder another training is using is refused as such, naming its PID.
            self.lock.acquire(create=False)  # takes it if train.lock exists; writes nothing
            check_run_folder(self.output_dir, cfg.train.resume, overwrite)
        resume_changes = self._check_resume()

        self.reader = builders.build_reader(cfg)
        self.train_records, self.val_records = builders.split_training_records(cfg, self.reader.train_records())
        self.num_classes = len({record.label for record in self.train_records})

        self.network = build_network(cfg, self.num_classes)
        self.objective = build_objective(cfg, self.network, self.num_classes)
        self.dataset, self.steps_per_epoch = builders.build_train_dataset(cfg, self.train_records, self.context)
        self.batch_size = cfg.data.batch_ids // self.context.group_size * cfg.data.per_modality
        self.noise_shape = self.network.noise_shape(self.batch_size)

        epochs = cfg.train.epochs
        self.learning_rates = learning_rates(cfg.train.lr, self.steps_per_epoch, epochs, cfg.train.warmup_epochs,
                                             cfg.train.decay_epochs, cfg.train.decay_factor)
        parameters = self.network.trainable_params() + self.objective.trainable_params()
        self.optimizer = nn.Adam(parameters, learning_rate=ms.Tensor(self.learning_rates),
                                 weight_decay=cfg.train.weight_decay)
        loss_network = NetworkWithObjective(self.network, self.objective)
        mixed_precision = cfg.train.amp_level != "O0"
        if mixed_precision:
            loss_network = ms.amp.auto_mixed_precision(loss_network, cfg.train.amp_level)
        # Mixed precision: dynamic loss scaling, overflowing steps skipped (see NonFiniteSteps).
        self.train_step = TrainStep(loss_network, self.optimizer, cfg.train.loss_scale if mixed_precision else 1.0,
                                    distributed=self.context.distributed, group_size=self.context.group_size,
                                    scale_window=cfg.train.loss_scale_window if mixed_precision else None)
        self.train_step.set_train()
        self.non_finite = NonFiniteSteps(cfg.train.max_nonfinite_steps if mixed_precision else None)

        self.checkpoints = CheckpointManager(os.path.join(self.output_dir, "checkpoints"),
                                             keep=cfg.train.keep_checkpoints, enabled=self.context.is_main)
        images_per_step = 2 * self.batch_size * self.context.group_size
        self.logger = TrainingLogger(self.output_dir, self.steps_per_epoch * epochs, images_per_step,
                                     enabled=self.context.is_main)
        if self.context.is_main:  # everything is built and checked: the run folder may be written
            self._claim_run_folder()
            cfg.save(os.path.join(self.output_dir, RUN_CONFIG))
        for key, old, new in resume_changes:
            self.logger.info(f"resuming with {key} changed from {old!r} to {new!r}")
        self.best_score = -math.inf  # the best validation mAP so far, kept in the resumable state
        self.gap_probe = None
        if cfg.train.gap_interval and self.context.is_main:
            self.gap_probe = builders.build_gap_probe(cfg, self.train_records)
        self.hooks = self._hooks(hooks)
        self.epoch, self.steps_done = 0, 0  # the position; run() restores a resumed run's
        self._last_step = None  # (loss, components) Tensors of the last step
        self.summary = {}
        self._report_initialisation()
        self._report_objective()

    def _hooks(self, extra):
        """The built-in hooks around ``extra``, in the order they are called (the class docstring)."""
        train = self.cfg.train
        # At an epoch's end validation comes before the checkpoints: the state keeps its best score.
        validation = [ValidationHook(train.val_interval)] if self.val_records else []
        gap = [InformationGapHook(self.gap_probe, train.gap_interval)] if self.gap_probe is not None else []
        return (validation
                + [CheckpointHook(train.checkpoint_interval, train.state_interval, train.save_initial),
                   StepLoggingHook(train.log_interval)]
                + gap + list(extra) + [StopHook(StopAgreement(self.context.distributed))])

    def _claim_run_folder(self):
        """Lock the folder (and write the PID into train.lock), then check it again (another run
        may have started there meanwhile); with ``overwrite``, delete the earlier run's files;
        delete what a killed save left in checkpoints/; start the log file."""
        os.makedirs(self.output_dir, exist_ok=True)
        self.lock.claim()
        check_run_folder(self.output_dir, self.cfg.train.resume, self.overwrite)
        deleted = delete_earlier_run(self.output_dir) if self.overwrite else []
        # The lock proves that no one else writes there: a temporary file is a killed save's.
        leftovers = delete_save_leftovers(os.path.join(self.output_dir, "checkpoints"))
        attach_log_file(os.path.join(self.output_dir, LOG_FILE))
        if deleted:
            self.logger.info(f"--overwrite: deleted the earlier run's {', '.join(deleted)} in {self.output_dir}; "
                             f"other files there (eval_* folders, exports, logs of other tools) were left")
        if leftovers:
            self.logger.info(f"deleted what a killed save left in {os.path.join(self.output_dir, 'checkpoints')}: "
                             f"{', '.join(leftovers)}")

    def _check_resume(self):
        """For a resumed run: refuse a folder without state, or changes that alter the training;
        returns the accepted changes [(key, saved value, new value)]."""
        if not self.cfg.train.resume:
            return []
        require_resumable(os.path.abspath(self.output_dir))
        return check_resume_changes(self.cfg, os.path.abspath(self.output_dir))

    def _report_objective(self):
        """Log the weighted terms the objective sums, and those of loss.terms this network leaves out."""
        objective = self.objective
        summed = " + ".join(f"{weight:g} {name}" for name, weight in zip(objective.component_names, objective.weights))
        left_out = [name for name in self.cfg.loss.terms if name not in objective.component_names]
        self.logger.info(f"objective: {summed}" + (f"; not applicable to this network, left out: {', '.join(left_out)}"
                                                   if left_out else ""))

    def _report_initialisation(self):
        """Log where the encoders' weights come from; warn when a paper preset starts from scratch."""
        reports = self.network.pretrained_reports
        for name, report in reports.items():
            self.logger.info(f"pretrained weights for the {name} encoder: {report.summary()}")
        if reports:
            return
        if self.cfg.paper_preset:
            self.logger.warning(
                "this is a paper preset (paper_preset: true) but backbone.pretrained is empty, so every encoder "
                "starts from random weights. The paper initialises its encoders from ImageNet: results "
                "trained from scratch are not comparable with the paper's. Pass --backbone.pretrained "
                "<ImageNet ResNet .ckpt> (README, 'ImageNet initialisation'), or --paper_preset false for a "
                "deliberate run from scratch.")
        else:
            self.logger.info("encoders initialised at random (backbone.pretrained is empty)")

    def _restore_position(self):
        """With ``cfg.train.resume``: load the last saved state and take its position (and best score)."""
        if not self.cfg.train.resume:
            return
        # The learning-rate table is rebuilt from the config (a resumed run may add epochs).
        position = self.checkpoints.restore_state(self.train_step, derived=("learning_rate",))
        self.checkpoints.adopt_existing(position)
        if position.get("steps_per_epoch") != self.steps_per_epoch:
            raise ConfigError(f"the saved state has {position.get('steps_per_epoch')} steps per epoch, this "
                              f"configuration {self.steps_per_epoch}: resume with the configuration of that run")
        self.best_score = position.get("best_score", -math.inf)
        self.logger.info(f"resumed from {position['checkpoint']}: epoch {position['epoch'] + 1}, "
                         f"step {position['step_in_epoch']}")
        self.epoch, self.steps_done = position["epoch"], position["step_in_epoch"]

    @property
    def global_step(self):
        """Steps done in the whole run, the earlier sessions' included."""
        return self.epoch * self.steps_per_epoch + self.steps_done

    def position(self, epoch, step_in_epoch):
        """What a resumable state saved at (``epoch``, ``step_in_epoch``) records."""
        return {"epoch": epoch, "step_in_epoch": step_in_epoch, "steps_per_epoch": self.steps_per_epoch,
                "global_step": epoch * self.steps_per_epoch + step_in_epoch, "seed": self.cfg.seed,
                "best_score": self.best_score}

    def step_losses(self):
        """The last step's loss and its components, {name: float}, the total first ({} before
        this session's first step)."""
        if self._last_step is None:
            return {}
        total, components = self._last_step
        values = np.concatenate([[total.asnumpy()], components.asnumpy()]).astype(float)
        return dict(zip(("loss",) + tuple(self.objective.component_names), values.tolist()))

    def resume_command(self):
        """The command that continues this run from its folder."""
        run_dir = os.path.abspath(self.output_dir)
        if self.context.distributed:
            servers = int(os.environ.get("NNODES", "1"))  # set by scripts/launch_train.sh
            command = (f"bash scripts/run_distribute_train_{self.cfg.device_target.lower()}.sh "
                       f"{self.context.group_size // servers} --resume {run_dir}")
            if servers > 1:
                command += (f" (on each of the {servers} servers, with the same NNODES, MASTER_ADDR and "
                            f"MASTER_PORT and its own NODE_RANK)")
            return command
        return f"python train.py --resume {run_dir}"

    def run(self):
        """Train to ``cfg.train.epochs``; returns a summary dict (last losses, paths, wall time).

        A file that cannot be written (a full disk) ends it with a WriteFailedError that also
        names the state ``--resume`` would continue from. The run folder's lock is released at
        the end, however the run ends."""
        try:
            return self._run()
        except WriteFailedError as error:  # a full disk, under a checkpoint or a log line
            raise error.extended(self.checkpoints.resume_point()) from error
        finally:
            self.lock.release()

    def _run(self):
        epochs = self.cfg.train.epochs
        self._restore_position()
        if self.epoch >= epochs:  # nothing left, not even an epoch's end: no hook is called
            final = self.checkpoints.save_network(self.network, epochs, name="network_last.ckpt")
            self.logger.info(f"training already complete; network checkpoint: {final}")
            self.summary = {"epochs": epochs, "network_checkpoint": final}
            return self.summary
        self._call_hooks("before_train")
        started = time.perf_counter()
        try:
            self._train(epochs)
        except KeyboardInterrupt as interrupt:  # Ctrl-C, or StopRequested from StopHook
            self._call_hooks("on_interrupt", interrupt)
            raise
        wall = time.perf_counter() - started
        self.summary = {"epochs": epochs, "last_losses": self.step_losses(), "wall_seconds": wall}
        self._call_hooks("after_train")
        self.logger.info(f"training finished in {format_duration(wall)}; network checkpoint: "
                         f"{self.summary['network_checkpoint']}")  # CheckpointHook's network_last.ckpt
        return self.summary

    def _train(self, epochs):
        """The loop: from the position reached to the end of ``epochs``, steps and calls the hooks."""
        # A state saved after an epoch's last step resumes with that epoch's after_epoch, no step
        # of it left; the batches continue at the next epoch (none if that epoch was the last).
        first_epoch, first_step = divmod(self.global_step, self.steps_per_epoch)
        iterator = builders.train_iterator(self.dataset, first_epoch, first_step) if first_epoch < epochs else None
        while self.epoch < epochs:
            while self.steps_done < self.steps_per_epoch:
                self._step(*next(iterator))
            self._call_hooks("after_epoch")
            self.epoch, self.steps_done = self.epoch + 1, 0

    def _step(self, visible, infrared, labels):
        noise = ms.Tensor(bottleneck_noise(self.cfg.seed, self.context.rank, self.epoch, self.steps_done,
                                           self.noise_shape))
        self._call_hooks("before_step")
        total, components, finite = self.train_step(visible, infrared, labels, noise)
        self.non_finite.record(bool(finite.asnumpy()), self.epoch + 1, self.steps_done + 1, total,
                               self.checkpoints.directory)
        self._last_step = total, components
        self.steps_done += 1
        self._call_hooks("after_step")

    def _call_hooks(self, method, *args):
        for hook in self.hooks:
            getattr(hook, method)(self, *args)

    def save_network(self, epoch, name=None):
        """Save the network (``CheckpointManager.save_network``) and log it; the path, None on ranks
        other than 0."""
        path = self.checkpoints.save_network(self.network, epoch, name=name)
        if path:
            self.logger.info(f"saved {path} ({_megabytes(path)})")
        return path

    def save_state(self, position):
        """Save the resumable state at ``position`` (made by ``position()``) and log it; the path,
        None on ranks other than 0."""
        path = self.checkpoints.save_state(self.train_step, position)
        if path:
            self.logger.info(f"saved the resumable state {path} ({_megabytes(path)})")
        return path


def _megabytes(path):
    return f"{os.path.getsize(path) / 1e6:.1f} MB"
