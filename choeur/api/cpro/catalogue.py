"""Every Chorus Pro API service known (chorus-pro.md §8 and the public clients), and whether Chœur serves it.

The table of docs/api-cpro.md (« Couverture des services ») is rendered from this list and from the
operations actually registered on `cpro_api`: a service is « servi » only when its path answers here, and
tests/api/test_cpro_catalogue.py fails when the document differs from `coverage_markdown()`, when an
operation is registered without being listed, or when a listed service said served is not registered.
Regenerate the section with `CHOEUR_UPDATE_GOLDEN=1 pytest tests/api/test_cpro_catalogue.py`.

Clients: GO antoine2116/go-choruspro, OCA l10n_fr_chorus_account (Odoo), PAS Pastell, TRY Tryton,
PHP Gizmo091/piste-gouv-fr, PY the Python libraries cited by the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

CLIENTS = ("GO", "OCA", "PAS", "TRY", "PHP", "PY")
BEGIN_MARKER = "<!-- couverture:debut (généré par choeur/api/cpro/catalogue.py, ne pas modifier à la main) -->"
END_MARKER = "<!-- couverture:fin -->"


@dataclass(frozen=True)
class Service:
    path: str  # under /cpro/
    operation: str
    clients: tuple[str, ...] = ()
    method: str = "POST"
    # Why it is not served (when it is not): shown in the table.
    reason: str = ""


ISSUE_12 = "référentiel des engagements juridiques et des sollicitations : livré avec le ticket 12"
ORGANISATIONS = "API « Référentiel des Organisations » (REST, identifiants UUID) : pas encore servie"

SERVICES: tuple[Service, ...] = (
    # Factures (chorus-pro.md §8.3)
    Service("factures/v1/soumettre", "soumettreFacture", ("GO", "PHP")),
    Service("factures/v1/deposer/flux", "deposerFluxFacture", ("GO", "OCA", "TRY", "PY")),
    Service("factures/v1/deposer/pdf", "deposerPDFFacture", ("PAS", "PHP")),
    Service("factures/v1/completer", "completerFacture", ("GO",)),
    Service("factures/v1/recycler", "recyclerFacture", ("GO",)),
    Service("factures/v1/corriger/valideur/facture", "corrigerValideurFacture", ("GO",)),
    Service("factures/v1/consulter/fournisseur", "consulterFactureParFournisseur", ("GO",)),
    Service("factures/v1/consulter/recipiendaire", "consulterFactureParRecipiendaire", ("GO",)),
    Service("factures/v1/consulter/valideur", "consulterFactureParValideur", ("GO",)),
    Service("factures/v1/consulter/historique", "consulterHistoriqueFacture", ("GO", "OCA", "PAS", "PHP")),
    Service("factures/v1/rechercher/fournisseur", "rechercherFactureParFournisseur", ("GO", "OCA", "PY")),
    Service("factures/v1/rechercher/recipiendaire", "rechercherFactureParRecipiendaire", ("GO", "PAS")),
    Service("factures/v1/rechercher/valideur", "rechercherFactureParValideur", ("GO",)),
    Service("factures/v1/rechercher/demandePaiement", "rechercherDemandePaiement", ("GO",)),
    Service("factures/v1/traiter/recue", "traiterFactureRecue", ("GO", "PAS")),
    Service("factures/v1/traiter/factureAValider", "traiterFactureAValider", ("GO",)),
    Service("factures/v1/traiterRejet", "traiterFacturesRejetees", ("GO",)),
    Service("factures/v1/telecharger/groupe", "telechargerGroupeFacture", ("GO", "PAS")),
    Service(
        "factures/v1/recuperer/statutsFactureVisibles/valideur", "recupererStatutsFactureVisiblesParValideur", ("GO",)
    ),
    # Chœur served the upload here first; kept for the integrations made against it.
    Service("factures/v1/ajouter/fichier", "ajouterFichierDansSysteme (ancien chemin de Chœur)"),
    Service(
        "(chemin inconnu)",
        "rechercherFactureATraiterParValideur",
        ("PHP",),
        reason="chemin PISTE inconnu (méthode vide du client PHP) ; `rechercher/valideur` rend les mêmes factures",
    ),
    Service(
        "factures/v1/rechercher/atraiter/fournisseur",
        "rechercherFactureATraiterParFournisseur",
        ("PHP",),
        reason="service retiré par Chorus Pro ; `rechercher/fournisseur` avec `statutCourant` le remplace",
    ),
    # Structures (§8.4)
    Service("structures/v1/rechercher", "rechercherStructure", ("GO", "OCA", "PAS", "PHP", "PY")),
    Service("structures/v1/consulter", "consulterStructureAvecTVAIntraCom", ("GO", "OCA", "PY")),
    Service("structures/v1/rechercher/services", "rechercherServicesStructure", ("GO", "OCA", "PAS")),
    Service("structures/v1/consulter/service", "consulterServiceStructure", ("GO",)),
    Service("structures/v1/rechercher/espaces", "rechercherEspaces", ("GO",)),
    Service("structures/v1/lister/rattachementsutilisateur", "listerRattachementsStructureUtilisateur", ("GO",)),
    # Transverses (§8.5)
    Service("transverses/v1/health-check", "healthCheck", ("GO", "PY"), method="GET"),
    Service("transverses/v1/consulterCR", "consulterCR", ("GO", "TRY", "PY")),
    Service("transverses/v1/consulterCRDetaille", "consulterCRDetaille", ("GO", "OCA", "PY")),
    Service("transverses/v1/recuperer/formatflux", "recupererFormatFlux", ("GO", "PHP")),
    Service("transverses/v1/recuperer/devises", "recupererDevise", ("GO", "PY")),
    Service("transverses/v1/recuperer/pays", "recupererPays", ("GO",)),
    Service("transverses/v1/recuperer/tauxtva", "recupererTauxTva", ("GO", "PAS")),
    Service("transverses/v1/recuperer/motifs/exonerationtva", "recupererMotifsExonerationTva", ("GO",)),
    Service("transverses/v1/recuperer/modedepot", "recupererModeDepot", ("GO",)),
    Service("transverses/v1/recuperer/modereglements", "recupererModeReglements", ("GO",)),
    Service("transverses/v1/recuperer/cadrefacturation", "recupererCadreFacturation", ("GO",)),
    Service("transverses/v1/recuperer/typedp", "recupererTypeDemandePaiement", ("GO",)),
    Service("transverses/v1/recuperer/typefacturetravaux", "recupererTypeFactureTravaux", ("GO",)),
    Service("transverses/v1/recuperer/typeidentifiant/structure", "recupererTypeIdentifiantStructure", ("GO",)),
    Service("transverses/v1/recuperer/etat/typedp", "recupererEtatParTypeDemandePaiement", ("GO",)),
    Service("transverses/v1/recuperer/etats/traitement", "recupererEtatsPossiblesPourTraitement", ("GO",)),
    Service("transverses/v1/recuperer/motifs/refus/Facture/AValider", "recupererMotifsRefusFactureAValider", ("GO",)),
    Service("transverses/v1/recuperer/coordbanc/valides", "recupererCoordonneesBancairesValides", ("GO", "PHP")),
    Service(
        "transverses/v1/recuperer/structures/actives/fournisseur",
        "recupererStructuresActivesFournisseur",
        ("GO", "PHP"),
    ),
    Service(
        "transverses/v1/recuperer/structures/actives/destinataire",
        "recupererStructuresActivesDestinataire",
        ("GO", "PAS"),
    ),
    Service(
        "transverses/v1/recuperer/structures/actives/facturetravaux",
        "recupererStructuresActivesFactureTravaux",
        ("GO",),
    ),
    Service("transverses/v1/recuperer/structuresPourUtilisateur", "recupererStructuresPourUtilisateur", ("PHP",)),
    Service("transverses/v1/consulter/information/siret", "consulterInformationSIRET", ("GO", "PY")),
    Service("transverses/v1/rechercher/destinataire", "rechercherDestinataire", ("GO",)),
    Service("transverses/v1/rechercher/serviceexecutant", "rechercherServiceExecutant", ("PHP",)),
    Service("transverses/v1/telecharger/annuaire/destinataire", "telechargerAnnuaireDestinataire", ("GO", "PY")),
    Service("transverses/v1/recuperer/typespj", "recupererTypePieceJointe", ("GO",)),
    Service("transverses/v1/ajouter/fichier", "ajouterFichierDansSysteme", ("GO", "PY")),
    Service("transverses/v1/rechercher/pj/structure", "rechercherPieceJointeStructure", ("GO",)),
    Service("transverses/v1/rechercher/pj/moncompte", "rechercherPieceJointeSurMonCompte", ("GO",)),
    Service("transverses/v1/telecharger/pieceJointe", "telechargerPieceJointe", ("GO",)),
    Service("transverses/v1/detacherPieceJointe", "detacherPieceJointe", ("PHP",)),
    Service(
        "transverses/v1/rechercher/categorieSollicitation",
        "rechercherCategorieSollicitation",
        ("GO",),
    ),
    Service(
        "transverses/v1/rechercher/sousCategorieSollicitation",
        "rechercherSousCategorieSollicitation",
        ("GO",),
    ),
    # Utilisateurs, engagements juridiques (§8.6)
    Service(
        "utilisateurs/v1/monCompte/recuperer/rattachements", "recupererRattachementsMonCompteUtilisateur", ("GO",)
    ),
    Service("engagementsJuridiques/v1/rechercher", "rechercherEngagementJuridique", ("OCA",)),
    # Factures de travaux (§8.6)
    Service("facturesTravaux/v1/rechercher", "rechercherFactureTravaux", ("PAS",)),
    Service("facturesTravaux/v1/soumettre", "soumettreFactureTravaux"),
    Service("facturesTravaux/v1/recycler", "recyclerFactureTravaux"),
    Service("facturesTravaux/v1/refuser", "refuserFactureTravaux"),
    Service(
        "facturesTravaux/v1/suspendre/demander/completer/factureTravaux", "suspendreOuDemanderCompleterFactureTravaux"
    ),
    Service(
        "facturesTravaux/v1/demander/recyclage",
        "demanderRecyclagePiecePrecedente",
        reason="pas encore servi : le circuit travaux n'a pas de demande de recyclage de la pièce précédente",
    ),
    Service("facturesTravaux/v1/consulter/dossierfacturation", "consulterDossierFacturation"),
    # Référentiel des Organisations (§8.6)
    Service("organisations/v1/healthcheck", "healthcheck", ("PHP", "PY"), method="GET", reason=ORGANISATIONS),
    Service("organisations/v1/structures/recherche", "rechercherStructures", ("PHP", "PY"), reason=ORGANISATIONS),
    Service("organisations/v1/services/recherche", "rechercherServices", ("PHP", "PY"), reason=ORGANISATIONS),
    Service("organisations/v1/siren/recherche", "rechercherSiren", ("PY",), reason=ORGANISATIONS),
    Service("organisations/v1/structures/{uuid}", "consulterStructure", ("PHP",), method="GET", reason=ORGANISATIONS),
    Service(
        "organisations/v1/structures/{uuid}/services",
        "servicesStructure",
        ("PHP",),
        method="GET",
        reason=ORGANISATIONS,
    ),
    Service(
        "organisations/v1/structures/{uuid}/pieces_jointes",
        "piecesJointesStructure",
        ("PHP",),
        method="GET",
        reason=ORGANISATIONS,
    ),
    Service(
        "organisations/v1/structures/{uuid}/pieces_jointes/{uuidPJ}",
        "pieceJointeStructure",
        ("PHP",),
        method="GET",
        reason=ORGANISATIONS,
    ),
    Service(
        "organisations/v1/structures/{uuid}/parametres-edi",
        "modifierParametresEdi",
        ("PHP",),
        method="PATCH",
        reason=ORGANISATIONS,
    ),
    Service("organisations/v1/services/{uuid}", "consulterService", ("PHP",), method="GET", reason=ORGANISATIONS),
)


def registered_operations() -> set[tuple[str, str]]:
    """(method, path under /cpro/) of every operation `cpro_api` answers."""
    from choeur.api.cpro import cpro_api

    schema = cpro_api.get_openapi_schema(path_prefix="/cpro/")
    return {
        (method.upper(), path.removeprefix("/cpro/"))
        for path, methods in schema["paths"].items()
        for method in methods
    }


def coverage_rows() -> list[tuple[Service, bool]]:
    registered = registered_operations()
    return [(service, (service.method, service.path) in registered) for service in SERVICES]


def coverage_markdown() -> str:
    rows = coverage_rows()
    served = [service for service, ok in rows if ok]
    callers = sum(len(service.clients) for service, _ in rows)
    served_callers = sum(len(service.clients) for service in served)
    lines = [
        BEGIN_MARKER,
        "",
        f"{len(served)} services servis sur {len(rows)} connus ; "
        f"{served_callers} appels de clients publics servis sur {callers} "
        f"({100 * served_callers // max(callers, 1)} % pondéré par le nombre de clients qui appellent "
        "chaque service).",
        "",
        "| Méthode | Chemin (sous /cpro/) | Opération | Clients | Servi |",
        "|---|---|---|---|---|",
    ]
    for service, ok in rows:
        status = "oui" if ok else f"non — {service.reason or 'à faire'}"
        clients = ", ".join(service.clients) or "—"
        lines.append(f"| {service.method} | `{service.path}` | {service.operation} | {clients} | {status} |")
    lines += ["", END_MARKER]
    return "\n".join(lines)


def replace_section(document: str) -> str:
    """`document` with its coverage section replaced by the current one (appended when absent)."""
    table = coverage_markdown()
    if BEGIN_MARKER in document and END_MARKER in document:
        before, _, rest = document.partition(BEGIN_MARKER)
        _, _, after = rest.partition(END_MARKER)
        return before + table + after
    return document.rstrip("\n") + "\n\n## Couverture des services\n\n" + table + "\n"
