"""Demo sollicitations between the demo personas (choeur/directory/demo.py, choeur/invoices/demo.py), one in
each state, so that « Sollicitations émises / reçues » and the Synthèse show something after `seed_demo`, and a
platform request (creation of a public structure) waiting for the demo administrator.

Made through the services, step by step as people would (messages, log, audit, notifications are real).
Idempotent: a sollicitation whose sender structure already has the subject is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from choeur.directory.demo import demo_structure
from choeur.directory.enums import IdentifierType
from choeur.directory.identifiers import make_siret
from choeur.directory.models import Structure
from choeur.invoices.models import Invoice
from choeur.sollicitations.models import Sollicitation, SollicitationCategory, SollicitationSubCategory
from choeur.sollicitations.referential import categories_seed
from choeur.sollicitations.services import sollicitation_act, sollicitation_create

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass(frozen=True)
class DemoSollicitation:
    sender: str  # keys of choeur.directory.demo
    recipient: str  # "" for support
    subcategory: str  # CATEGORIE.SOUS_CATEGORIE
    subject: str
    body: str
    invoice: str = ""
    # (who: "emetteur" / "destinataire", action, message) in order.
    steps: tuple[tuple[str, str, str], ...] = ()
    request_data: dict = field(default_factory=dict)


DEMO_SOLLICITATIONS = (
    DemoSollicitation(
        "marchand", "etat", "FACTURE.SUSPENSION", "Facture FM-2026-0107 suspendue : quel bon de livraison ?",
        "Bonjour, notre facture FM-2026-0107 est suspendue pour bon de livraison manquant. Lequel attendez-vous ?",
        invoice="FM-2026-0107",
    ),
    DemoSollicitation(
        "marchand", "hopital", "FACTURE.PAIEMENT", "Date de paiement de la facture FM-2026-0203",
        "Pouvez-vous nous indiquer la date prévue de paiement ?", invoice="FM-2026-0203",
        steps=(("destinataire", "prendre_en_charge", ""),),
    ),
    DemoSollicitation(
        "garnier", "commune", "FACTURE.SUSPENSION", "Facture CGL-2026-036 : pièce manquante",
        "Quelle pièce manque-t-il pour la facture CGL-2026-036 ?", invoice="CGL-2026-036",
        steps=(("destinataire", "demander_complement", "Merci de joindre le procès-verbal de réception signé."),),
    ),
    DemoSollicitation(
        "aubert", "commune", "MARCHE.SERVICE", "Code service pour la médiathèque",
        "Quel code service utiliser pour les travaux de la médiathèque ?",
        steps=(
            ("destinataire", "demander_complement", "De quel marché s'agit-il ? Joignez le bon de commande."),
            ("emetteur", "completer", "Voici le bon de commande."),
        ),
    ),
    DemoSollicitation(
        "picard", "commune", "FACTURE.SUIVI", "Suivi de la facture EP-2026-112",
        "Notre facture EP-2026-112 a-t-elle bien été reçue ?", invoice="EP-2026-112",
        steps=(("destinataire", "repondre", "Oui, elle est mise en paiement depuis le début du mois."),),
    ),
    DemoSollicitation(
        "marchand", "etat", "FACTURE.PAIEMENT", "Facture FM-2026-0104 mandatée mais non payée",
        "La facture FM-2026-0104 est mandatée depuis longtemps : quand sera-t-elle payée ?", invoice="FM-2026-0104",
        steps=(
            ("destinataire", "repondre", "Le comptable la prendra en charge sous peu."),
            ("emetteur", "relancer", "Trois semaines ont passé : pouvez-vous vérifier auprès du comptable ?"),
        ),
    ),
    DemoSollicitation(
        "garnier", "commune", "FACTURE.SUIVI", "Facture CGL-2026-031 reçue ?",
        "Pouvez-vous confirmer la réception de CGL-2026-031 ?", invoice="CGL-2026-031",
        steps=(
            ("destinataire", "repondre", "Reçue et payée."),
            ("emetteur", "cloturer", ""),
        ),
    ),
    DemoSollicitation(
        "garnier", "", "COMPTE.CREATION_STRUCTURE_PUBLIQUE", "Créer le syndicat des eaux du Val",
        "Notre client, le syndicat des eaux du Val, n'est pas inscrit : merci de créer sa structure.",
        request_data={"siret": make_siret("99990330", "0012"),
                      "raison_sociale": "Syndicat intercommunal des eaux du Val",
                      "adresse": "2 rue de la Source", "code_postal": "69390", "ville": "Vernaison"},
    ),
)  # fmt: skip


@dataclass
class DemoSollicitationsReport:
    created: int = 0
    kept: int = 0
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.created and not self.skipped:
            return f"Sollicitations de démonstration déjà présentes ({self.kept}) : rien n'a changé."
        text = f"Sollicitations de démonstration : {self.created} créée(s), {self.kept} déjà présente(s)."
        if self.skipped:
            text += f" Non créées (prérequis absents) : {', '.join(self.skipped)}."
        return text


def _structure(key: str) -> Structure:
    return Structure.objects.get(identifier_type=IdentifierType.SIRET, identifier=demo_structure(key).siret)


def _person(key: str):
    return get_user_model().objects.get(email=demo_structure(key).people[0].email)


def demo_sollicitations_seed() -> DemoSollicitationsReport:
    report = DemoSollicitationsReport()
    # Laid down by a migration; ensured here too for a database made without migrations (tests).
    categories_seed(SollicitationCategory, SollicitationSubCategory)
    for item in DEMO_SOLLICITATIONS:
        sender = _structure(item.sender)
        if Sollicitation.objects.filter(sender_structure=sender, subject=item.subject).exists():
            report.kept += 1
            continue
        invoice = Invoice.objects.filter(supplier=sender, number=item.invoice).first() if item.invoice else None
        if item.invoice and invoice is None:
            report.skipped.append(item.subject)
            continue
        category, _, code = item.subcategory.partition(".")
        sollicitation = sollicitation_create(
            by=_person(item.sender),
            sender_structure=sender,
            recipient_structure=_structure(item.recipient) if item.recipient and invoice is None else None,
            invoice=invoice,
            subcategory=SollicitationSubCategory.objects.get(category__code=category, code=code),
            subject=item.subject,
            body=item.body,
            request_data=item.request_data,
        )
        for who, action, body in item.steps:
            by = _person(item.sender) if who == "emetteur" else _person(item.recipient)
            files = [("bon-de-commande.pdf", PDF)] if action == "completer" else []
            sollicitation = sollicitation_act(
                sollicitation=sollicitation, action=action, by=by, body=body, attachments=files
            )
        report.created += 1
    return report
