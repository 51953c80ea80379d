"""Progress bar for long work outside training (cache building, feature extraction).

On a terminal the bar redraws one line on stderr (at most every ``redraw_interval`` s).
Elsewhere (logs, CI) it prints only a few lines: the start, each quarter, and the end,
so log files stay short.
"""

import sys
import time


def format_duration(seconds):
    """Seconds as MM:SS, or H:MM:SS from an hour on."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class Progress:
    """Counts finished items out of ``total`` and shows rate (items/s) and time left.

    Use as a context manager, or call ``close()`` at the end::

        with Progress(len(paths), "caching images") as progress:
            for path in paths:
                ...
                progress.update()
    """

    def __init__(self, total, description, unit="img", stream=None, redraw_interval=0.2):
        self.total = int(total)
        self.description = description
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.redraw_interval = redraw_interval
        self.count = 0
        self._start = time.monotonic()
        self._last_draw = -float("inf")
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._next_quarter = 0
        self._closed = False
        if not self._interactive:
            self._print_line()

    def update(self, count=1):
        """Adds ``count`` finished items."""
        self.count += count
        if self._interactive:
            now = time.monotonic()
            if now - self._last_draw >= self.redraw_interval:
                self._last_draw = now
                self.stream.write("\r" + self._text())
                self.stream.flush()
        elif self.total > 0 and self.count < self.total and 4 * self.count >= self._next_quarter * self.total:
            self._print_line()

    def close(self):
        """Prints the final state (once)."""
        if self._closed:
            return
        self._closed = True
        if self._interactive:
            self.stream.write("\r" + self._text() + "\n")
            self.stream.flush()
        else:
            self._print_line()

    def _print_line(self):
        self._next_quarter = 4 * self.count // max(self.total, 1) + 1
        self.stream.write(self._text() + "\n")
        self.stream.flush()

    def _text(self):
        elapsed = time.monotonic() - self._start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        percent = 100.0 * self.count / self.total if self.total else 100.0
        if rate > 0 and self.count < self.total:
            left = f"{format_duration((self.total - self.count) / rate)} left"
        else:
            left = f"{format_duration(elapsed)} elapsed"
        return (f"{self.description}: {self.count}/{self.total} ({percent:5.1f}%) "
                f"{rate:.1f} {self.unit}/s, {left}")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False
