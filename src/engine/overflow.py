"""What a non-finite training step means: stop at once (float32), or skip it (mixed precision)."""

from src.errors import AnticipatedError


class NonFiniteLossError(AnticipatedError, RuntimeError):
    """Training produced a NaN or infinite loss or gradient; the last good checkpoint is kept."""


class NonFiniteSteps:
    """Counts non-finite steps and says when training must stop.

    Without loss scaling (``limit`` None, amp O0) the first non-finite step stops training.
    With dynamic loss scaling (O1 / O2) an overflowing step is skipped (the train step left
    the parameters untouched and lowered the scale); training stops only after ``limit``
    of them in a row.

    Attributes:
        skipped: non-finite steps skipped so far in this process.
        consecutive: non-finite steps since the last finite one.
    """

    def __init__(self, limit=None):
        self.limit = limit
        self.skipped = 0
        self.consecutive = 0

    def record(self, finite, epoch, step, loss, where):
        """Account for one step (``epoch``, ``step`` 1-based, for the message); raise
        NonFiniteLossError when training must stop. ``loss``: a number or scalar Tensor, read only
        for the message. ``where`` names the checkpoint folder."""
        if finite:
            self.consecutive = 0
            return
        self.skipped += 1
        self.consecutive += 1
        if self.limit is None:
            raise NonFiniteLossError(
                f"non-finite loss or gradient at epoch {epoch}, step {step} (loss {float(loss)}); the update was "
                f"skipped and training stopped. The last good state is in {where}; lower train.lr or check the data.")
        if self.consecutive >= self.limit:
            raise NonFiniteLossError(
                f"{self.consecutive} non-finite steps in a row (train.max_nonfinite_steps), the last at epoch "
                f"{epoch}, step {step} (loss {float(loss)}), although the loss scale was lowered after each; training "
                f"stopped. The last good state is in {where}; lower train.lr or check the data.")
