"""Training log: a readable line every few steps and a JSON-lines record for plotting."""

import json
import os
import sys
import time

from src.utils.progress import format_duration


class TrainingLogger:
    """Prints progress lines and appends the same figures to ``<output_dir>/train_log.jsonl``.

    Args:
        output_dir: run folder; the JSON-lines file goes there.
        total_steps: steps of the whole run, for the ETA.
        images_per_step: images one step consumes on all ranks together.
        enabled: False on ranks other than 0.
        stream: where the readable lines go.
    """

    def __init__(self, output_dir, total_steps, images_per_step, enabled=True, stream=None):
        self.enabled = enabled
        self.total_steps = total_steps
        self.images_per_step = images_per_step
        self.stream = stream or sys.stdout
        self.jsonl_path = os.path.join(output_dir, "train_log.jsonl")
        self._last_time = None
        self._last_step = None
        if enabled:
            os.makedirs(output_dir, exist_ok=True)

    def start(self, global_step):
        """Mark the clock; throughput is measured from here (after any compilation warm-up)."""
        self._last_time = time.perf_counter()
        self._last_step = global_step

    def log_step(self, epoch, epochs, step_in_epoch, steps_per_epoch, global_step, lr, losses):
        """One line with every loss component, the learning rate, images/s and the ETA.

        Args:
            global_step: steps completed so far in the whole run.
            losses: dict name -> float, the total first.
        """
        now = time.perf_counter()
        steps_done = global_step - self._last_step
        elapsed = now - self._last_time
        steps_per_second = steps_done / elapsed if elapsed > 0 and steps_done > 0 else 0.0
        images_per_second = steps_per_second * self.images_per_step
        eta = (self.total_steps - global_step) / steps_per_second if steps_per_second > 0 else float("nan")
        self._last_time, self._last_step = now, global_step
        record = {"epoch": epoch, "step": step_in_epoch, "global_step": global_step, "lr": lr,
                  "images_per_second": images_per_second, "eta_seconds": eta, **losses}
        if not self.enabled:
            return record
        loss_text = " ".join(f"{name} {value:.4f}" for name, value in losses.items())
        eta_text = format_duration(eta) if eta == eta else "-"
        print(f"epoch {epoch + 1}/{epochs} step {step_in_epoch}/{steps_per_epoch} | {loss_text} | "
              f"lr {lr:.2e} | {images_per_second:.1f} img/s | eta {eta_text}", file=self.stream, flush=True)
        self.write(record)
        return record

    def info(self, message):
        """A free-form line (rank 0 only)."""
        if self.enabled:
            print(message, file=self.stream, flush=True)

    def warning(self, message):
        """A free-form line marked ``WARNING:`` (rank 0 only), for what makes results doubtful."""
        self.info(f"WARNING: {message}")

    def write(self, record):
        """Append one JSON record (rank 0 only)."""
        if self.enabled:
            with open(self.jsonl_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
