"""Starting services for tests and benchmarks: free ports, health waits, clean
stops, and the percentile every latency figure uses.

Standard library only, so both virtual environments import it (the e2e tests
and tools/*_bench.py in .venv/rasa, the portal and index tests in .venv/actions).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    """Returns once `url` answers 200; raises if `process` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


def stop(process: subprocess.Popen, grace: float = 20, group: bool = False) -> None:
    """Asks `process` (its whole process group when `group`: what Ctrl-C reaches)
    to stop, and kills it after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def service(
    command: Sequence[str],
    health: str | None,
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 180,
    group: bool = False,
) -> Iterator[subprocess.Popen]:
    """Runs `command` from the repository root (output to `log`), waits for its
    `health` URL, and stops it on exit. `group`: in a process group of its own,
    stopped as a terminal's Ctrl-C would (tools/serve.sh and its children)."""
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(log, "w")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=group,
        )
        try:
            if health:
                wait_until_up(health, process, timeout)
            yield process
        finally:
            stop(process, group=group)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` quantile (0.95 for p95); 0.0 when there are no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0
