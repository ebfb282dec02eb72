"""EN 16931 business terms an invoice carries for the record (`Invoice.business_terms`), with their French
names: shown on the invoice page, in the API and the readable PDF; never acted on by the platform (the
routing, amounts and references it acts on are model fields).

The stored value is a dict; `clean_business_terms` keeps the known keys only, as text of bounded length, so
that a document with odd content still makes a clean record.
"""

from __future__ import annotations

from collections.abc import Mapping

from choeur.core.errors import ApplicationError

# key → (BT, French label)
REFERENCES = {
    "project_reference": ("BT-11", "Référence du projet"),
    "sales_order_reference": ("BT-14", "Référence de la commande (vendeur)"),
    "receiving_advice_reference": ("BT-15", "Référence de l'avis de réception"),
    "despatch_advice_reference": ("BT-16", "Référence de l'avis d'expédition"),
    "tender_reference": ("BT-17", "Référence de l'appel d'offres ou du lot"),
    "object_identifier": ("BT-18", "Identifiant d'objet facturé"),
    "buyer_accounting_reference": ("BT-19", "Référence comptable de l'acheteur"),
    "payment_terms": ("BT-20", "Conditions de paiement"),
}
PARTIES = {
    "payee": ("BG-10", "Bénéficiaire du paiement", {"name": "Nom", "identifier": "Identifiant", "legal_id": "SIREN"}),
    "tax_representative": (
        "BG-11",
        "Représentant fiscal du vendeur",
        {"name": "Nom", "vat_id": "Numéro de TVA", "country": "Pays"},
    ),
    "delivery": (
        "BG-13",
        "Livraison",
        {"name": "Livré à", "location_id": "Lieu de livraison", "address": "Adresse", "country": "Pays"},
    ),
}
LISTS = {
    "preceding_invoices": ("BG-3", "Factures antérieures", {"number": "Numéro", "date": "Date"}),
    "notes": ("BG-1", "Notes", {"subject": "Objet", "content": "Texte"}),
}
MAX_TEXT = 1000
MAX_ITEMS = 50


def _text(value) -> str:
    return " ".join(str(value).split())[:MAX_TEXT] if value not in (None, "") else ""


def clean_business_terms(value) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ApplicationError(
            "Autres termes métier : un objet est attendu (clé → valeur).",
            field="business_terms",
            code="donnee_invalide",
        )
    cleaned: dict = {}
    for key in REFERENCES:
        text = _text(value.get(key))
        if text:
            cleaned[key] = text
    for key, (_bt, _label, fields) in PARTIES.items():
        part = value.get(key)
        if isinstance(part, Mapping):
            kept = {name: _text(part.get(name)) for name in fields if _text(part.get(name))}
            if kept:
                cleaned[key] = kept
    for key, (_bt, _label, fields) in LISTS.items():
        items = value.get(key)
        if isinstance(items, list):
            kept_items = []
            for item in items[:MAX_ITEMS]:
                if isinstance(item, Mapping):
                    kept = {name: _text(item.get(name)) for name in fields if _text(item.get(name))}
                    if kept:
                        kept_items.append(kept)
            if kept_items:
                cleaned[key] = kept_items
    return cleaned


def business_terms_display(terms: Mapping | None) -> list[tuple[str, str, str]]:
    """(BT, label, value) rows in the norm's order, for pages and PDFs."""
    terms = terms or {}
    rows = []
    for key, (bt, label) in REFERENCES.items():
        if terms.get(key):
            rows.append((bt, label, terms[key]))
    for key, (bt, label, fields) in PARTIES.items():
        part = terms.get(key) or {}
        text = " ; ".join(f"{fields[name]} : {part[name]}" for name in fields if part.get(name))
        if text:
            rows.append((bt, label, text))
    for key, (bt, label, fields) in LISTS.items():
        for item in terms.get(key) or []:
            text = " — ".join(item[name] for name in fields if item.get(name))
            if text:
                rows.append((bt, label, text))
    return rows
