"""The « Parcours de formation »: the demonstrations of the training programme (../shared/seed, « Utilisation
pratique »), each with its goal, its steps, the demo persona who plays it and where it starts.

The persona is named by its demo structure and its rank in that structure's people (choeur/directory/demo.py),
so a renamed demo person cannot leave the page pointing at nobody: tests/portal/test_formation.py signs in as
each one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from choeur.directory.demo import demo_structure


@dataclass(frozen=True)
class Demonstration:
    slug: str
    title: str
    goal: str
    structure: str  # key of the demo structure (choeur/directory/demo.py)
    person: int  # rank in that structure's people
    start: str  # URL name where the demonstration starts
    steps: tuple[str, ...]
    end: str  # what the trainees see when it is done
    fallback: str = "portal:home"  # where to start when `start` is not installed (a section still to come)

    @property
    def persona(self):
        return demo_structure(self.structure).people[self.person]

    @property
    def structure_name(self) -> str:
        return demo_structure(self.structure).raison_sociale

    @property
    def start_url(self) -> str:
        try:
            return reverse(self.start)
        except NoReverseMatch:
            return reverse(self.fallback)


DEMONSTRATIONS: tuple[Demonstration, ...] = (
    Demonstration(
        slug="depot-facture-services",
        title="Dépôt d'une facture de services",
        goal="Déposer le PDF ou le Factur-X d'une facture déjà produite par son logiciel, et l'envoyer.",
        structure="marchand",
        person=0,
        start="portal:invoice_upload",
        steps=(
            "Choisir la structure émettrice, puis le fichier de la facture (Factur-X, UBL, CII ou PDF).",
            "Vérifier ce que la plateforme a lu : destinataire, code service, numéro d'engagement.",
            "Compléter ce qui manque, étape par étape : le « ? » de chaque champ explique ce qu'il attend.",
            "Certifier l'exactitude et envoyer : le certificat de dépôt est téléchargeable aussitôt.",
        ),
        end="La facture est « Déposée » puis « Mise à disposition du destinataire » dans « Factures émises ».",
    ),
    Demonstration(
        slug="facture-cotraitant",
        title="Facture d'un cotraitant",
        goal="Déposer, comme cotraitant d'un groupement, une facture que le mandataire doit valider (cadre A12).",
        structure="aubert",
        person=0,
        start="portal:invoice_new",
        steps=(
            "Saisir une facture et choisir le cadre « A12 — Dépôt par un cotraitant d'une facture ».",
            "Désigner le mandataire du groupement (Constructions Garnier-Lefèvre) comme valideur.",
            "Désigner le destinataire public (Commune de Valfleurie) et son service.",
            "Envoyer : la facture attend le mandataire, qui a 15 jours pour la valider.",
        ),
        end="La facture est « À valider (valideur de niveau 1) » ; le mandataire la voit dans « Factures à valider ».",
    ),
    Demonstration(
        slug="facture-sous-traitant",
        title="Facture d'un sous-traitant payé directement",
        goal="Déposer, comme sous-traitant en paiement direct, une facture que le titulaire valide (cadre A9).",
        structure="delmas",
        person=0,
        start="portal:invoice_new",
        steps=(
            "Saisir une facture et choisir le cadre « A9 — Dépôt par un sous-traitant d'une facture ».",
            "Désigner le titulaire du marché (Constructions Garnier-Lefèvre) comme valideur.",
            "Compléter les références et les lignes, puis envoyer.",
        ),
        end="La facture est « À valider (valideur de niveau 1) » chez le titulaire ; sans réponse en 15 jours, "
        "elle est validée tacitement.",
    ),
    Demonstration(
        slug="saisie-facture",
        title="Saisie d'une facture",
        goal="Saisir une facture en ligne, sans logiciel : la plateforme en produit le Factur-X.",
        structure="marchand",
        person=0,
        start="portal:invoice_new",
        steps=(
            "Choisir la structure émettrice, puis le destinataire dans l'annuaire et son service exécutant.",
            "Saisir les références : numéro, date, numéro d'engagement (bon de commande).",
            "Saisir les lignes : les totaux et la TVA se calculent en direct.",
            "Joindre une pièce si besoin, relire la synthèse, certifier et envoyer.",
        ),
        end="La facture est envoyée ; son Factur-X et son certificat de dépôt sont téléchargeables.",
    ),
    Demonstration(
        slug="suivi-facture",
        title="Suivi d'une facture (tableau de bord, avancement)",
        goal="Retrouver une facture, lire son statut et son historique, savoir qui agit ensuite.",
        structure="marchand",
        person=0,
        start="portal:invoices_issued",
        steps=(
            "Ouvrir « Factures émises » : chaque statut porte un « ? » qui dit ce qu'il signifie.",
            "Filtrer par statut (« Suspendue », « À recycler ») et ouvrir une facture.",
            "Lire l'historique, le délai de paiement et, pour une facture suspendue, la compléter.",
            "Ouvrir les statistiques : montants par statut et délais de paiement.",
        ),
        end="La facture suspendue FM-2026-0107 est « Complétée » ; le destinataire reprend son traitement.",
    ),
    Demonstration(
        slug="factures-travaux-a-valider",
        title="Factures à valider des entreprises de travaux",
        goal="Comme maîtrise d'œuvre, traiter le projet de décompte d'une entreprise et établir l'état d'acompte.",
        structure="lumen",
        person=0,
        start="portal:works_queue",
        steps=(
            "Ouvrir « Factures de travaux à valider » : le délai de la maîtrise d'œuvre est affiché.",
            "Ouvrir le dossier du projet de décompte mensuel (A4) en attente.",
            "Corriger une quantité si besoin, en donnant la raison, et prévisualiser l'état d'acompte.",
            "Transmettre l'état d'acompte (A15) à la maîtrise d'ouvrage.",
        ),
        end="Le dossier passe à la maîtrise d'ouvrage : la pièce est « Transmise à la maîtrise d'ouvrage ».",
    ),
    Demonstration(
        slug="sollicitations",
        title="Sollicitations",
        goal="Poser une question à un service d'une structure publique ou au support, et suivre la réponse.",
        structure="garnier",
        person=0,
        start="portal:sollicitation_new",
        steps=(
            "Ouvrir « Sollicitations » et en créer une : la catégorie choisit le service qui la traite.",
            "Joindre une pièce et envoyer.",
            "Suivre la conversation : complément demandé, réponse, clôture.",
        ),
        end="La sollicitation est « Ouverte » chez le service destinataire.",
    ),
    Demonstration(
        slug="depot-flux",
        title="Dépôt de flux (EDI, API)",
        goal="Déposer un fichier de factures comme le ferait un logiciel, et lire le compte rendu de traitement.",
        structure="marchand",
        person=0,
        start="portal:flow_deposit",
        steps=(
            "Ouvrir « Dépôt de flux » et choisir un fichier UBL, CII ou Factur-X.",
            "Suivre l'état du flux : reçu, en cours de traitement, intégré ou rejeté.",
            "Lire le compte rendu : pour chaque rejet, la règle, la ligne et le message.",
            "Pour l'API : « Raccordement API » donne les identifiants et la documentation OpenAPI.",
        ),
        end="Le flux est « Intégré » (ses factures sont dans « Factures émises ») ou « Rejeté », avec son compte "
        "rendu.",
    ),
)

DEMONSTRATIONS_BY_SLUG = {d.slug: d for d in DEMONSTRATIONS}
