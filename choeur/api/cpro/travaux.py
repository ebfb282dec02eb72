"""`facturesTravaux/v1/*`: works invoices (chorus-pro.md §8.6). Submit a document of a dossier de facturation,
search the works documents of the caller's markets, consult a dossier, refuse (MOE, MOA), recycle and suspend
(payer: suspend / ask for completion).

The PISTE paths of these operations are presumed from their pre-PISTE paths (§8.6: « unverified »); the
field names follow the factures API where Chorus Pro's own were not seen (`lignePoste`, `cadreFacturation`),
and Chœur's additions are named in French alongside (`idDossierFacturation`, `motifsCorrection`).

The caller is the structure of the technical account: it must be on the fiche d'identité of the market, and
it sees only the dossiers of the markets it is party to (another's dossier is « introuvable »).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Router, Schema
from pydantic import BeforeValidator

from choeur.api.cpro.envelope import BUSINESS_RULE, INVALID_VALUE, MISSING_FIELD, CproError, list_result, not_found, ok
from choeur.api.cpro.factures import LignePosteIn
from choeur.api.cpro.factures_common import (
    DateIn,
    FlagIn,
    IdIn,
    StrListIn,
    business_errors,
    day,
    money,
    statuses_checked,
)
from choeur.api.cpro.pagination import PaginationIn, paginate_queryset
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import (
    CproIn,
    CproObject,
    CproOut,
    OptionalStr,
    ParametresRetour,
    chorus_datetime,
    upper_or_none,
)
from choeur.core.referentials import vat_rate_by_code
from choeur.directory.models import Structure
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus
from choeur.invoices.models import Invoice
from choeur.works.enums import PartyRole, RefusalReason
from choeur.works.models import Dossier, DossierPiece
from choeur.works.selectors import describe_expected, dossiers_of_structure, expected_steps
from choeur.works.services import works_moa_refuse, works_moe_refuse, works_piece_deposit, works_recycle
from choeur.works.workflow import AT_MOA, AT_MOE

router = Router(tags=["Factures de travaux"])

# `typeFactureTravaux` (chorus-pro.md §5.1) of each cadre.
TYPE_FACTURE_TRAVAUX = {
    Cadre.A4: "PROJET_DECOMPTE_MENSUEL", Cadre.A10: "PROJET_DECOMPTE_MENSUEL", Cadre.A13: "PROJET_DECOMPTE_MENSUEL",
    Cadre.A5: "ETAT_ACOMPTE", Cadre.A15: "ETAT_ACOMPTE",
    Cadre.A6: "ETAT_ACOMPTE_VALIDE", Cadre.A16: "ETAT_ACOMPTE_VALIDE", Cadre.A19: "ETAT_ACOMPTE_VALIDE",
    Cadre.A7: "PROJET_DECOMPTE_FINAL", Cadre.A11: "PROJET_DECOMPTE_FINAL", Cadre.A14: "PROJET_DECOMPTE_FINAL",
    Cadre.A17: "PROJET_DECOMPTE_GENERAL", Cadre.A22: "PROJET_DECOMPTE_GENERAL_PROCEDURE_TACITE",
    Cadre.A18: "DECOMPTE_GENERAL", Cadre.A20: "DECOMPTE_GENERAL", Cadre.A8: "DECOMPTE_GENERAL_SIGNE",
    Cadre.A23: "DECOMPTE_GENERAL_DEFINITIF_TACITE", Cadre.A24: "DECOMPTE_GENERAL_DEFINITIF_TACITE",
    Cadre.A25: "DECOMPTE_GENERAL_DEFINITIF_PROCEDURE_TACITE",
}  # fmt: skip
ROLES = {"FOURNISSEUR": None, "MOE": PartyRole.MOE, "MOA": PartyRole.MOA}
RoleUtilisateur = Annotated[Literal["FOURNISSEUR", "MOE", "MOA"] | None, BeforeValidator(upper_or_none)]


def _pieces_of(structure: Structure):
    return DossierPiece.objects.filter(dossier__in=dossiers_of_structure(structure=structure)).select_related(
        "invoice", "invoice__supplier", "invoice__moe", "invoice__moa", "invoice__recipient_service", "dossier__marche"
    )


def _piece_for_caller(structure: Structure, invoice_id: int | None, *, field: str = "idFactureTravaux"):
    if invoice_id is None:
        raise CproError(MISSING_FIELD, f"Le champ « {field} » est obligatoire : donnez l'identifiant de la pièce.")
    piece = _pieces_of(structure).filter(invoice_id=invoice_id).first()
    if piece is None:
        raise not_found("Facture de travaux")
    return piece


def _dossier_for_caller(structure: Structure, dossier_id: int) -> Dossier:
    dossier = dossiers_of_structure(structure=structure).filter(pk=dossier_id).first()
    if dossier is None:
        raise not_found("Dossier de facturation")
    return dossier


def _cadre(value: str | None, *, field: str) -> Cadre:
    if not value:
        raise CproError(
            MISSING_FIELD,
            f"Le champ « {field} » est obligatoire (par exemple « A4_PROJET_DECOMPTE_MENSUEL_FOURNISSEUR »).",
        )
    try:
        return Cadre.from_code(value)
    except ValueError as exc:
        raise CproError(INVALID_VALUE, f"Le champ « {field} » : {exc}") from None


def _piece_row(piece: DossierPiece) -> dict[str, Any]:
    invoice = piece.invoice
    return {
        "idFactureTravaux": invoice.pk,
        "numeroFactureTravaux": invoice.number,
        "typeFactureTravaux": TYPE_FACTURE_TRAVAUX.get(Cadre(piece.cadre), ""),
        "cadreFacturation": piece.cadre,
        "statutFactureTravaux": invoice.status,
        "idDossierFacturation": piece.dossier_id,
        "idPiecePrecedente": piece.predecessor.invoice_id if piece.predecessor_id else None,
        "numeroMarche": piece.dossier.marche.numero,
        "idStructureFournisseur": invoice.supplier_id,
        "designationFournisseur": invoice.supplier.designation,
        "idStructureMoe": invoice.moe_id,
        "idStructureMoa": invoice.moa_id,
        "codeServiceMoa": invoice.moa_service.code if invoice.moa_service_id else "",
        "dateFactureTravaux": day(invoice.invoice_date),
        "dateDepot": day(invoice.deposited_at),
        "montantHtTotal": money(invoice.total_ht),
        "montantTtcTotal": money(invoice.total_ttc),
    }


# ---------------------------------------------------------------------------------------------------
# soumettre
# ---------------------------------------------------------------------------------------------------


# A works document's lines are those of any invoice (`factures/v1/soumettre`).
LignePosteTravauxIn = LignePosteIn


class MotifCorrectionIn(CproObject):
    lignePosteNumero: IdIn = None
    motif: OptionalStr = None


class CadreFacturationIn(CproObject):
    codeCadreFacturation: OptionalStr = None


class SoumettreTravauxIn(CproIn):
    cadreFacturation: CadreFacturationIn | None = None
    numeroMarche: OptionalStr = None
    idDossierFacturation: IdIn = None
    numeroFactureTravaux: OptionalStr = None
    dateFactureTravaux: DateIn = None
    typeTva: OptionalStr = None
    commentaire: OptionalStr = None
    lignePoste: list[LignePosteTravauxIn] | None = None
    motifsCorrection: list[MotifCorrectionIn] | None = None


class SoumettreTravauxOut(CproOut):
    idFactureTravaux: int
    numeroFactureTravaux: str
    dateDepotFactureTravaux: str | None
    statutFactureTravaux: str
    idDossierFacturation: int
    piecesAttendues: str


def _lines(payload: SoumettreTravauxIn) -> list[dict] | None:
    if not payload.lignePoste:
        return None
    lines = []
    for index, line in enumerate(payload.lignePoste):
        rate = line.lignePosteTauxTvaManuel
        if rate is None and line.lignePosteTauxTva:
            known = vat_rate_by_code(line.lignePosteTauxTva)
            if known is None:
                raise CproError(
                    INVALID_VALUE,
                    f"Le champ « lignePoste[{index}].lignePosteTauxTva » vaut « {line.lignePosteTauxTva[:20]} » : "
                    "donnez un code de `recuperer/tauxtva` ou le taux dans « lignePosteTauxTvaManuel ».",
                )
            rate = known.value
        lines.append(
            {
                "reference": line.lignePosteReference or "",
                "designation": line.lignePosteDenomination or "",
                "quantity": line.lignePosteQuantite if line.lignePosteQuantite is not None else 1,
                "unit": (line.lignePosteUnite or "C62").upper(),
                "unit_price_ht": line.lignePosteMontantUnitaireHT or 0,
                "discount_ht": line.lignePosteMontantRemiseHT or 0,
                "vat_rate": rate if rate is not None else 20,
            }
        )
    return lines


@cpro_post(
    router,
    "soumettre",
    SoumettreTravauxOut,
    operation_id="soumettreFactureTravaux",
    summary="Déposer une pièce d'un dossier de facturation de travaux",
    description=(
        "Dépose la pièce suivante d'un dossier (`idDossierFacturation`), ou la première pièce d'un nouveau dossier "
        "du marché `numeroMarche` (A4, A5, A6, A7, A10, A11, A13, A14). Les parties, le service et l'engagement "
        "viennent de la fiche du marché ; sans `lignePoste`, les lignes de la pièce précédente sont reprises. Une "
        "pièce de la maîtrise d'œuvre ou d'ouvrage qui modifie un montant donne la raison de chaque modification "
        "dans `motifsCorrection`. Une pièce hors de l'ordre du dossier est refusée, la pièce attendue étant citée."
    ),
)
def soumettre(request, payload: SoumettreTravauxIn):
    caller = request.cpro.structure
    cadre = _cadre(
        payload.cadreFacturation.codeCadreFacturation if payload.cadreFacturation else None,
        field="cadreFacturation.codeCadreFacturation",
    )
    dossier = marche = None
    if payload.idDossierFacturation is not None:
        dossier = _dossier_for_caller(caller, payload.idDossierFacturation)
    if payload.numeroMarche:
        from choeur.works.selectors import marches_of_structure

        marche = marches_of_structure(structure=caller).filter(numero=payload.numeroMarche).first()
        if marche is None:
            raise not_found(f"Marché « {payload.numeroMarche[:50]} »")
    if dossier is None and marche is None:
        raise CproError(
            MISSING_FIELD, "Donnez « idDossierFacturation » (pièce suivante) ou « numeroMarche » (nouveau dossier)."
        )
    data = {
        "number": payload.numeroFactureTravaux,
        "invoice_date": payload.dateFactureTravaux,
        "type_tva": payload.typeTva,
        "comment": payload.commentaire,
    }
    corrections = {
        row.lignePosteNumero: row.motif or "" for row in payload.motifsCorrection or () if row.lignePosteNumero
    }
    with business_errors():
        piece = works_piece_deposit(
            cadre=cadre,
            by=None,
            structure=caller,
            dossier=dossier,
            marche=marche,
            data={key: value for key, value in data.items() if value not in (None, "")},
            lines=_lines(payload),
            corrections=corrections,
            channel=Channel.API,
        )
    piece.dossier.refresh_from_db()
    return ok(
        idFactureTravaux=piece.invoice_id,
        numeroFactureTravaux=piece.invoice.number,
        dateDepotFactureTravaux=day(piece.invoice.deposited_at),
        statutFactureTravaux=piece.invoice.status,
        idDossierFacturation=piece.dossier_id,
        piecesAttendues=describe_expected(piece.dossier),
    )


# ---------------------------------------------------------------------------------------------------
# rechercher
# ---------------------------------------------------------------------------------------------------


class RechercherTravauxIn(CproIn):
    roleUtilisateur: RoleUtilisateur = None
    numeroMarche: OptionalStr = None
    numeroFactureTravaux: OptionalStr = None
    cadreFacturation: OptionalStr = None
    listeStatutCourant: StrListIn = None
    listeTypeFactureTravaux: StrListIn = None
    idDossierFacturation: IdIn = None
    periodeDateDepotDu: DateIn = None
    periodeDateDepotAu: DateIn = None
    uniquementSansPieceSuivante: FlagIn = None
    rechercheFactureTravaux: PaginationIn | None = None


class FactureTravauxTrouvee(Schema):
    idFactureTravaux: int
    numeroFactureTravaux: str
    typeFactureTravaux: str
    cadreFacturation: str
    statutFactureTravaux: str
    idDossierFacturation: int
    idPiecePrecedente: int | None
    numeroMarche: str
    idStructureFournisseur: int
    designationFournisseur: str
    idStructureMoe: int | None
    idStructureMoa: int | None
    codeServiceMoa: str
    dateFactureTravaux: str | None
    dateDepot: str | None
    montantHtTotal: float | None
    montantTtcTotal: float | None


class RechercherTravauxOut(CproOut):
    listeFacturesTravaux: list[FactureTravauxTrouvee] | None = None
    parametresRetour: ParametresRetour | None = None


SEARCH_SORT = {
    "DateDepot": ("invoice__deposited_at", "id"),
    "NumeroFactureTravaux": ("invoice__number", "id"),
    "NumeroMarche": ("dossier__marche__numero", "position"),
}


@cpro_post(
    router,
    "rechercher",
    RechercherTravauxOut,
    operation_id="rechercherFactureTravaux",
    summary="Rechercher des factures de travaux",
    description=(
        "Les pièces des dossiers de facturation des marchés dont votre structure est partie. `roleUtilisateur` "
        "(FOURNISSEUR, MOE ou MOA) est obligatoire, comme sur Chorus Pro : il restreint aux marchés où votre "
        "structure joue ce rôle (FOURNISSEUR : les pièces de vos dossiers d'entreprise)."
    ),
)
def rechercher(request, payload: RechercherTravauxIn):
    caller = request.cpro.structure
    if payload.roleUtilisateur is None:
        raise CproError(MISSING_FIELD, "Le champ « roleUtilisateur » est obligatoire : FOURNISSEUR, MOE ou MOA.")
    pieces = _pieces_of(caller)
    role = ROLES[payload.roleUtilisateur]
    if role is None:
        pieces = pieces.filter(dossier__company__structure=caller)
    else:
        pieces = pieces.filter(dossier__marche__parties__role=role, dossier__marche__parties__structure=caller)
    if payload.numeroMarche:
        pieces = pieces.filter(dossier__marche__numero=payload.numeroMarche)
    if payload.numeroFactureTravaux:
        pieces = pieces.filter(invoice__number=payload.numeroFactureTravaux)
    if payload.cadreFacturation:
        pieces = pieces.filter(cadre=_cadre(payload.cadreFacturation, field="cadreFacturation").value)
    if payload.listeStatutCourant:
        pieces = pieces.filter(
            invoice__status__in=statuses_checked(payload.listeStatutCourant, field="listeStatutCourant")
        )
    if payload.listeTypeFactureTravaux:
        wanted = {value.upper() for value in payload.listeTypeFactureTravaux}
        pieces = pieces.filter(cadre__in=[c.value for c, kind in TYPE_FACTURE_TRAVAUX.items() if kind in wanted])
    if payload.idDossierFacturation:
        pieces = pieces.filter(dossier_id=payload.idDossierFacturation)
    if payload.periodeDateDepotDu:
        pieces = pieces.filter(invoice__deposited_at__date__gte=payload.periodeDateDepotDu)
    if payload.periodeDateDepotAu:
        pieces = pieces.filter(invoice__deposited_at__date__lte=payload.periodeDateDepotAu)
    if payload.uniquementSansPieceSuivante:
        pieces = pieces.filter(successor__isnull=True)
    page = paginate_queryset(
        pieces.distinct(),
        payload.rechercheFactureTravaux,
        wire_name="rechercheFactureTravaux",
        columns=SEARCH_SORT,
        default_column="DateDepot",
    )
    return list_result(
        "listeFacturesTravaux", [_piece_row(piece) for piece in page.items], parametresRetour=page.parametres_retour()
    )


# ---------------------------------------------------------------------------------------------------
# consulter/dossierfacturation
# ---------------------------------------------------------------------------------------------------


class ConsulterDossierIn(CproIn):
    idDossierFacturation: IdIn = None
    idFactureTravaux: IdIn = None


class CorrectionOut(Schema):
    lignePosteNumero: int
    lignePosteDenomination: str
    montantHtOrigine: float
    montantHtCorrige: float
    motif: str


class PieceDossier(FactureTravauxTrouvee):
    deposant: str
    roleDeposant: str
    listeCorrections: list[CorrectionOut]


class ConsulterDossierOut(CproOut):
    idDossierFacturation: int
    numeroMarche: str
    natureDossier: str
    etatDossier: str
    idStructureEntreprise: int
    enAttenteDe: str
    dateEcheance: str | None
    dateDebutDelaiPaiement: str | None
    dateLimiteContestation: str | None
    piecesAttendues: list[str]
    listePieces: list[PieceDossier]


@cpro_post(
    router,
    "consulter/dossierfacturation",
    ConsulterDossierOut,
    operation_id="consulterDossierFacturation",
    summary="Consulter un dossier de facturation de travaux",
    description="Les pièces du dossier dans l'ordre, les montants corrigés et leurs raisons, les échéances et la "
    "pièce attendue ensuite. Donnez `idDossierFacturation` ou l'`idFactureTravaux` de l'une de ses pièces.",
)
def consulter_dossier(request, payload: ConsulterDossierIn):
    caller = request.cpro.structure
    if payload.idDossierFacturation is not None:
        dossier = _dossier_for_caller(caller, payload.idDossierFacturation)
    elif payload.idFactureTravaux is not None:
        dossier = _piece_for_caller(caller, payload.idFactureTravaux).dossier
    else:
        raise CproError(MISSING_FIELD, "Donnez « idDossierFacturation » ou « idFactureTravaux ».")
    pieces = []
    for piece in dossier.pieces.select_related("invoice__supplier", "invoice__moa_service", "depositor",
                                                "dossier__marche", "predecessor").order_by("position"):  # fmt: skip
        row = _piece_row(piece)
        row["deposant"] = piece.depositor.designation
        row["roleDeposant"] = piece.depositor_role
        row["listeCorrections"] = [
            {
                "lignePosteNumero": c.position,
                "lignePosteDenomination": c.designation,
                "montantHtOrigine": money(c.original_net_ht),
                "montantHtCorrige": money(c.corrected_net_ht),
                "motif": c.reason,
            }
            for c in piece.corrections.all()
        ]
        pieces.append(row)
    return ok(
        idDossierFacturation=dossier.pk,
        numeroMarche=dossier.marche.numero,
        natureDossier=dossier.kind,
        etatDossier=dossier.status,
        idStructureEntreprise=dossier.company.structure_id,
        enAttenteDe=dossier.waiting_for,
        dateEcheance=chorus_datetime(dossier.deadline),
        dateDebutDelaiPaiement=chorus_datetime(dossier.moe_received_at),
        dateLimiteContestation=chorus_datetime(dossier.contest_deadline),
        piecesAttendues=[step.cadre.value for step in expected_steps(dossier)],
        listePieces=pieces,
    )


# ---------------------------------------------------------------------------------------------------
# refuser
# ---------------------------------------------------------------------------------------------------


class RefuserTravauxIn(CproIn):
    idFactureTravaux: IdIn = None
    motifRefus: OptionalStr = None
    commentaire: OptionalStr = None


class TraitementTravauxOut(CproOut):
    idFactureTravaux: int
    numeroFactureTravaux: str
    statutFactureTravaux: str


def _answer(invoice: Invoice) -> dict:
    invoice.refresh_from_db()
    return ok(idFactureTravaux=invoice.pk, numeroFactureTravaux=invoice.number, statutFactureTravaux=invoice.status)


@cpro_post(
    router,
    "refuser",
    TraitementTravauxOut,
    operation_id="refuserFactureTravaux",
    summary="Refuser une pièce de travaux (maîtrise d'œuvre ou d'ouvrage)",
    description=(
        "La maîtrise d'œuvre refuse le projet de l'entreprise, ou la maîtrise d'ouvrage la pièce qu'elle a reçue : "
        "le circuit du dossier s'arrête. `motifRefus` : " + ", ".join(r.value for r in RefusalReason) + ". "
        "ERREUR_MONTANT est refusé : un montant se corrige dans sa propre pièce (`soumettre` avec "
        "`motifsCorrection`), il ne justifie pas un refus."
    ),
)
def refuser(request, payload: RefuserTravauxIn):
    caller = request.cpro.structure
    piece = _piece_for_caller(caller, payload.idFactureTravaux)
    if not payload.motifRefus:
        raise CproError(MISSING_FIELD, "Le champ « motifRefus » est obligatoire.")
    refuse = works_moa_refuse if piece.invoice.status in AT_MOA else works_moe_refuse
    if piece.invoice.status not in (*AT_MOE, *AT_MOA):
        raise CproError(
            BUSINESS_RULE,
            f"La pièce {piece.cadre_code} n° {piece.invoice.number} n'attend pas de réponse de la maîtrise d'œuvre "
            f"ni de la maîtrise d'ouvrage (statut « {piece.invoice.get_status_display()} »).",
        )
    with business_errors():
        refuse(
            dossier=piece.dossier,
            by=None,
            structure=caller,
            reason=payload.motifRefus.upper(),
            comment=payload.commentaire or "",
            channel=Channel.API,
        )
    return _answer(piece.invoice)


# ---------------------------------------------------------------------------------------------------
# recycler, suspendre/demander/completer (the payer's returns and the company's answer)
# ---------------------------------------------------------------------------------------------------


class RecyclerTravauxIn(CproIn):
    idFactureTravaux: IdIn = None
    identifiantDestinataire: OptionalStr = None
    codeServiceExecutant: OptionalStr = None
    numeroBonCommande: OptionalStr = None


class RecyclerTravauxOut(TraitementTravauxOut):
    dateDepotFactureTravaux: str | None


@cpro_post(
    router,
    "recycler",
    RecyclerTravauxOut,
    operation_id="recyclerFactureTravaux",
    summary="Recycler une facture de travaux (nouvelles données d'acheminement)",
    description=(
        "L'entreprise corrige le destinataire, le service exécutant ou le numéro d'engagement d'une pièce mise « à "
        "recycler » par le service payeur ; la pièce garde son numéro et repart vers le destinataire."
    ),
)
def recycler(request, payload: RecyclerTravauxIn):
    caller = request.cpro.structure
    piece = _piece_for_caller(caller, payload.idFactureTravaux)
    invoice = piece.invoice
    recipient = invoice.recipient
    if payload.identifiantDestinataire:
        recipient = Structure.objects.filter(identifier=payload.identifiantDestinataire).first()
        if recipient is None:
            raise not_found(f"Destinataire « {payload.identifiantDestinataire[:20]} »")
    service = invoice.recipient_service
    if payload.codeServiceExecutant:
        service = recipient.services.filter(code=payload.codeServiceExecutant).first()
        if service is None:
            raise not_found(f"Service exécutant « {payload.codeServiceExecutant[:50]} »")
    with business_errors():
        works_recycle(
            piece=piece,
            by=None,
            structure=caller,
            recipient=recipient,
            recipient_service=service,
            numero_engagement=payload.numeroBonCommande or invoice.numero_engagement,
            channel=Channel.API,
        )
    invoice.refresh_from_db()
    return ok(
        idFactureTravaux=invoice.pk,
        numeroFactureTravaux=invoice.number,
        statutFactureTravaux=invoice.status,
        dateDepotFactureTravaux=day(invoice.deposited_at),
    )


class SuspendreTravauxIn(CproIn):
    idFactureTravaux: IdIn = None
    commentaire: OptionalStr = None
    motif: OptionalStr = None


@cpro_post(
    router,
    "suspendre/demander/completer/factureTravaux",
    TraitementTravauxOut,
    operation_id="suspendreOuDemanderCompleterFactureTravaux",
    summary="Suspendre une facture de travaux ou demander à la compléter",
    description=(
        "Le service payeur suspend la pièce qu'il a reçue (A19, A8…) en disant à l'entreprise ce qui manque "
        "(`commentaire`, obligatoire ; `motif` : un code de suspension, PIECE_JUSTIFICATIVE_MANQUANTE par défaut). "
        "L'entreprise la complète ensuite avec `factures/v1/completer`."
    ),
)
def suspendre(request, payload: SuspendreTravauxIn):
    from choeur.invoices.lifecycle import invoice_process

    caller = request.cpro.structure
    piece = _piece_for_caller(caller, payload.idFactureTravaux)
    if piece.invoice.recipient_id != caller.pk or piece.invoice.status not in (
        InvoiceStatus.MISE_A_DISPOSITION,
        InvoiceStatus.COMPLETEE,
        InvoiceStatus.SERVICE_FAIT,
    ):
        raise CproError(
            INVALID_VALUE,
            f"Seul le service payeur suspend une pièce reçue : la pièce {piece.cadre_code} n° {piece.invoice.number} "
            f"est « {piece.invoice.get_status_display()} ». À l'étape de la maîtrise d'œuvre, un montant se corrige "
            "et une pièce incomplète se refuse (`refuser`).",
        )
    with business_errors():
        invoice_process(
            invoice=piece.invoice,
            by=None,
            structure=caller,
            transition="suspendre",
            motif=(payload.motif or "PIECE_JUSTIFICATIVE_MANQUANTE").upper(),
            comment=payload.commentaire or "",
            channel=Channel.API,
        )
    return _answer(piece.invoice)
