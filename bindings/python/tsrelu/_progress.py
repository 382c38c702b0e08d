"""Progress display for long runs: GD.run(..., progress=True) and
Batch.run(progress=True). A daemon thread reads the step counter that the
library publishes atomically (tsrelu_gd_progress, tsrelu_batch_progress), so
the run itself is not slowed or changed; the loss comes from the run's
observer when there is one. tqdm draws the bar when it is installed (Debian:
python3-tqdm); otherwise one plain line on stderr is redrawn."""
import sys
import threading
import time

try:  # the well-kept progress bar, when present
    import tqdm as _tqdm_module
    _tqdm = _tqdm_module.tqdm
except ImportError:  # pragma: no cover - depends on the machine
    _tqdm = None

_PERIOD = 0.2  # seconds between updates


def _eta(seconds):
    s = int(seconds + 0.5)
    return "%dh%02dm" % (s // 3600, s // 60 % 60) if s >= 3600 else \
        "%dm%02ds" % (s // 60, s % 60) if s >= 60 else "%ds" % s


class Progress:
    """Context manager around a run: `read()` returns the steps done so far
    (from any thread), `total` the steps asked for; `loss` may be set by the
    run's observer (any thread)."""

    def __init__(self, desc, total, read, file=None, use_tqdm=None):
        self.desc, self.total, self.read = desc, max(int(total), 0), read
        self.file = file if file is not None else sys.stderr
        self.loss = None
        self._tqdm = _tqdm if use_tqdm is None else (use_tqdm or None)
        self._stop = threading.Event()
        self._thread = None
        self._bar = None
        self._t0 = None
        self._shown = 0

    # -- drawing
    def _plain(self, done, final=False):
        el = time.monotonic() - self._t0
        rate = done / el if el > 0 else 0.0
        pct = 100.0 * done / self.total if self.total else 100.0
        parts = ["%s: %3.0f%% %d/%d steps" % (self.desc, pct, done, self.total),
                 "%.3g steps/s" % rate]
        if self.loss is not None:
            parts.append("loss %.4g" % self.loss)
        if not final and rate > 0 and done < self.total:
            parts.append("ETA %s" % _eta((self.total - done) / rate))
        self.file.write("\r" + ", ".join(parts) + ("\n" if final else ""))
        self.file.flush()

    def _draw(self, final=False):
        done = min(int(self.read()), self.total) if self.total else 0
        if self._bar is not None:
            self._bar.update(done - self._shown)
            if self.loss is not None:
                self._bar.set_postfix(loss="%.4g" % self.loss, refresh=False)
        else:
            self._plain(done, final)
        self._shown = done

    def _loop(self):
        while not self._stop.wait(_PERIOD):
            self._draw()

    # -- context
    def __enter__(self):
        self._t0 = time.monotonic()
        if self._tqdm is not None:
            self._bar = self._tqdm(total=self.total, desc=self.desc, unit="step", unit_scale=True,
                                   file=self.file, dynamic_ncols=True)
        self._thread = threading.Thread(target=self._loop, name="tsrelu-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._draw(final=True)
        if self._bar is not None:
            self._bar.close()
        return False
