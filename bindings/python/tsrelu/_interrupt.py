"""Long C calls (GD.run, Batch.run) that Ctrl-C stops within a step.

Python runs signal handlers in the main thread between bytecodes: while
the main thread is inside a C run, Ctrl-C waits for the whole run, and when
it lands at the entry of a ctypes callback, ctypes prints "Exception ignored"
and swallows it. So from the main thread the C call runs in a worker
thread (ctypes releases the GIL; the callbacks run there too) while the
main thread waits on an Event, which a signal interrupts. When the handler
raises (KeyboardInterrupt, or whatever a user's SIGINT handler raises), the
main thread asks the library to stop (tsrelu_gd_interrupt or
tsrelu_batch_interrupt: the run returns at its next step boundary with a
valid state) and repeats the request until the worker has returned (a
request made before the run started is cleared by it), then re-raises.

A single step (GD.step, not interruptible in C) with a Python step rule
runs in the calling thread instead, with Ctrl-C held until it returns.
"""
import contextlib
import signal
import threading

from ._lib import last_error


def call_interruptibly(c_call, interrupt):
    """(status, message) of c_call(), a ctypes call that releases the GIL;
    message is tsrelu_last_error() of the thread that made the call when the
    status is negative, else None. `interrupt()` asks the call to stop."""
    def measured():
        st = c_call()
        return st, (last_error() if st < 0 else None)

    if threading.current_thread() is not threading.main_thread():
        return measured()  # no signal handler runs here: nothing to wait for

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


@contextlib.contextmanager
def sigint_deferred(active=True):
    """For a short C call that may call Python callbacks, made in the main
    thread: a Ctrl-C during it raises KeyboardInterrupt after it, instead of
    at the entry of a callback, where ctypes would print "Exception ignored"
    and lose it. Does nothing unless `active`, in the main thread, with
    Python's default SIGINT handler installed."""
    if not (active and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        yield
        return
    held = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt
