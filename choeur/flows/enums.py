"""Chorus Pro's vocabulary for flows (« flux »), kept as the API spells it (chorus-pro.md §7)."""

from django.db import models


class FlowState(models.TextChoices):
    """`etatCourantFlux` / `etatCourantDepotFlux`."""

    IN_RECU = "IN_RECU", "Reçu"
    IN_EN_ATTENTE_TRAITEMENT_CPP = "IN_EN_ATTENTE_TRAITEMENT_CPP", "En attente de traitement"
    IN_EN_COURS_TRAITEMENT_CPP = "IN_EN_COURS_TRAITEMENT_CPP", "En cours de traitement"
    IN_INTEGRE = "IN_INTEGRE", "Intégré"
    IN_INTEGRE_PARTIEL = "IN_INTEGRE_PARTIEL", "Intégré partiellement"
    IN_REJETE = "IN_REJETE", "Rejeté"
    IN_INCIDENTE = "IN_INCIDENTE", "Incident technique"


# Chorus Pro's own list of final states, plus IN_INCIDENTE: nothing more happens to the flow unless it is
# deposited again (see flow_deposit, which re-queues an IN_INCIDENTE flow).
FINAL_STATES = (
    FlowState.IN_INTEGRE,
    FlowState.IN_INTEGRE_PARTIEL,
    FlowState.IN_REJETE,
    FlowState.IN_INCIDENTE,
)
PENDING_STATES = (
    FlowState.IN_RECU,
    FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP,
    FlowState.IN_EN_COURS_TRAITEMENT_CPP,
)


class Channel(models.TextChoices):
    """The door the flow came in through."""

    PORTAIL = "PORTAIL", "Portail"
    API = "API", "API"
    EDI_DIR = "EDI_DIR", "EDI (dépôt dans un répertoire)"


# One digit of the numéro de flux per channel (see models.flow_number).
CHANNEL_DIGITS = {Channel.PORTAIL: "1", Channel.API: "2", Channel.EDI_DIR: "3"}


class SyntaxeFlux(models.TextChoices):
    """`syntaxeFlux` values accepted at deposit (chorus-pro.md §7.1): the current ones Chœur ingests (the
    validation engine's SYNTAXES_FLUX; Chorus Pro's proprietary IN_DP_E2_CPP_FACTURE_MIN is not among them)."""

    IN_DP_E1_UBL_INVOICE = "IN_DP_E1_UBL_INVOICE", "E1 — UBL Invoice (structuré)"
    IN_DP_E1_CII_16B = "IN_DP_E1_CII_16B", "E1 — CII 16B (structuré)"
    IN_DP_E2_UBL_INVOICE_MIN = "IN_DP_E2_UBL_INVOICE_MIN", "E2 — UBL Invoice minimal (mixte)"
    IN_DP_E2_CII_MIN_16B = "IN_DP_E2_CII_MIN_16B", "E2 — CII 16B minimal (mixte)"
    IN_DP_E2_CII_FACTURX = "IN_DP_E2_CII_FACTURX", "E2 — Factur-X (PDF avec XML CII)"
    IN_DP_E3_UBL_INVOICE = "IN_DP_E3_UBL_INVOICE", "E3 — UBL Invoice (mémoire de justice)"


# `codeInterfaceFlux` per syntax: Chorus Pro's FSO1110A is the UBL E1 interface; the others follow the same
# pattern (our own numbering, documented in docs/flows.md).
INTERFACE_CODES = {
    SyntaxeFlux.IN_DP_E1_UBL_INVOICE: "FSO1110A",
    SyntaxeFlux.IN_DP_E1_CII_16B: "FSO1111A",
    SyntaxeFlux.IN_DP_E2_UBL_INVOICE_MIN: "FSO1112A",
    SyntaxeFlux.IN_DP_E2_CII_MIN_16B: "FSO1114A",
    SyntaxeFlux.IN_DP_E2_CII_FACTURX: "FSO1115A",
    SyntaxeFlux.IN_DP_E3_UBL_INVOICE: "FSO1116A",
}
UNKNOWN_INTERFACE_CODE = "FSO1199A"


class ItemStatus(models.TextChoices):
    """Outcome of one invoice of a flow."""

    EN_COURS = "EN_COURS", "En cours"
    INTEGREE = "INTEGREE", "Intégrée"
    REJETEE = "REJETEE", "Rejetée"


class ErrorNature(models.TextChoices):
    """`natureErreur` of a flow-level error."""

    TECHNIQUE = "TECHNIQUE", "Technique"
    FORMAT = "FORMAT", "Format"
    METIER = "METIER", "Métier"
