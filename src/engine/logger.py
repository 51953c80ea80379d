"""Training log: a readable line every few steps and a JSON-lines record for plotting."""

import contextlib
import json
import os
import time

from src.utils.progress import format_duration
from src.utils.run_log import get_logger, start_logging
from src.utils.safe_write import write_failure


class TrainingLogger:
    """Logs progress lines (Python ``logging``, see ``src.utils.run_log``) and appends the same
    figures to ``<output_dir>/train_log.jsonl``.

    Args:
        output_dir: run folder; the JSON-lines file goes there.
        total_steps: steps of the whole run, for the ETA.
        images_per_step: images one step consumes on all ranks together.
        enabled: False on ranks other than 0.
    """

    def __init__(self, output_dir, total_steps, images_per_step, enabled=True):
        self.enabled = enabled
        self.total_steps = total_steps
        self.images_per_step = images_per_step
        self.jsonl_path = os.path.join(output_dir, "train_log.jsonl")
        self._last_time = None
        self._last_step = None
        self._logger = get_logger()
        if not self._logger.handlers:  # a Trainer used without an entry point still prints
            start_logging()

    def start(self, global_step):
        """Mark the clock; throughput is measured from here (call it again after compilation)."""
        self._last_time = time.perf_counter()
        self._last_step = global_step

    def log_step(self, epoch, epochs, step_in_epoch, steps_per_epoch, global_step, lr, losses, skipped=0,
                 loss_scale=None):
        """One line with every loss component, the learning rate, images/s and the ETA.

        Args:
            global_step: steps completed so far in the whole run.
            losses: dict name -> float, the total first.
            skipped: non-finite steps skipped so far (mixed precision); shown when non-zero.
            loss_scale: the current dynamic loss scale, or None without one.
        """
        now = time.perf_counter()
        steps_done = global_step - self._last_step
        elapsed = now - self._last_time
        steps_per_second = steps_done / elapsed if elapsed > 0 and steps_done > 0 else 0.0
        images_per_second = steps_per_second * self.images_per_step
        eta = (self.total_steps - global_step) / steps_per_second if steps_per_second > 0 else float("nan")
        self._last_time, self._last_step = now, global_step
        record = {"epoch": epoch, "step": step_in_epoch, "global_step": global_step, "lr": lr,
                  "images_per_second": images_per_second, "eta_seconds": eta, "skipped_steps": skipped, **losses}
        if loss_scale is not None:
            record["loss_scale"] = loss_scale
        if not self.enabled:
            return record
        loss_text = " ".join(f"{name} {value:.4f}" for name, value in losses.items())
        eta_text = format_duration(eta) if eta == eta else "-"
        speed_text = f"{images_per_second:.1f} img/s" if steps_per_second > 0 else "- img/s"
        extra = f" | skipped {skipped} (scale {loss_scale:g})" if loss_scale is not None else ""
        self.info(f"epoch {epoch + 1}/{epochs} step {step_in_epoch}/{steps_per_epoch} | {loss_text} | "
                  f"lr {lr:.2e} | {speed_text} | eta {eta_text}{extra}")
        self.write(record)
        return record

    def info(self, message):
        """A free-form line (rank 0 only)."""
        if self.enabled:
            self._logger.info(message)

    def warning(self, message):
        """A line marked ``WARNING:`` (rank 0 only), for what makes results doubtful."""
        if self.enabled:
            self._logger.warning(message)

    def write(self, record):
        """Append one JSON record (rank 0 only). A record that cannot be written whole (a full
        disk) is cut off again, so that the file stays one record per line, and ends the run
        with a WriteFailedError."""
        if not self.enabled:
            return
        size = os.path.getsize(self.jsonl_path) if os.path.exists(self.jsonl_path) else 0
        try:
            with open(self.jsonl_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        except OSError as error:
            with contextlib.suppress(OSError):
                os.truncate(self.jsonl_path, size)
            raise write_failure(self.jsonl_path, error) from error
