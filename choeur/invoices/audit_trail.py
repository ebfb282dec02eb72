"""The « piste d'audit » of one invoice: its whole history, in one document anyone can check.

BOFiP (BOI-CF-COM-10-10-30-10) accepts a « piste d'audit fiable » as proof of an e-invoice's origin and
integrity: documented controls linking the invoice to its history. This gathers, for one invoice, the
status changes, the other actions (downloads, acknowledgements, attachments), the audit-log entries that
target it, and every stored document with its SHA-256 fingerprint recomputed from the stored bytes. It
also checks the audit chain around each entry (its own hash, the link to the entry before and after),
so an edited, deleted or reordered entry shows; `choeur verify_audit` checks the whole chain.

Who reads it matters: when the recipient (structure setting `mise_en_paiement_non_remontee`, or its service)
does not report « mise en paiement », every other party (`for_supplier=True`: the supplier, a valideur)
gets a trail without it — no MISE_EN_PAIEMENT status, status change or audit entry — exactly as it sees
the invoice elsewhere (lifecycle.status_for_supplier, status_changes_for).
"""

from __future__ import annotations

import hashlib

from django.template.loader import render_to_string
from django.utils import timezone

from choeur.core.audit import GENESIS_HASH
from choeur.core.audit_signing import checkpoint_covering
from choeur.core.models import AuditChainHead, AuditEntry
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.lifecycle import payment_status_hidden, status_for_supplier
from choeur.invoices.models import Invoice, InvoiceEvent, InvoiceStatusChange

FORMAT_VERSION = 1


def _when(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _label(choices, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value


def _document(role: str, name: str, stored) -> dict:
    """One stored file, its fingerprint as recorded and as recomputed from the bytes kept."""
    try:
        computed = hashlib.sha256(stored.read()).hexdigest()
    except OSError:
        computed = ""
    return {
        "role": role,
        "nom": name,
        "taille": stored.size,
        "type_mime": stored.mime_type,
        "sha256": stored.sha256,
        "sha256_recalcule": computed,
        "intact": computed == stored.sha256,
    }


def _reveals_payment(entry: AuditEntry) -> bool:
    """An audit entry that records the mise en paiement (the transition, or any entry saying it led there)."""
    data = entry.data if isinstance(entry.data, dict) else {}
    return entry.action == "invoices.invoice.mettre_en_paiement" or data.get("vers") == InvoiceStatus.MISE_EN_PAIEMENT


def _documents(invoice: Invoice) -> list[dict]:
    documents = []
    if invoice.main_document_id:
        documents.append(_document("Document de facture", invoice.main_document_name, invoice.main_document))
    if invoice.structured_xml_id:
        documents.append(_document("Données structurées", f"{invoice.number}.xml", invoice.structured_xml))
    if invoice.certificate_id:
        documents.append(_document("Certificat de dépôt", invoice.certificate_number, invoice.certificate))
    for attachment in invoice.attachments.select_related("file"):
        document = _document("Pièce jointe", attachment.name, attachment.file)
        document["ajoutee_le"] = _when(attachment.added_at)
        document["statut_lors_de_l_ajout"] = attachment.added_in_status
        documents.append(document)
    return documents


def _verify_entries(entries: list[AuditEntry]) -> list[str]:
    """Each entry intact and still linked to its neighbours in the chain (French descriptions of breaks)."""
    problems = []
    head = AuditChainHead.objects.filter(pk=1).first()
    for entry in entries:
        if entry.compute_hash() != entry.hash:
            problems.append(f"Entrée n°{entry.pk} ({entry.action}) : contenu modifié après écriture.")
        previous = AuditEntry.objects.filter(pk__lt=entry.pk).order_by("-pk").values_list("hash", flat=True).first()
        if entry.prev_hash != (previous or GENESIS_HASH):
            problems.append(
                f"Entrée n°{entry.pk} ({entry.action}) : le maillon précédent ne correspond pas "
                "(entrée supprimée, insérée ou réordonnée)."
            )
        following = AuditEntry.objects.filter(pk__gt=entry.pk).order_by("pk").values_list("prev_hash", flat=True)
        following = following.first()
        expected_next = following if following is not None else (head.last_hash if head else entry.hash)
        if expected_next != entry.hash:
            problems.append(
                f"Entrée n°{entry.pk} ({entry.action}) : l'entrée suivante ne la désigne plus "
                "(entrée modifiée, supprimée ou réordonnée)."
            )
    return problems


def audit_trail_data(*, invoice: Invoice, for_supplier: bool = False) -> dict:
    """The piste d'audit as a JSON-serialisable dict (French keys, as the exported document).

    `for_supplier`: the reader is not the recipient (supplier, valideur): a mise en paiement the recipient
    does not report is left out (see the module docstring). The recipient's own trail is complete."""
    invoice = Invoice.objects.select_related(
        "supplier", "recipient", "recipient_service", "main_document", "structured_xml", "certificate"
    ).get(pk=invoice.pk)
    changes = list(InvoiceStatusChange.objects.for_invoice(invoice).select_related("actor_structure"))
    events = list(InvoiceEvent.objects.filter(invoice=invoice).select_related("actor_structure"))
    entries = list(AuditEntry.objects.for_object(invoice).order_by("pk"))
    documents = _documents(invoice)
    status = invoice.status
    if for_supplier and payment_status_hidden(invoice):
        status = status_for_supplier(invoice)
        changes = [c for c in changes if c.to_status != InvoiceStatus.MISE_EN_PAIEMENT]
        entries = [e for e in entries if not _reveals_payment(e)]
        for document in documents:
            if document.get("statut_lors_de_l_ajout") == InvoiceStatus.MISE_EN_PAIEMENT:
                document["statut_lors_de_l_ajout"] = status
    problems = _verify_entries(entries)
    checkpoint = checkpoint_covering(entries[-1].pk) if entries else None
    if checkpoint is not None and not (checkpoint["signature_valide"] and checkpoint["entree_conforme"]):
        problems.append(
            f"Point de contrôle signé n°{checkpoint['numero']} : "
            + ("signature invalide." if not checkpoint["signature_valide"] else "le journal a été réécrit depuis.")
        )
    altered = [d for d in documents if not d["intact"]]
    problems += [f"Document « {d['nom']} » ({d['role']}) : son empreinte ne correspond plus." for d in altered]
    main = next((d for d in documents if d["role"] in ("Document de facture", "Données structurées")), None)
    if invoice.document_sha256 and not any(d["sha256"] == invoice.document_sha256 for d in documents):
        problems.append("L'empreinte du document déposé ne correspond à aucun document conservé.")
    return {
        "format": "choeur.piste_audit",
        "version": FORMAT_VERSION,
        "genere_le": _when(timezone.now()),
        "facture": {
            "id": invoice.pk,
            "numero": invoice.number,
            "type": invoice.invoice_type,
            "cadre": invoice.cadre,
            "date": invoice.invoice_date.isoformat() if invoice.invoice_date else "",
            "fournisseur": {"designation": invoice.supplier.designation, "identifiant": invoice.supplier.identifier},
            "destinataire": (
                {"designation": invoice.recipient.designation, "identifiant": invoice.recipient.identifier}
                if invoice.recipient_id
                else None
            ),
            "service_executant": invoice.recipient_service.code if invoice.recipient_service_id else "",
            "montant_ttc": str(invoice.total_ttc) if invoice.total_ttc is not None else "",
            "net_a_payer": str(invoice.montant_a_payer) if invoice.montant_a_payer is not None else "",
            "devise": invoice.currency,
            "statut": status,
            "statut_libelle": _label(InvoiceStatus, status),
            "deposee_le": _when(invoice.deposited_at),
            "certificat_de_depot": invoice.certificate_number,
            "empreinte_document_depose": invoice.document_sha256,
            "numero_mandat": invoice.numero_dp_mandat,
        },
        "documents": documents,
        "statuts": [
            {
                "date": _when(c.created_at),
                "de": c.from_status,
                "vers": c.to_status,
                "vers_libelle": _label(InvoiceStatus, c.to_status),
                "action": c.transition,
                "acteur": c.actor_label,
                "structure": c.actor_structure.designation if c.actor_structure_id else "",
                "role": c.actor_role,
                "canal": c.channel,
                "motif": c.motif,
                "commentaire": c.comment,
                "donnees": c.data,
            }
            for c in changes
        ],
        "actions": [
            {
                "date": _when(e.created_at),
                "action": e.action,
                "action_libelle": e.get_action_display(),
                "acteur": e.actor_label,
                "structure": e.actor_structure.designation if e.actor_structure_id else "",
                "canal": e.channel,
                "donnees": e.data,
            }
            for e in events
        ],
        "journal_audit": [
            {
                "id": e.pk,
                "date": _when(e.created_at),
                "action": e.action,
                "acteur": e.actor_label,
                "type_acteur": e.actor_kind,
                "donnees": e.data,
                "hash_precedent": e.prev_hash,
                "hash": e.hash,
            }
            for e in entries
        ],
        "verification": {
            "integre": not problems,
            "problemes": problems,
            "entrees_verifiees": len(entries),
            "documents_verifies": len(documents),
            "document_principal_intact": main["intact"] if main else None,
            # The chain up to this invoice's last entry, signed outside the database (None: not signed yet).
            "point_de_controle_signe": checkpoint,
            "methode": (
                "Chaque entrée du journal porte l'empreinte SHA-256 de l'entrée précédente et de son propre contenu ; "
                "chaque entrée est recalculée et comparée à ses voisines. Chaque document est relu et son empreinte "
                "SHA-256 recalculée. La tête de la chaîne est signée périodiquement (Ed25519, clé hors de la base) : "
                "le point de contrôle qui couvre ces entrées est joint avec sa clé publique. La vérification de la "
                "chaîne entière se fait avec « choeur verify_audit » ou, sur un export, hors ligne."
            ),
        },
    }


def audit_trail_pdf(*, invoice: Invoice, for_supplier: bool = False) -> bytes:
    """The piste d'audit as a PDF/A-2b document (WeasyPrint, nothing fetched); `for_supplier` as above."""
    from choeur.invoices.facturx import render_html_pdf

    data = audit_trail_data(invoice=invoice, for_supplier=for_supplier)
    html = render_to_string("invoices/audit_trail.html", {"t": data})
    return render_html_pdf(html, pdf_variant="pdf/a-2b")
