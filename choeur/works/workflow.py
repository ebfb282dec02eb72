"""The works rows of the invoice transition table (chorus-pro.md §6.4), registered when the app is ready.

Each works document, once deposited (`deposer`, DEPOSEE), is routed by the platform to its next actor
(circuit.ROUTES): the MOE, the MOA, back to the company, or to the payer (`mettre_a_disposition`, a row of the
standard table). The MOE and the MOA take it into account or refuse it; when the next document of the dossier
is deposited, the previous one becomes ASSOCIEE (or REMPLACEE_PAR_A22 in the tacit procedure).
"""

from choeur.invoices.enums import ActorRole as R
from choeur.invoices.enums import InvoiceStatus as S
from choeur.invoices.workflow import Transition, register_transitions


def _t(name, sources, target, roles, label, *, motif_required=False) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(roles), label, motif_required)


AT_MOE = (S.MISE_A_DISPOSITION_MOE, S.PRISE_EN_COMPTE_MOE)
AT_MOA = (S.TRANSMISE_MOA, S.MISE_A_DISPOSITION_MOA, S.PRISE_EN_COMPTE_MOA)
PENDING = (*AT_MOE, *AT_MOA, S.A_ASSOCIER_FOURNISSEUR)

# A sous-traitant's draft (A10, A11) reaches the MOE once its titulaire validated it, expressly or tacitly.
VALIDATED = (S.VALIDEE_1, S.ABSENCE_VALIDATION_1_HORS_DELAI, S.VALIDEE_2, S.ABSENCE_VALIDATION_2_HORS_DELAI)

WORKS_TRANSITIONS = (
    _t("mettre_a_disposition_moe", [S.DEPOSEE, *VALIDATED], S.MISE_A_DISPOSITION_MOE, [R.SYSTEME],
       "Mettre à disposition de la maîtrise d'œuvre"),
    _t("mettre_a_disposition_moa", [S.DEPOSEE], S.MISE_A_DISPOSITION_MOA, [R.SYSTEME],
       "Mettre à disposition de la maîtrise d'ouvrage"),
    _t("transmettre_moa", [S.DEPOSEE], S.TRANSMISE_MOA, [R.SYSTEME], "Transmettre à la maîtrise d'ouvrage"),
    _t("a_associer_fournisseur", [S.DEPOSEE], S.A_ASSOCIER_FOURNISSEUR, [R.SYSTEME],
       "Notifier à l'entreprise, qui associe la pièce suivante"),
    _t("prendre_en_compte_moe", [S.MISE_A_DISPOSITION_MOE], S.PRISE_EN_COMPTE_MOE, [R.MOE],
       "Prendre en compte (maîtrise d'œuvre)"),
    _t("refuser_moe", AT_MOE, S.REFUSEE_MOE, [R.MOE], "Refuser (maîtrise d'œuvre)", motif_required=True),
    _t("prendre_en_compte_moa", [S.TRANSMISE_MOA, S.MISE_A_DISPOSITION_MOA], S.PRISE_EN_COMPTE_MOA, [R.MOA],
       "Prendre en compte (maîtrise d'ouvrage)"),
    _t("refuser_moa", AT_MOA, S.REFUSEE_MOA, [R.MOA], "Refuser (maîtrise d'ouvrage)", motif_required=True),
    _t("associer", PENDING, S.ASSOCIEE, [R.SYSTEME], "Associer à la pièce suivante du dossier"),
    _t("remplacer_par_a22", PENDING, S.REMPLACEE_PAR_A22, [R.SYSTEME],
       "Remplacer par le projet de décompte général de l'entreprise (A22)"),
)  # fmt: skip

register_transitions(*WORKS_TRANSITIONS)
