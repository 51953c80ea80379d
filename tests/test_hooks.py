"""A hook of one's own, passed to the Trainer, is called at every point of a tiny CPU training,
in order, after the built-in hooks' work at that point."""

import json

from src.config import load_config
from src.engine.hooks import TrainingHook
from src.engine.trainer import Trainer
from test_errors import TINY_TRAINING


class Recorder(TrainingHook):
    """Records (point, epoch, steps_done, global_step) at every call, and what the built-in
    hooks had written by then."""

    def __init__(self):
        self.calls = []
        self.logged_steps = []  # global_step of the step log's last record, after each step
        self.states = []  # (epoch, step_in_epoch) in state.json, after each epoch
        self.losses = None

    def _record(self, point, trainer):
        self.calls.append((point, trainer.epoch, trainer.steps_done, trainer.global_step))

    def before_train(self, trainer):
        self._record("before_train", trainer)

    def before_step(self, trainer):
        self._record("before_step", trainer)

    def after_step(self, trainer):
        self._record("after_step", trainer)
        with open(trainer.logger.jsonl_path, encoding="utf-8") as handle:
            self.logged_steps.append(json.loads(handle.readlines()[-1])["global_step"])

    def after_epoch(self, trainer):
        self._record("after_epoch", trainer)
        state = trainer.checkpoints.latest_state()
        self.states.append((state["epoch"], state["step_in_epoch"]))

    def after_train(self, trainer):
        self._record("after_train", trainer)
        self.losses = dict(trainer.summary["last_losses"])

    def on_interrupt(self, trainer, interrupt):
        self._record("on_interrupt", trainer)


def test_a_custom_hook_sees_every_step_and_epoch_in_order(synthetic_sysu, tmp_path):
    cfg = load_config([str(arg) for arg in ["--data.data_path", synthetic_sysu, "--output_dir", tmp_path / "run",
                                            *TINY_TRAINING, "--train.epochs", "2", "--train.log_interval", "1"]])
    recorder = Recorder()
    trainer = Trainer(cfg, hooks=[recorder])
    summary = trainer.run()

    steps = trainer.steps_per_epoch
    expected = [("before_train", 0, 0, 0)]
    for epoch in range(2):
        for step in range(steps):
            global_step = epoch * steps + step
            expected += [("before_step", epoch, step, global_step), ("after_step", epoch, step + 1, global_step + 1)]
        expected.append(("after_epoch", epoch, steps, (epoch + 1) * steps))
    expected.append(("after_train", 2, 0, 2 * steps))
    assert recorder.calls == expected
    # The built-in hooks came first: each step's log record and each epoch's state were written.
    assert recorder.logged_steps == list(range(1, 2 * steps + 1))
    assert recorder.states == [(1, 0), (2, 0)]
    assert set(recorder.losses) >= {"loss", *trainer.objective.component_names}
    assert summary["network_checkpoint"].endswith("network_last.ckpt")
