"""Long C calls (GD.run, Batch.run) that Ctrl-C stops within a step.

Python runs signal handlers in the main thread between bytecodes: while the
main thread is inside a C run, Ctrl-C waits for the whole run, and when it
lands at the entry of a ctypes callback, ctypes prints "Exception ignored"
and swallows the KeyboardInterrupt. So, for a C call made in the main
thread with Python's default SIGINT handler:

* Python's wakeup fd is pointed at a socket for the duration of the call.
  Python's C-level handler writes the signal number there even while the
  main thread is inside C; a daemon thread (the watcher) reading it calls
  the interrupt function of every call in progress (tsrelu_gd_interrupt,
  tsrelu_batch_interrupt: the run returns at its next step boundary, with a
  valid state).
* The Python-level SIGINT handler is replaced by one that only counts, so
  that nothing is raised inside a callback; after the call the binding
  raises KeyboardInterrupt itself. Callbacks keep running in the main thread.
* If the wakeup fd is already in use (an asyncio loop, another library),
  the call runs instead in a worker thread while the main thread waits on
  an Event, which a signal interrupts; the interrupt function is then
  called until the worker has returned, and the exception is re-raised.
  Callbacks then run in the worker thread.

A single step with a Python step rule (GD.step; not interruptible in C)
only gets the second point: Ctrl-C raises KeyboardInterrupt after it.
Elsewhere (another thread, which no signal handler runs in; a SIGINT handler
of the program's own) the call is made directly.
"""
import ctypes
import signal
import socket
import threading

from ._lib import last_error

_SIGINT = int(signal.SIGINT)
_SENTINEL = 0  # not a signal number: marks the end of a call's bytes
_counted = [0]  # SIGINTs seen by _count, the handler installed during calls


def _count(signum, frame):
    _counted[0] += 1


class _Watcher:
    """The socket given to signal.set_wakeup_fd and the thread reading it."""

    def __init__(self):
        self.rsock, self.wsock = socket.socketpair()
        self.wsock.setblocking(False)
        self.cv = threading.Condition()
        self.active = []   # interrupt functions of the calls in progress
        self.sentinels = 0
        threading.Thread(target=self._loop, name="tsrelu-sigint", daemon=True).start()

    def _loop(self):
        while True:
            data = self.rsock.recv(256)
            with self.cv:
                if _SIGINT in data:
                    for interrupt in self.active:
                        interrupt()
                self.sentinels += data.count(_SENTINEL)
                self.cv.notify_all()

    def drain(self):
        """Wait until every byte written so far has been read, so that none
        is left to interrupt a later call."""
        with self.cv:
            target = self.sentinels + 1
            self.wsock.send(bytes([_SENTINEL]))
            self.cv.wait_for(lambda: self.sentinels >= target, timeout=1.0)

    def watching(self, interrupt, call):
        with self.cv:
            self.active.append(interrupt)
        try:
            return call()
        finally:
            with self.cv:
                self.active.remove(interrupt)


_watcher = []
_watcher_lock = threading.Lock()


def _the_watcher():
    with _watcher_lock:
        if not _watcher:
            _watcher.append(_Watcher())
        return _watcher[0]


def status_of(c_call):
    """(status, message) of c_call(), a ctypes call returning a status;
    message is this thread's tsrelu_last_error() when the status is
    negative, else None."""
    st = c_call()
    return st, (last_error() if st < 0 else None)


def call_interruptibly(c_call, interrupt):
    """status_of(c_call), c_call releasing the GIL, such that Ctrl-C calls
    `interrupt()` (which asks the call to stop) and then raises
    KeyboardInterrupt once the call has returned."""
    return _call(c_call, interrupt)


def call_holding_sigint(c_call):
    """status_of(c_call) for a short call that may call Python callbacks: a
    Ctrl-C during it raises KeyboardInterrupt after it, not inside a
    callback (where ctypes would lose it)."""
    return _call(c_call, None)


def _call(c_call, interrupt):
    measured = lambda: status_of(c_call)  # noqa: E731
    if threading.current_thread() is not threading.main_thread():
        return measured()
    handler = signal.getsignal(signal.SIGINT)
    if handler is _count:  # inside a callback of a call made here: already counting
        return measured() if interrupt is None else _the_watcher().watching(interrupt, measured)
    if handler is not signal.default_int_handler:
        return measured()  # the program handles SIGINT itself
    w = None
    if interrupt is not None:
        w = _the_watcher()
        previous = signal.set_wakeup_fd(w.wsock.fileno())
        if previous not in (-1, w.wsock.fileno()):
            signal.set_wakeup_fd(previous)
            return _in_worker(measured, interrupt)
    before = _counted[0]
    signal.signal(signal.SIGINT, _count)
    try:
        result = measured() if w is None else w.watching(interrupt, measured)
    finally:
        if w is not None:
            signal.set_wakeup_fd(-1)
        try:
            ctypes.pythonapi.PyErr_CheckSignals()  # a SIGINT still pending goes to _count
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if w is not None and _counted[0] != before:
                w.drain()
    if _counted[0] != before:
        raise KeyboardInterrupt
    return result


def _in_worker(measured, interrupt):
    """measured() in a worker thread while this (main) thread waits."""
    done = threading.Event()
    gate = threading.Lock()
    claimed = []   # ["run"] once the worker starts the call, ["cancel"] if we gave up first
    result = []

    def work():
        with gate:
            if claimed:
                return
            claimed.append("run")
        try:
            result.append(measured())
        except BaseException as e:  # a ctypes conversion error: re-raised below
            result.append(e)
        finally:
            done.set()

    caught = None
    try:
        threading.Thread(target=work, name="tsrelu-run", daemon=True).start()
    except RuntimeError:  # cannot start a thread: run here, not interruptible
        return measured()
    except BaseException as e:
        caught = e
    # Every step below may itself be interrupted by another signal: loop
    # until the worker is known to be done or never to start the call.
    while True:
        try:
            if caught is not None:
                with gate:
                    if not claimed:
                        claimed.append("cancel")
                if claimed[0] == "cancel":
                    break
                interrupt()
            if done.wait(None if caught is None else 0.005):
                break
        except BaseException as e:
            if caught is None:
                caught = e
    if caught is not None:
        raise caught
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]
