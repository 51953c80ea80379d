"""The training loop: builds every part from the config, trains, checkpoints, resumes.

Nothing is written to the run folder before every part is built, so a configuration or an
input that fails leaves the folder as it was (and a resumed run's config.yaml intact). A
folder holds one run (src/engine/run_folder.py). The training takes the folder's lock
(src/engine/run_lock.py) before it checks the folder, writing nothing then (if train.lock is
there), writes its PID into it once everything is built, and releases it at the end of run().
SIGTERM / SIGHUP are acted on at step boundaries (src/engine/stop_signals.py), at the same
step on every rank of a distributed run (src/engine/stop_agreement.py).
"""

import math
import os
import sys
import time

import mindspore as ms
import numpy as np
from mindspore import nn

from src.config import ConfigError
from src.engine import builders
from src.engine.checkpoint import CheckpointManager
from src.engine.context import seed_everything, setup_context
from src.engine.logger import TrainingLogger
from src.engine.overflow import NonFiniteLossError, NonFiniteSteps  # noqa: F401  (run() raises the error)
from src.engine.resume import RUN_CONFIG, check_resume_changes, require_resumable
from src.engine.run_folder import check_run_folder, delete_earlier_run, delete_save_leftovers
from src.engine.run_lock import RunFolderLock
from src.engine.schedule import learning_rates
from src.engine.stop_agreement import StopAgreement
from src.engine.stop_signals import StopRequested
from src.engine.train_step import NetworkWithObjective, TrainStep
from src.losses.objective import build_objective
from src.models.network import build_network
from src.utils.progress import format_duration
from src.utils.safe_write import WriteFailedError
from src.utils.run_log import attach_log_file

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
    """

    def __init__(self, cfg, overwrite=False):
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
        self.stop_agreement = StopAgreement(self.context.distributed)
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
        self.best_score = -math.inf
        self.gap_probe = None
        if cfg.train.gap_interval and self.context.is_main:
            self.gap_probe = builders.build_gap_probe(cfg, self.train_records)
        self._report_initialisation()
        self._report_objective()

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

    def _start_position(self):
        if not self.cfg.train.resume:
            return 0, 0
        # The learning-rate table is rebuilt from the config (a resumed run may add epochs).
        position = self.checkpoints.restore_state(self.train_step, derived=("learning_rate",))
        self.checkpoints.adopt_existing(position)
        if position.get("steps_per_epoch") != self.steps_per_epoch:
            raise ConfigError(f"the saved state has {position.get('steps_per_epoch')} steps per epoch, this "
                              f"configuration {self.steps_per_epoch}: resume with the configuration of that run")
        self.best_score = position.get("best_score", -math.inf)
        self.logger.info(f"resumed from {position['checkpoint']}: epoch {position['epoch'] + 1}, "
                         f"step {position['step_in_epoch']}")
        epoch, step = position["epoch"], position["step_in_epoch"]
        if step == self.steps_per_epoch:
            # Stopped after the epoch's last step but before its checkpoint / validation.
            self._end_of_epoch(epoch)
            epoch, step = epoch + 1, 0
        return epoch, step

    def _position(self, epoch, step_in_epoch):
        return {"epoch": epoch, "step_in_epoch": step_in_epoch, "steps_per_epoch": self.steps_per_epoch,
                "global_step": epoch * self.steps_per_epoch + step_in_epoch, "seed": self.cfg.seed,
                "best_score": self.best_score}

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
        cfg = self.cfg
        epochs = cfg.train.epochs
        start_epoch, start_step = self._start_position()
        if cfg.train.save_initial and (start_epoch, start_step) == (0, 0):
            self.checkpoints.save_network(self.network, 0, name="network_init.ckpt")
        if start_epoch >= epochs:
            final = self.checkpoints.save_network(self.network, epochs, name="network_last.ckpt")
            self.logger.info(f"training already complete; network checkpoint: {final}")
            return {"epochs": epochs, "network_checkpoint": final}
        signum = self.stop_agreement.signal()
        if signum:  # during the construction or the resume: nothing trained in this session
            raise StopRequested(signum)
        iterator = builders.train_iterator(self.dataset, start_epoch, start_step)
        component_names = ("loss",) + tuple(self.objective.component_names)
        started = time.perf_counter()
        losses = {}
        compiled = False
        epoch, steps_done = start_epoch, start_step
        try:
            for epoch in range(start_epoch, epochs):
                steps_done = start_step if epoch == start_epoch else 0
                for step in range(steps_done, self.steps_per_epoch):
                    visible, infrared, labels = next(iterator)
                    noise = ms.Tensor(bottleneck_noise(cfg.seed, self.context.rank, epoch, step, self.noise_shape))
                    if not compiled:
                        self.logger.info("compiling the training graph (runs the first step)...")
                        compile_started = time.perf_counter()
                    total, components, finite = self.train_step(visible, infrared, labels, noise)
                    self.non_finite.record(bool(finite.asnumpy()), epoch + 1, step + 1, total,
                                           self.checkpoints.directory)
                    steps_done = step + 1
                    global_step = epoch * self.steps_per_epoch + steps_done
                    if not compiled:
                        compiled = True
                        self.logger.info(f"compiled and ran the first step in "
                                         f"{time.perf_counter() - compile_started:.1f} s (left out of img/s and ETA)")
                        self.logger.start(global_step)
                    if steps_done % cfg.train.log_interval == 0 or steps_done == self.steps_per_epoch:
                        values = np.concatenate([[total.asnumpy()], components.asnumpy()]).astype(float)
                        losses = dict(zip(component_names, values.tolist()))
                        scale = float(self.train_step.loss_scale.asnumpy()) if self.train_step.dynamic else None
                        self.logger.log_step(epoch, epochs, steps_done, self.steps_per_epoch, global_step,
                                             float(self.learning_rates[global_step - 1]), losses,
                                             skipped=self.non_finite.skipped, loss_scale=scale)
                    if self.gap_probe is not None and global_step % cfg.train.gap_interval == 0:
                        self._log_information_gap(epoch, global_step)
                    # SIGTERM / SIGHUP (src/engine/stop_signals.py) are only recorded by their
                    # handler; here, after the step has been counted, the state and its position agree.
                    self._stop_if_requested(epoch, steps_done)
                self._end_of_epoch(epoch)
                self._stop_if_requested(epoch + 1, 0)
        except StopRequested:
            raise
        except KeyboardInterrupt as interrupt:  # Ctrl-C raised by Python (MindSpore's own handler sends SIGTERM)
            # Keep the work done so far: a resumed run continues with the next step. Every rank
            # holds the same weights after each step (the step's all-reduce needs them all), so
            # rank 0's state at its step is the state of the run.
            self._save_state(self._position(epoch, steps_done))
            self.logger.info(f"{str(interrupt) or 'interrupted'}: state saved at epoch {epoch + 1}, step {steps_done}; "
                             f"resume with: {self.resume_command()}")
            raise
        wall = time.perf_counter() - started
        final = self._save_network(epochs, name="network_last.ckpt")
        self.logger.info(f"training finished in {format_duration(wall)}; network checkpoint: {final}")
        return {"epochs": epochs, "last_losses": losses, "wall_seconds": wall, "network_checkpoint": final}

    def _stop_if_requested(self, epoch, steps_done):
        """After a stop signal (on any rank): save the state at (``epoch``, ``steps_done``) (unless
        the end-of-epoch work just saved it), log the resume command and raise StopRequested."""
        signum = self.stop_agreement.signal()
        if signum is None:
            return
        position = self._position(epoch, steps_done)
        if self.checkpoints.saved_position() != (epoch, steps_done):
            self._save_state(position)
        self.stop_agreement.wait_for_all_ranks()  # the state is on disk before any rank exits
        interrupt = StopRequested(signum, saved=True)
        if not self.context.is_main:  # its log is msrun's worker log; the run folder's is rank 0's
            print(f"rank {self.context.rank}: {interrupt} at epoch {epoch + 1}, step {steps_done}; "
                  f"rank 0 saved the state", file=sys.stderr, flush=True)
        self.logger.info(f"{interrupt}: state saved at epoch {epoch + 1}, step {steps_done}; "
                         f"resume with: {self.resume_command()}")
        raise interrupt

    def _log_information_gap(self, epoch, global_step):
        figures = self.gap_probe(self.network)
        self.logger.write({"epoch": epoch, "global_step": global_step, **figures})
        gaps = " ".join(f"{name[4:]} {value:.4f}" for name, value in figures.items() if name.startswith("gap_"))
        self.logger.info(f"H(y|z) - H(y|v) on the probe batch, nats: {gaps}")

    def _save_network(self, epoch, name=None):
        path = self.checkpoints.save_network(self.network, epoch, name=name)
        if path:
            self.logger.info(f"saved {path} ({_megabytes(path)})")
        return path

    def _save_state(self, position):
        path = self.checkpoints.save_state(self.train_step, position)
        if path:
            self.logger.info(f"saved the resumable state {path} ({_megabytes(path)})")
        return path

    def _end_of_epoch(self, epoch):
        cfg = self.cfg
        completed = epoch + 1
        if self.val_records and completed % cfg.train.val_interval == 0:
            self._validate(completed)
        last = completed == cfg.train.epochs
        if completed % cfg.train.checkpoint_interval == 0 or last:
            self._save_network(completed)
        if completed % cfg.train.state_interval == 0 or last:
            self._save_state(self._position(completed, 0))

    def _validate(self, completed):
        result = builders.validate(self.cfg, self.network, self.reader, self.val_records)
        score = result["mAP"]
        record = {"epoch": completed, "val_rank1": float(result["cmc"][0]), "val_mAP": float(score)}
        self.logger.info(f"validation after epoch {completed}: Rank-1 {record['val_rank1']:.2%} "
                         f"mAP {record['val_mAP']:.2%}")
        self.logger.write(record)
        if score > self.best_score:
            self.best_score = score
            self._save_network(completed, name="network_best.ckpt")
        self.network.set_train(True)


def _megabytes(path):
    return f"{os.path.getsize(path) / 1e6:.1f} MB"
