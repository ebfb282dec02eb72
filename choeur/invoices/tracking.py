"""« Où en est ma facture ? »: the expected next step of an invoice, who owes it and by when.

Suppliers' first complaint about invoicing portals is not knowing (platform-notes.md §6, pain point 4): the
invoice page therefore says, for every status, what happens next and the date it is due — the legal payment
deadline while the buyer processes it, the 15 days of a valideur, the 7 days to acknowledge a rejection.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice

S = InvoiceStatus
VALIDEUR_DAYS = 15  # tacit validation after 15 days (chorus-pro.md §6.3)
REJECTION_ACK_DAYS = 7  # acknowledging a rejection becomes mandatory after 7 days (chorus-pro.md §6.2)

RECIPIENT_PROCESSING = (
    S.MISE_A_DISPOSITION,
    S.COMPLETEE,
    S.SERVICE_FAIT,
    S.MANDATEE,
    S.MISE_A_DISPOSITION_COMPTABLE,
    S.COMPTABILISEE,
)


@dataclass(frozen=True)
class NextStep:
    actor: str  # who acts: "fournisseur", "destinataire", "valideur", "plateforme", "" (nobody: final)
    text: str
    deadline: datetime.date | None = None
    deadline_text: str = ""
    final: bool = False


def _plus_days(moment: datetime.datetime | None, days: int) -> datetime.date | None:
    if moment is None:
        return None
    return timezone.localdate(moment) + datetime.timedelta(days=days)


def invoice_next_step(
    *, invoice: Invoice, payment_deadline: datetime.date | None = None, status: str | None = None
) -> NextStep:
    """What is expected next for `invoice` (in `status`, when the viewer sees another one than the real one)."""
    status = status or invoice.status
    if status == S.BROUILLON:
        return NextStep("fournisseur", "Terminer la saisie, puis « Valider et envoyer ».")
    if status in (S.DEPOSEE, S.EN_COURS_ACHEMINEMENT):
        return NextStep("plateforme", "Acheminement vers le destinataire (ou le valideur) par la plateforme.")
    if status in (S.A_VALIDER_1, S.A_VALIDER_2):
        deadline = _plus_days(invoice.status_changed_at, VALIDEUR_DAYS)
        return NextStep(
            "valideur",
            "Validation par le valideur. Sans réponse dans les 15 jours, la facture est validée tacitement.",
            deadline,
            "Validation tacite le",
        )
    if status in (S.ERREUR_FOURNISSEUR_SUR_VALIDEUR, S.ERREUR_COTRAITANT_SUR_VALIDEUR):
        return NextStep("fournisseur", "Désigner le bon valideur : la facture repart alors en validation.")
    if status in (S.REFUSEE_1, S.REFUSEE_2):
        return NextStep(
            "fournisseur", "Facture refusée par le valideur : émettez une nouvelle facture si besoin.", final=True
        )
    if status in (S.VALIDEE_1, S.VALIDEE_2, S.ABSENCE_VALIDATION_1_HORS_DELAI, S.ABSENCE_VALIDATION_2_HORS_DELAI):
        return NextStep("plateforme", "Transmission au destinataire (ou au valideur suivant) par la plateforme.")
    if status in RECIPIENT_PROCESSING:
        return NextStep(
            "destinataire",
            "Traitement par le destinataire jusqu'à la mise en paiement.",
            payment_deadline,
            "Paiement attendu au plus tard le",
        )
    if status == S.SUSPENDUE:
        return NextStep(
            "fournisseur",
            "Compléter la facture avec les pièces ou informations demandées : le délai de paiement est suspendu "
            "jusque-là.",
        )
    if status == S.A_RECYCLER:
        return NextStep(
            "fournisseur",
            "Recycler la facture : corriger le destinataire, le service ou le numéro d'engagement (le numéro de "
            "facture reste le même).",
        )
    if status == S.REJETEE:
        if invoice.rejet_traite:
            return NextStep("", "Rejet traité. Émettez une nouvelle facture si la somme reste due.", final=True)
        return NextStep(
            "fournisseur",
            "Prendre connaissance du rejet (« Traiter le rejet »), puis émettre une nouvelle facture si besoin.",
            _plus_days(invoice.status_changed_at, REJECTION_ACK_DAYS),
            "Prise de connaissance obligatoire à partir du",
        )
    if status == S.MISE_EN_PAIEMENT:
        return NextStep("", "Facture mise en paiement : le virement suit les délais du comptable public.", final=True)
    return NextStep("", "Suivez le circuit de la facture dans son historique.")
