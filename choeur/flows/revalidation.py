"""Re-judging the archived invoices when a rule set changes: every stored invoice XML validated again, in
batches, across processes (choeur/flows/validation/batch.py), each verdict recorded beside the previous one.

The previous verdict of an invoice is the one of its latest re-validation, else « conforme » (it was accepted
at deposit). Nothing is changed on the invoice itself (an invoice sent is immutable): the verdicts are the
audit trail an operator reads before deciding what to do (`choeur revalidate`, admin).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from choeur.flows.models import Revalidation, RevalidationVerdict
from choeur.flows.validation import batch, engines
from choeur.invoices.models import Invoice

logger = logging.getLogger(__name__)
BATCH_SIZE = 500


def invoice_archived_list():
    """Invoices that carry their structured XML (UBL or CII), oldest first."""
    return Invoice.objects.filter(structured_xml__isnull=False).order_by("pk")


def revalidation_run(
    *,
    reason: str = "",
    engine: str | None = None,
    rules: str = "en16931",
    jobs: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> Revalidation:
    """Re-judge every archived invoice; returns the recorded run (its counters and verdicts)."""
    from django.conf import settings

    engine = engines.check_engine(engine or getattr(settings, "CHOEUR_VALIDATION_ENGINE", "auto") or "auto")
    if batch_size < 1:
        raise ValueError("La taille des lots doit être d'au moins une facture.")
    run = Revalidation.objects.create(reason=reason[:255], engine=engine, rules=rules)
    invoices = invoice_archived_list()
    total = invoices.count()
    latest = RevalidationVerdict.objects.filter(invoice=OuterRef("pk")).exclude(revalidation=run)
    options = batch.Options(rules=rules, fr_blocking=rules == "fr", engine=engine)
    last_pk = 0
    with batch.ParallelValidator(
        jobs=jobs if total >= batch.PARALLEL_THRESHOLD or jobs else 1, options=options
    ) as validator:
        while True:
            rows = list(
                invoices.filter(pk__gt=last_pk)
                .select_related("structured_xml")
                .annotate(previous=Subquery(latest.order_by("-revalidation_id").values("valid")[:1]))[:batch_size]
            )
            if not rows:
                break
            last_pk = rows[-1].pk
            previous = {row.pk: row.previous for row in rows}
            items = [(row.pk, row.structured_xml.read(), f"{row.number or row.pk}.xml") for row in rows]
            verdicts = []
            for invoice_id, reports in validator.map(items):
                valid = bool(reports) and all(report.valid for report in reports)
                was = previous[invoice_id]
                verdicts.append(
                    RevalidationVerdict(
                        revalidation=run,
                        invoice_id=invoice_id,
                        valid=valid,
                        previous_valid=True if was is None else was,
                        errors=[f.to_dict() for report in reports for f in report.findings if f.blocking],
                    )
                )
                if not run.rule_sets and reports and reports[0].rule_sets:
                    run.rule_sets = [
                        {
                            "layer": i.layer,
                            "name": i.name,
                            "version": i.version,
                            "sha256": i.sha256,
                            "engine": i.engine,
                        }
                        for i in reports[0].rule_sets
                    ]
            with transaction.atomic():
                RevalidationVerdict.objects.bulk_create(verdicts)
                run.checked += len(verdicts)
                run.valid_count += sum(v.valid for v in verdicts)
                run.invalid_count += sum(not v.valid for v in verdicts)
                run.changed_count += sum(v.changed for v in verdicts)
                run.save(update_fields=["checked", "valid_count", "invalid_count", "changed_count", "rule_sets"])
            if progress is not None:
                progress(run.checked, total)
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at"])
    logger.info(
        "Revalidation %s : %s factures, %s non conformes, %s verdicts changés",
        run.pk,
        run.checked,
        run.invalid_count,
        run.changed_count,
    )
    return run
