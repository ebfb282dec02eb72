"""The supervisor of `choeur serve` on small stand-in processes: restart after a crash, graceful stop on SIGTERM,
kill past the grace period with the slot's work handed back. Every process is bounded in time."""

from __future__ import annotations

import sys
import threading
import time

from choeur.core import serving

SLEEPER = [sys.executable, "-c", "import time; time.sleep(30)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]
# Exits 0 on SIGTERM after finishing its « task » (0.3 s), as a django-tasks-db worker does.
GRACEFUL = [
    sys.executable,
    "-c",
    "import signal, sys, time\n"
    "def stop(*_):\n    time.sleep(0.3); sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, stop)\ntime.sleep(30)",
]
STUBBORN = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(30)"]


def _run_in_thread(supervisor: serving.Supervisor) -> threading.Thread:
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    return thread


def _wait(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("délai dépassé")


def test_a_crashed_process_is_restarted_and_its_work_handed_back_first():
    handed_back = []
    crasher = serving.Process("worker-1", CRASHER, before_start=lambda: handed_back.append(time.monotonic()))
    supervisor = serving.Supervisor([crasher], grace_seconds=2, poll_seconds=0.05)
    thread = _run_in_thread(supervisor)
    try:
        _wait(lambda: crasher.restarts >= 2)
    finally:
        supervisor.request_stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    # Once before the first start, once before each restart: the slot's unfinished task goes back each time.
    assert len(handed_back) >= 3


def test_restarts_of_a_process_that_keeps_crashing_slow_down():
    crasher = serving.Process("web", CRASHER)
    supervisor = serving.Supervisor([crasher], grace_seconds=2, poll_seconds=0.05)
    thread = _run_in_thread(supervisor)
    try:
        _wait(lambda: crasher.restarts >= 3)
        first_pause_restarts = crasher.restarts
        time.sleep(1.0)
    finally:
        supervisor.request_stop()
        thread.join(timeout=10)
    # Pauses of 0.5 s, 1 s, 2 s, 4 s…: within one more second, at most one more restart.
    assert crasher.restarts - first_pause_restarts <= 1
    assert crasher.quick_crashes >= 3


def test_sigterm_lets_each_process_finish_then_stops_them_all():
    graceful = serving.Process("worker-1", GRACEFUL)
    sleeper = serving.Process("web", SLEEPER)
    supervisor = serving.Supervisor([graceful, sleeper], grace_seconds=10, poll_seconds=0.05)
    thread = _run_in_thread(supervisor)
    _wait(lambda: graceful.popen is not None and sleeper.popen is not None)
    time.sleep(0.3)
    started = time.monotonic()
    supervisor.request_stop()
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert graceful.popen.returncode == 0  # finished its task, then left on its own
    assert sleeper.popen.returncode is not None
    assert time.monotonic() - started < 5


def test_a_process_still_running_after_the_grace_period_is_killed_and_its_work_handed_back():
    handed_back = []
    stubborn = serving.Process("worker-1", STUBBORN, before_start=lambda: handed_back.append("x"))
    supervisor = serving.Supervisor([stubborn], grace_seconds=1, poll_seconds=0.05)
    thread = _run_in_thread(supervisor)
    _wait(lambda: stubborn.popen is not None)
    time.sleep(0.5)  # let it install its SIGTERM handler
    supervisor.request_stop()
    thread.join(timeout=15)
    assert stubborn.popen.returncode == -9
    assert handed_back == ["x", "x"]  # before its start, and after it was killed


def test_web_commands_of_both_servers_bind_the_asked_address():
    granian = serving.web_command("granian", host="127.0.0.1", port=8119, workers=2, threads=4, grace=30)
    assert granian[granian.index("--port") + 1] == "8119" and granian[granian.index("--workers") + 1] == "2"
    assert granian[-1] == "config.wsgi:application"
    gunicorn = serving.web_command("gunicorn", host="127.0.0.1", port=8119, workers=2, threads=4, grace=30)
    assert gunicorn[gunicorn.index("--bind") + 1] == "127.0.0.1:8119"
    assert gunicorn[gunicorn.index("--graceful-timeout") + 1] == "30"
