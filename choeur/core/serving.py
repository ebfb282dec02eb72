"""The production process layout of `choeur serve`: one HTTP server, task workers and the scheduler, supervised.

Our own small supervisor rather than honcho or supervisord: honcho stops every process when one exits (no
restart), supervisord is a separate daemon with its own configuration file and control socket. What is needed
here is a handful of lines: start the processes, restart one that crashes (with a growing pause if it keeps
crashing), hand its unfinished task back to the queue, and on SIGTERM stop them all gracefully — the HTTP
server drains the requests in progress, a task worker (django-tasks-db) finishes its task, then exits; past the
grace period, what is left is killed and its task handed back.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("choeur.serve")

SERVERS = ("granian", "gunicorn")
# A process that dies within this many seconds of its start is restarted after a growing pause.
QUICK_CRASH_SECONDS = 10.0
MAX_RESTART_PAUSE_SECONDS = 30.0


def worker_id(slot: int) -> str:
    """Stable id of the task worker in `slot` on this host: its unfinished task can be handed back on restart."""
    return f"{socket.gethostname()[:40]}-serve-{slot}"


def web_command(server: str, *, host: str, port: int, workers: int, threads: int, grace: int) -> list[str]:
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--workers-kill-timeout",
            str(grace),
            "--respawn-failed-workers",
            "--no-access-log",  # one JSON line per request comes from choeur.core.observability
            "config.wsgi:application",
        ]
    if server == "gunicorn":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--graceful-timeout",
            str(grace),
            "--timeout",
            "120",
            "config.wsgi:application",
        ]
    raise ValueError(server)


@dataclass
class Process:
    name: str
    argv: list[str]
    # Called before every (re)start: hands back what a previous instance left half done.
    before_start: Callable[[], None] | None = None
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_crashes: int = 0
    restart_at: float = 0.0
    restarts: int = 0


@dataclass
class Supervisor:
    processes: list[Process]
    grace_seconds: float = 30.0
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    stopping: bool = False
    poll_seconds: float = 0.2

    def start(self, process: Process) -> None:
        if process.before_start is not None:
            try:
                process.before_start()
            except Exception:
                logger.exception("Préparation du redémarrage de %s en échec", process.name)
        process.popen = subprocess.Popen(process.argv, env=self.env)
        process.started_at = time.monotonic()
        logger.info("Processus démarré", extra={"child": process.name, "pid": process.popen.pid})

    def request_stop(self, signum=None, frame=None) -> None:
        if not self.stopping:
            logger.info("Arrêt demandé : arrêt propre des processus (%.0f s au plus)", self.grace_seconds)
        self.stopping = True

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run(self) -> int:
        try:
            for process in self.processes:
                self.start(process)
            while not self.stopping:
                self.tick()
                time.sleep(self.poll_seconds)
        finally:
            # Also when the supervisor itself fails: no process is left behind without it.
            self.shutdown()
        return 0

    def tick(self) -> None:
        now = time.monotonic()
        for process in self.processes:
            if process.popen is None:
                if now >= process.restart_at:
                    process.restarts += 1
                    self.start(process)
                continue
            code = process.popen.poll()
            if code is None:
                continue
            lived = now - process.started_at
            process.quick_crashes = process.quick_crashes + 1 if lived < QUICK_CRASH_SECONDS else 0
            pause = min(MAX_RESTART_PAUSE_SECONDS, 0.5 * 2**process.quick_crashes) if process.quick_crashes else 0.0
            logger.warning(
                "Processus arrêté (code %s) : redémarrage dans %.1f s",
                code,
                pause,
                extra={"child": process.name, "pid": process.popen.pid, "exit_code": code},
            )
            process.popen = None
            process.restart_at = now + pause

    def shutdown(self) -> int:
        alive = [process for process in self.processes if process.popen is not None and process.popen.poll() is None]
        for process in alive:
            process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for process in alive:
            try:
                process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("Délai d'arrêt dépassé : processus tué", extra={"child": process.name})
                process.popen.kill()
                process.popen.wait()
                if process.before_start is not None:
                    try:
                        process.before_start()  # hand its task back now; the next start would do it anyway
                    except Exception:
                        logger.exception("Remise en file des tâches de %s en échec", process.name)
        logger.info("Tous les processus sont arrêtés")
        return 0
