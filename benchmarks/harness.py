"""Run a measured function in a fresh process (spawned), so each contender's peak memory is its own."""

from __future__ import annotations

import multiprocessing


def _child(target, args, queue) -> None:
    try:
        queue.put(target(*args))
    except BaseException as exc:  # report it instead of leaving the parent waiting
        queue.put(exc)
        raise


def in_fresh_process(target, *args):
    """``target(*args)`` in a spawned process; its result (which must pickle), or SystemExit on failure."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if isinstance(result, BaseException):
        raise SystemExit(f"{getattr(target, '__name__', target)} failed: {result!r}")
    return result
