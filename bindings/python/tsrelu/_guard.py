"""Who may use a C state now: one run at a time, and nothing else meanwhile.

A run or step of a GD state (or a batch run) lasts as long as its C call,
which releases the GIL. The library refuses mutating calls on a busy state
(TSRELU_EBUSY), but a state must never be used from two threads at once:
a getter reading W while a step swaps its buffers, or a step racing a batch
run (which then ends with a spurious EDIVERGED). So the binding decides here:

* A Guard is shared by a Batch and its states, or owned by one GD. Its
  `running` set holds the GDs and Batches whose run or step is in progress.
  A GD is busy while it or its batch runs; a Batch while it or any of its
  states runs.
* Every method that touches a C state is wrapped with one of the decorators
  below. Outside a run it holds the guard's lock for its (short) C call, so
  a run cannot start meanwhile. On a busy state it raises tsrelu.Error
  (TSRELU_EBUSY), from any thread, except inside the state's own callbacks
  (the thread executing them), where @reads methods are allowed.
* interrupt() (@anytime) works from any thread, busy or not.
"""
import functools
import threading

from ._lib import Status, fail


class Guard:
    def __init__(self):
        self.lock = threading.RLock()
        self.running = set()

    def busy(self, obj):
        """Is obj (a GD or a Batch) in a run, or its batch, or a state of it?"""
        if obj in self.running:
            return True
        owner = getattr(obj, "_owner", None)
        if owner is not None:
            return owner in self.running
        return getattr(obj, "_holds_states", False) and bool(self.running)

    def start(self, obj, fn):
        """Mark obj running (a run or step begins) and return its C handle,
        or raise EBUSY."""
        with self.lock:
            h = obj._h()
            if self.busy(obj):
                refuse(obj, fn)
            self.running.add(obj)
            return h

    def stop(self, obj):
        with self.lock:
            self.running.discard(obj)


def in_own_callback(obj):
    """Is this thread inside one of obj's callbacks (obj a GD)?"""
    return getattr(obj, "_depth", 0) > 0 and obj._cb_thread == threading.get_ident()


def refuse(obj, fn):
    """Raise EBUSY for obj.fn(), saying why obj is busy."""
    kind, running = type(obj).__name__, obj._guard.running
    if in_own_callback(obj):
        why = "inside a callback of the same %s" % kind
    elif obj in running:
        why = "while a run or step of this %s is in progress" % kind
    elif getattr(obj, "_owner", None) in running:
        why = "while its Batch runs"
    else:
        why = "while one of its states runs"
    fail(Status.EBUSY, "%s.%s is not allowed %s" % (kind, fn, why))


def _guarded(fn, in_callback, when_busy):
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(self, *args, **kw):
        if in_own_callback(self):
            if not in_callback:
                refuse(self, name)
            return fn(self, *args, **kw)
        guard = self._guard
        with guard.lock:
            if not when_busy and guard.busy(self):
                refuse(self, name)
            return fn(self, *args, **kw)
    return wrapper


def reads(fn):
    """A call that reads the state: allowed inside its own callbacks, EBUSY
    from other threads during a run."""
    return _guarded(fn, True, False)


def mutates(fn):
    """A call that changes the state: EBUSY during a run, callbacks included."""
    return _guarded(fn, False, False)


def anytime(fn):
    """interrupt(): allowed from any thread, during a run or not."""
    return _guarded(fn, True, True)
