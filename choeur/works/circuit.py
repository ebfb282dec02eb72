"""The order of the documents of a dossier de facturation (chorus-pro.md §6.4), as data.

`expected_steps()` answers « which document comes next, and from whom? » for a dossier; the deposit service
refuses anything else with that answer. `ROUTES` says where each document goes once deposited (the
transition that follows `deposer`). Pure module: no database access.

During the contract: A4 (titulaire; A13 cotraitant, A10 sous-traitant) → A15 (MOE) → A19 (MOA) → payer;
without MOE: A5 (titulaire) → A19 (MOA) → payer, or A6 (already validated) → payer.
End of contract: A7 (A14, A11) → A17 (MOE) → A18 (MOE) or A20 (MOA) → A8 signed by the titulaire → payer;
without MOE: A7 → A20 → A8. Tacit procedure when the MOA stays silent: A22 (titulaire) → A23 (titulaire)
or A24 / A25 (MOE) → payer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from choeur.invoices.enums import Cadre
from choeur.works.enums import DossierKind, PartyRole

# Whose turn: the dossier's company (whatever its role in the market), the MOE or the MOA — or, for a
# sous-traitant's draft, the valideur (its titulaire, see TITULAIRE_VALIDATION) before the MOE.
ENTREPRISE = "ENTREPRISE"
VALIDEUR = "VALIDEUR"
ACTOR_LABELS = {
    ENTREPRISE: "l'entreprise",
    VALIDEUR: "le titulaire (validation du sous-traitant)",
    PartyRole.MOE: "la maîtrise d'œuvre",
    PartyRole.MOA: "la maîtrise d'ouvrage",
}

# A sous-traitant's drafts go first to the party it works for on the fiche (the titulaire, or a cotraitant and
# then the mandataire), who validates within 15 days (tacitly after), then to the MOE like an A4 (§4: « titulaire
# and MOE », inferred; the A9 valideur statuses are reused).
TITULAIRE_VALIDATION = frozenset({Cadre.A10, Cadre.A11})
VALIDATION_DELAY = timedelta(days=15)
MOE_DELAY = timedelta(days=7)  # The MOE's time to process a monthly draft.
CONTEST_DELAY = timedelta(days=30)  # The company's time to contest a corrected amount.
# Tacit procedure (CCAG Travaux, as summarised in chorus-pro.md §6.4): the MOA has 30 days after the final
# draft to notify the décompte général; then the titulaire may deposit its own (A22), which becomes definitive
# (A23) if nobody answers within 10 more days (the 10 days are inferred, not from the reference).
TACIT_DG_DELAY = timedelta(days=30)
TACIT_DGD_DELAY = timedelta(days=10)


@dataclass(frozen=True)
class Step:
    cadre: Cadre
    actor: str
    # Only once this long has passed since the deposit of the document it follows (tacit procedure).
    not_before: timedelta | None = None

    @property
    def code(self) -> str:
        return self.cadre.code


START_CADRES = {
    # (kind, company role, with MOE) → the first document.
    DossierKind.MENSUEL: {
        PartyRole.TITULAIRE: (Cadre.A4, Cadre.A5, Cadre.A6),
        PartyRole.MANDATAIRE: (Cadre.A4, Cadre.A5, Cadre.A6),
        PartyRole.COTRAITANT: (Cadre.A13,),
        PartyRole.SOUS_TRAITANT: (Cadre.A10,),
    },
    DossierKind.FINAL: {
        PartyRole.TITULAIRE: (Cadre.A7,),
        PartyRole.MANDATAIRE: (Cadre.A7,),
        PartyRole.COTRAITANT: (Cadre.A14,),
        PartyRole.SOUS_TRAITANT: (Cadre.A11,),
    },
}
# The monthly drafts that need a MOE, and those used only when there is none.
NEEDS_MOE = frozenset({Cadre.A4, Cadre.A10, Cadre.A13, Cadre.A11, Cadre.A14})
WITHOUT_MOE_ONLY = frozenset({Cadre.A5, Cadre.A6})
START_KIND = {cadre: kind for kind, by_role in START_CADRES.items() for cadres in by_role.values() for cadre in cadres}

FINAL_DRAFTS = (Cadre.A7, Cadre.A11, Cadre.A14)
TACIT_A22 = Step(Cadre.A22, ENTREPRISE, TACIT_DG_DELAY)


def _next_with_moe(cadre: Cadre) -> tuple[Step, ...]:
    return {
        Cadre.A4: (Step(Cadre.A15, PartyRole.MOE),),
        Cadre.A10: (Step(Cadre.A15, PartyRole.MOE),),
        Cadre.A13: (Step(Cadre.A15, PartyRole.MOE),),
        Cadre.A15: (Step(Cadre.A19, PartyRole.MOA),),
        Cadre.A5: (Step(Cadre.A19, PartyRole.MOA),),
        Cadre.A7: (Step(Cadre.A17, PartyRole.MOE), TACIT_A22),
        Cadre.A11: (Step(Cadre.A17, PartyRole.MOE), TACIT_A22),
        Cadre.A14: (Step(Cadre.A17, PartyRole.MOE), TACIT_A22),
        Cadre.A17: (Step(Cadre.A18, PartyRole.MOE), Step(Cadre.A20, PartyRole.MOA), TACIT_A22),
        Cadre.A18: (Step(Cadre.A8, ENTREPRISE),),
        Cadre.A20: (Step(Cadre.A8, ENTREPRISE),),
        Cadre.A22: (
            Step(Cadre.A23, ENTREPRISE, TACIT_DGD_DELAY),
            Step(Cadre.A24, PartyRole.MOE),
            Step(Cadre.A25, PartyRole.MOE),
        ),
    }.get(cadre, ())


def _next_without_moe(cadre: Cadre) -> tuple[Step, ...]:
    return {
        Cadre.A5: (Step(Cadre.A19, PartyRole.MOA),),
        Cadre.A7: (Step(Cadre.A20, PartyRole.MOA), TACIT_A22),
        Cadre.A11: (Step(Cadre.A20, PartyRole.MOA), TACIT_A22),
        Cadre.A14: (Step(Cadre.A20, PartyRole.MOA), TACIT_A22),
        Cadre.A20: (Step(Cadre.A8, ENTREPRISE),),
        Cadre.A22: (Step(Cadre.A23, ENTREPRISE, TACIT_DGD_DELAY),),
    }.get(cadre, ())


def start_steps(*, kind: str | None, company_role: str, has_moe: bool) -> tuple[Step, ...]:
    """The documents that may open a dossier of `kind` (both kinds when None) for a company of this role."""
    kinds = [kind] if kind else list(START_CADRES)
    cadres = [c for k in kinds for c in START_CADRES[k].get(company_role, ())]
    if has_moe:
        cadres = [c for c in cadres if c not in WITHOUT_MOE_ONLY]
    else:
        cadres = [c for c in cadres if c not in NEEDS_MOE or c in FINAL_DRAFTS]
    return tuple(Step(c, ENTREPRISE) for c in cadres)


def next_steps(last: Cadre | None, *, kind: str | None, company_role: str, has_moe: bool) -> tuple[Step, ...]:
    """What may follow `last` (the last document of the dossier; None for a new dossier)."""
    if last is None:
        return start_steps(kind=kind, company_role=company_role, has_moe=has_moe)
    return _next_with_moe(last) if has_moe else _next_without_moe(last)


def is_final_document(cadre: Cadre) -> bool:
    """The document goes to the payer: the dossier ends there."""
    return ROUTES[cadre] == "mettre_a_disposition"


# Where each works document goes once deposited: the transition that follows `deposer`.
ROUTES: dict[Cadre, str] = {
    **{c: "mettre_a_disposition_moe" for c in (Cadre.A4, Cadre.A7, Cadre.A13, Cadre.A14)},
    **{c: "soumettre_valideur" for c in TITULAIRE_VALIDATION},
    **{c: "mettre_a_disposition_moa" for c in (Cadre.A5, Cadre.A22)},
    **{c: "transmettre_moa" for c in (Cadre.A15, Cadre.A17)},
    **{c: "a_associer_fournisseur" for c in (Cadre.A18, Cadre.A20)},
    **{c: "mettre_a_disposition" for c in (Cadre.A6, Cadre.A8, Cadre.A16, Cadre.A19, Cadre.A23, Cadre.A24, Cadre.A25)},
}

# Who is waiting for what, given the last document (for the work queues and the deadlines).
WAITING_FOR = {
    "soumettre_valideur": VALIDEUR,
    "mettre_a_disposition_moe": PartyRole.MOE,
    "mettre_a_disposition_moa": PartyRole.MOA,
    "transmettre_moa": PartyRole.MOA,
    "a_associer_fournisseur": ENTREPRISE,
    "mettre_a_disposition": "",
}
