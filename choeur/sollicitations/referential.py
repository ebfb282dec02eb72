"""The catégorie and sous-catégorie referential of sollicitations, seeded by a migration; administrators may
change it afterwards (the API serves the same codes)."""

CATEGORIES = [
    ("FACTURE", "Question sur une facture", "STRUCTURE", [
        ("SUIVI", "Suivi du traitement d'une facture"),
        ("SUSPENSION", "Facture suspendue ou rejetée"),
        ("PAIEMENT", "Paiement d'une facture"),
    ]),
    ("MARCHE", "Question sur un marché ou un engagement", "STRUCTURE", [
        ("ENGAGEMENT", "Numéro d'engagement juridique"),
        ("SERVICE", "Code service à utiliser"),
    ]),
    ("TRAVAUX", "Facturation de travaux", "STRUCTURE", [
        ("DOSSIER", "Dossier de facturation de travaux"),
    ]),
    ("COMPTE", "Gestion des structures et utilisateurs", "SUPPORT", [
        ("CREATION_STRUCTURE_PUBLIQUE", "Demande de création de structure publique"),
        ("NOUVEAU_GESTIONNAIRE", "Désignation d'un nouveau gestionnaire principal"),
        ("ACCES", "Accès au compte"),
    ]),
    ("SUPPORT", "Assistance sur la plateforme", "SUPPORT", [
        ("UTILISATION", "Utilisation du portail"),
        ("API", "Raccordement API ou EDI"),
        ("AUTRE", "Autre question"),
    ]),
]  # fmt: skip


def categories_seed(Category, SubCategory) -> None:  # noqa: N803 (historical models, from a migration)
    """Create the missing catégories and sous-catégories; never changes what an administrator edited."""
    for position, (code, libelle, routes_to, subs) in enumerate(CATEGORIES, start=1):
        category, _ = Category.objects.get_or_create(
            code=code, defaults={"libelle": libelle, "routes_to": routes_to, "position": position}
        )
        for sub_position, (sub_code, sub_libelle) in enumerate(subs, start=1):
            SubCategory.objects.get_or_create(
                category=category, code=sub_code, defaults={"libelle": sub_libelle, "position": sub_position}
            )
