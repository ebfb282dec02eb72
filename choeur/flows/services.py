"""Flow services: one deposit service for the three doors (portal, API, EDI directory), the processing
entry point run by the task worker, and the reconciler that recovers what a dead worker left behind."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError
from choeur.core.files import file_store
from choeur.core.models import AuditEntry
from choeur.flows.enums import Channel, FlowState, SyntaxeFlux
from choeur.flows.leases import (
    LeaseLost,
    flow_claim,
    flow_mark_incident,
    flow_release_after_failure,
    lease_heartbeat,
    worker_identity,
)
from choeur.flows.models import Flow, flow_number
from choeur.flows.worker import flow_run

logger = logging.getLogger(__name__)

FILENAME_MAX = 255


def _clean_filename(filename: str) -> str:
    # Only the last path component: a name like "../../etc/passwd" or "C:\\x\\f.xml" is just "passwd"/"f.xml".
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if not name:
        raise ApplicationError("Le nom du fichier est vide : donnez un nom au fichier déposé.", field="fichier")
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: FILENAME_MAX - len(ext) - 1] + dot + ext) if dot and len(ext) < 20 else name[:FILENAME_MAX]
    return name


def _clean_syntaxe(syntaxe_flux: str | None) -> str:
    from choeur.flows.validation import UNSUPPORTED_SYNTAXES_FLUX

    value = (syntaxe_flux or "").strip()
    if value in UNSUPPORTED_SYNTAXES_FLUX:
        raise ApplicationError(
            f"La syntaxe de flux « {value} » n'est pas prise en charge : {UNSUPPORTED_SYNTAXES_FLUX[value]}",
            field="syntaxe_flux",
            code="SYNTAXE_FLUX_NON_PRISE_EN_CHARGE",
        )
    if value and value not in SyntaxeFlux.values:
        raise ApplicationError(
            f"La syntaxe de flux « {value} » n'existe pas. Valeurs possibles : "
            f"{', '.join(SyntaxeFlux.values)} — ou laissez vide pour une détection automatique.",
            field="syntaxe_flux",
            code="SYNTAXE_FLUX_INCONNUE",
        )
    return value


def flow_enqueue(flow_id: int) -> None:
    """Queue the processing task. Losing this call is harmless: the reconciler re-queues waiting flows."""
    from choeur.flows.tasks import process_flow

    process_flow.enqueue(flow_id)


def _enqueue_on_commit(flow_id: int) -> None:
    # robust: the deposit is committed whatever happens to the queue; the reconciler covers a failed enqueue.
    transaction.on_commit(lambda: flow_enqueue(flow_id), robust=True)


def _redeposit(flow: Flow, *, by_user=None, by_label: str = "") -> Flow:
    """The same bytes again. The original flow is the answer; an IN_INCIDENTE one (which Chorus Pro says must
    be sent again) goes back to the queue for a fresh set of attempts."""
    if flow.state == FlowState.IN_INCIDENTE:
        with transaction.atomic():
            requeued = Flow.objects.filter(pk=flow.pk, state=FlowState.IN_INCIDENTE).update(
                state=FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP,
                state_changed_at=timezone.now(),
                attempts=0,
                technical_errors=[],
                processed_at=None,
            )
            if requeued:
                audit_log(
                    action="flows.flow.redeposit",
                    actor=by_user,
                    actor_label=by_label,
                    structure_id=flow.structure_id,
                    target=flow,
                    data={"numero_flux_depot": flow.numero_flux_depot},
                )
                _enqueue_on_commit(flow.pk)
        flow.refresh_from_db()
    return flow


def flow_deposit(
    *,
    structure,
    content: bytes,
    filename: str,
    syntaxe_flux: str | None = None,
    channel: str,
    by_user=None,
    by_label: str = "",
) -> tuple[Flow, bool]:
    """Receive a flow: check its size, store its bytes, record it waiting for processing, queue it.

    Nothing is validated here (the worker does it), so the answer is immediate. Idempotent: the same bytes
    from the same structure return the original flow with `created=False`. Raises ApplicationError (French,
    with `field`) for an empty or oversized file or an unknown syntaxeFlux.
    """
    if channel not in Channel.values:
        raise ApplicationError(f"Canal de dépôt inconnu : {channel}.", field="channel")
    filename = _clean_filename(filename)
    syntaxe = _clean_syntaxe(syntaxe_flux)
    if not content:
        raise ApplicationError("Le fichier est vide : déposez un fichier de factures.", field="fichier")
    max_bytes = settings.CHOEUR_FLOW_MAX_BYTES
    if len(content) > max_bytes:
        raise ApplicationError(
            f"Le fichier pèse {len(content) / 1_048_576:.1f} Mo, au-delà de la limite de "
            f"{max_bytes / 1_048_576:.0f} Mo par flux. Répartissez les factures dans plusieurs flux.",
            field="fichier",
            code="FLUX_TROP_VOLUMINEUX",
        )
    digest = hashlib.sha256(content).hexdigest()
    existing = Flow.objects.filter(structure=structure, sha256=digest).first()
    if existing is not None:
        return _redeposit(existing, by_user=by_user, by_label=by_label), False

    stored = file_store(content=content)
    now = timezone.now()
    try:
        with transaction.atomic():
            flow = Flow.objects.create(
                structure=structure,
                deposited_by=by_user if getattr(by_user, "pk", None) else None,
                deposited_by_label=(by_label or "")[:150],
                channel=channel,
                filename=filename,
                syntaxe_flux_declared=syntaxe,
                file=stored,
                sha256=digest,
                size=len(content),
                state=FlowState.IN_RECU,
                state_changed_at=now,
                deposited_at=now,
            )
            # Received, then queued, in the same transaction: the number needs the id.
            flow.numero_flux_depot = flow_number(pk=flow.pk, channel=channel, year=timezone.localdate(now).year)
            flow.state = FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP
            flow.save(update_fields=["numero_flux_depot", "state"])
            audit_log(
                action="flows.flow.deposit",
                actor=by_user,
                actor_kind=AuditEntry.ActorKind.API if by_user is None and by_label else None,
                actor_label=by_label,
                structure_id=structure.pk,
                target=flow,
                data={
                    "numero_flux_depot": flow.numero_flux_depot,
                    "nom": filename,
                    "canal": channel,
                    "syntaxe": syntaxe,
                    "sha256": digest,
                    "taille": len(content),
                },
            )
            _enqueue_on_commit(flow.pk)
    except IntegrityError:
        # The same bytes deposited at the same moment by another request: theirs is the flow.
        existing = Flow.objects.filter(structure=structure, sha256=digest).first()
        if existing is None:
            raise
        return existing, False
    return flow, True


def flow_process(
    *,
    flow_id: int,
    owner: str | None = None,
    validator: Callable[..., list] | None = None,
    invoice_creator: Callable[..., Any] | None = None,
) -> str:
    """Claim and process one flow. Returns the state reached, or "" when another worker has the flow.

    Safe to call any number of times, concurrently or after a crash: only the claimant works, and each
    step is idempotent. An unexpected error sends the flow back to the queue (retried with a growing
    delay) until CHOEUR_FLOW_MAX_ATTEMPTS, then ends it IN_INCIDENTE.
    """
    owner = owner or worker_identity()
    flow = flow_claim(flow_id=flow_id, owner=owner)
    if flow is None:
        return ""
    if flow.attempts > settings.CHOEUR_FLOW_MAX_ATTEMPTS:
        flow_mark_incident(flow_id=flow.pk, message=_interrupted_message(flow, flow.attempts - 1), only_if_owner=owner)
        return FlowState.IN_INCIDENTE
    try:
        with lease_heartbeat(flow_id=flow.pk, owner=owner):
            return flow_run(flow=flow, owner=owner, validator=validator, invoice_creator=invoice_creator)
    except LeaseLost:
        logger.warning("Flux %s : bail perdu, un autre traitement a repris la main.", flow_id)
        return ""
    except Exception as exc:
        logger.exception("Flux %s : échec du traitement (tentative %s).", flow_id, flow.attempts)
        state = flow_release_after_failure(flow=flow, owner=owner, exc=exc)
        if state == FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP:
            _retry_later(flow_id, attempt=flow.attempts)
        return state


def _retry_later(flow_id: int, *, attempt: int) -> None:
    from django.tasks import task_backends

    from choeur.flows.tasks import process_flow

    try:
        if task_backends["default"].supports_defer:
            delay = timedelta(seconds=min(300, 10 * 2 ** (attempt - 1)))
            process_flow.using(run_after=timezone.now() + delay).enqueue(flow_id)
        else:
            # Backends without deferral (the immediate one of tests) retry at once; attempts stay bounded.
            process_flow.enqueue(flow_id)
    except Exception:
        logger.exception("Flux %s : nouvelle tentative non programmée, le réconciliateur s'en chargera.", flow_id)


def _interrupted_message(flow: Flow, times: int) -> str:
    return (
        f"Le traitement du flux a été interrompu {times} fois sans aboutir (arrêt du service de traitement). "
        "Déposez de nouveau le fichier ; si l'incident se répète, contactez l'assistance en citant le numéro "
        f"de flux {flow.numero_flux_depot}."
    )


def flows_reconcile(*, now=None, enqueue: Callable[[int], None] | None = None) -> dict[str, int]:
    """Recover flows a worker or the queue lost. Returns counts of what was done.

    - a flow IN_EN_COURS whose lease expired (its worker died): queued again, or IN_INCIDENTE once
      CHOEUR_FLOW_MAX_ATTEMPTS claims have been spent on it;
    - a flow waiting (IN_RECU / IN_EN_ATTENTE) for more than CHOEUR_FLOW_STALE_SECONDS: queued again
      (its task was lost, or never enqueued).
    Queuing twice is harmless: the claim lets a single worker in.
    """
    now = now or timezone.now()
    enqueue = enqueue or flow_enqueue
    result = {"requeued": 0, "incident": 0}
    expired = Flow.objects.filter(state=FlowState.IN_EN_COURS_TRAITEMENT_CPP, lease_expires_at__lt=now)
    for flow in expired.only("pk", "attempts", "numero_flux_depot", "structure_id"):
        if flow.attempts >= settings.CHOEUR_FLOW_MAX_ATTEMPTS:
            # Only while the lease is still the expired one: a worker may have renewed it meanwhile.
            changed = flow_mark_incident(
                flow_id=flow.pk, message=_interrupted_message(flow, flow.attempts), lease_expired_before=now
            )
            result["incident"] += int(changed)
        else:
            _fail_orphan_task_rows(flow.pk)
            enqueue(flow.pk)
            result["requeued"] += 1
    stale_before = now - timedelta(seconds=settings.CHOEUR_FLOW_STALE_SECONDS)
    waiting = Flow.objects.filter(
        state__in=[FlowState.IN_RECU, FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP], state_changed_at__lt=stale_before
    )
    for flow_id in waiting.values_list("pk", flat=True):
        # Re-arming the staleness clock first means two reconcilers never both queue the same flow.
        rearmed = Flow.objects.filter(
            pk=flow_id,
            state__in=[FlowState.IN_RECU, FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP],
            state_changed_at__lt=stale_before,
        ).update(state=FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP, state_changed_at=now)
        if rearmed:
            enqueue(flow_id)
            result["requeued"] += 1
    if result["requeued"] or result["incident"]:
        logger.info("Réconciliation des flux : %s", result)
    return result


def _fail_orphan_task_rows(flow_id: int) -> None:
    """django-tasks-db leaves the task row of a killed worker RUNNING forever (platform-notes §2.1): mark it
    failed so that the task list tells the truth. The flow itself is recovered through its own row."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the backend is optional
        return
    from django.tasks import TaskResultStatus, task_backends

    backend = task_backends["default"]
    if backend.__class__.__module__.split(".")[0] != "django_tasks_db":
        return
    from choeur.flows.tasks import process_flow

    orphans = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, task_path=process_flow.module_path, args_kwargs__args=[flow_id]
    )
    orphans.update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="choeur.flows.leases.LeaseLost",
        traceback=f"Travailleur arrêté pendant le traitement (processus {os.getpid()} : bail expiré, flux repris).",
    )


# --- EDI door: a directory per structure -------------------------------------------------------------------

INGEST_DONE_DIR = "traites"
INGEST_ERROR_DIR = "erreurs"
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".erreur.txt")


def _ingest_candidates(folder, *, min_age: float, now: float) -> list:
    files = []
    for path in sorted(folder.iterdir()):
        name = path.name
        # Hidden and temporary names are transfers in progress (the EDI convention is to rename when done);
        # a file modified less than `min_age` seconds ago may still be being written.
        if name.startswith(".") or name.lower().endswith(_IGNORED_SUFFIXES) or not path.is_file():
            continue
        try:
            if now - path.stat().st_mtime < min_age:
                continue
        except OSError:
            continue
        files.append(path)
    return files


def _move_aside(path, folder_name: str, *, suffix: str = ""):
    """Move `path` into its sibling folder `folder_name`, never overwriting an earlier file of the same name."""
    target_dir = path.parent / folder_name
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.name}.{suffix or timezone.now().strftime('%Y%m%d%H%M%S%f')}"
    os.replace(path, target)
    return target


def _ingest_refuse(path, message: str) -> None:
    target = _move_aside(path, INGEST_ERROR_DIR)
    target.with_name(target.name + ".erreur.txt").write_text(
        f"Fichier : {path.name}\nDate : {timezone.localtime().strftime('%d/%m/%Y %H:%M:%S')}\n\n"
        f"Le fichier n'a pas été déposé.\n{message}\n",
        encoding="utf-8",
    )


def flows_ingest_directory(*, root, structure_identifier: str | None = None, min_age: float = 5.0) -> dict[str, int]:
    """One pass over an EDI drop directory. Each file becomes a flow of channel EDI_DIR.

    Layout: `root/<SIRET>/<files>` (one folder per depositing structure), or, with `structure_identifier`,
    files directly in `root` too. A file is moved to `traites/` only once its flow row is committed, or to
    `erreurs/` with a `.erreur.txt` explanation. A crash between the commit and the move leaves the file in
    place: the next pass deposits it again, which returns the same flow (idempotent deposit), then moves it.
    """
    import time as _time
    from pathlib import Path

    from choeur.directory.models import Structure

    root = Path(root)
    if not root.is_dir():
        raise ApplicationError(f"Le répertoire de dépôt {root} n'existe pas.", field="dir")
    folders: list[tuple[Path, Any]] = []
    if structure_identifier:
        structure = Structure.objects.filter(identifier=structure_identifier).first()
        if structure is None:
            raise ApplicationError(
                f"Aucune structure n'a l'identifiant {structure_identifier} : vérifiez le SIRET passé à --structure.",
                field="structure",
            )
        folders.append((root, structure))
        if (root / structure_identifier).is_dir():
            folders.append((root / structure_identifier, structure))
    else:
        for folder in sorted(root.iterdir()):
            if (
                folder.is_dir()
                and not folder.name.startswith(".")
                and folder.name not in (INGEST_DONE_DIR, INGEST_ERROR_DIR)
            ):
                folders.append((folder, Structure.objects.filter(identifier=folder.name).first()))
    result = {"deposited": 0, "already": 0, "refused": 0}
    now = _time.time()
    for folder, structure in folders:
        for path in _ingest_candidates(folder, min_age=min_age, now=now):
            if structure is None:
                _ingest_refuse(
                    path,
                    f"Le dossier « {folder.name} » ne correspond à aucune structure : nommez le dossier de dépôt "
                    "du SIRET (14 chiffres) de la structure qui émet les factures.",
                )
                result["refused"] += 1
                continue
            if not structure.is_active:
                _ingest_refuse(path, f"La structure {structure.identifier} est désactivée : elle ne peut pas déposer.")
                result["refused"] += 1
                continue
            try:
                content = path.read_bytes()
            except OSError as exc:
                logger.warning(
                    "Dépôt EDI : lecture impossible de %s (%s), nouvel essai au prochain passage.", path, exc
                )
                continue
            try:
                flow, created = flow_deposit(
                    structure=structure,
                    content=content,
                    filename=path.name,
                    channel=Channel.EDI_DIR,
                    by_label=f"Dépôt EDI (répertoire {folder.name})"[:150],
                )
            except ApplicationError as exc:
                _ingest_refuse(path, exc.message)
                result["refused"] += 1
                continue
            # The flow row is committed: only now may the file leave the drop folder.
            _move_aside(path, INGEST_DONE_DIR, suffix=flow.numero_flux_depot or "")
            result["deposited" if created else "already"] += 1
    return result
