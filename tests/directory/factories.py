import datetime
from decimal import Decimal

import factory

from choeur.directory import enums
from choeur.directory.identifiers import make_siret
from choeur.directory.models import BankAccount, EngagementJuridique, Rattachement, Service, Structure
from tests.accounts.factories import UserFactory


class StructureFactory(factory.django.DjangoModelFactory):
    """A private supplier by default. Traits: `public`, `commune` (code service obligatoire),
    `hopital` (EJ obligatoire), `etat` (engagement ou service), `moe`."""

    class Meta:
        model = Structure

    identifier_type = enums.IdentifierType.SIRET
    identifier = factory.Sequence(lambda n: make_siret(f"{40000000 + n:08d}", "0001"))
    kind = enums.StructureKind.PRIVEE
    raison_sociale = factory.Sequence(lambda n: f"Entreprise fictive {n}")
    adresse = "1 rue de la République"
    code_postal = "69001"
    ville = "Lyon"

    @factory.post_generation
    def default_service(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            Service.objects.get_or_create(
                structure=obj,
                code=enums.DEFAULT_SERVICE_CODE,
                defaults={"libelle": enums.DEFAULT_SERVICE_LABEL},
            )

    class Params:
        public = factory.Trait(
            kind=enums.StructureKind.PUBLIQUE,
            public_category=enums.PublicCategory.COLLECTIVITE,
            raison_sociale=factory.Sequence(lambda n: f"Entité publique {n}"),
        )
        commune = factory.Trait(
            kind=enums.StructureKind.PUBLIQUE,
            public_category=enums.PublicCategory.COLLECTIVITE,
            code_service_obligatoire=True,
            raison_sociale=factory.Sequence(lambda n: f"Commune de Valfleurie {n}"),
        )
        hopital = factory.Trait(
            kind=enums.StructureKind.PUBLIQUE,
            public_category=enums.PublicCategory.ETABLISSEMENT_SANTE,
            engagement_obligatoire=True,
            raison_sociale=factory.Sequence(lambda n: f"Centre hospitalier {n}"),
        )
        etat = factory.Trait(
            kind=enums.StructureKind.PUBLIQUE,
            public_category=enums.PublicCategory.ETAT,
            engagement_ou_service=True,
            raison_sociale=factory.Sequence(lambda n: f"Direction régionale {n}"),
        )
        moe = factory.Trait(is_moe=True, raison_sociale=factory.Sequence(lambda n: f"Atelier d'architecture {n}"))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    structure = factory.SubFactory(StructureFactory)
    code = factory.Sequence(lambda n: f"SERVICE_{n}")
    libelle = factory.Sequence(lambda n: f"Service n°{n}")


class BankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankAccount

    structure = factory.SubFactory(StructureFactory)
    label = "Compte principal"
    iban = "FR7630006000011234567890189"
    bic = "AGRIFRPP"
    holder = factory.LazyAttribute(lambda o: o.structure.raison_sociale)


class RattachementFactory(factory.django.DjangoModelFactory):
    """A validated utilisateur simple by default. Traits: `gp`, `gs`, `pending`, `refused`."""

    class Meta:
        model = Rattachement

    user = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    role = enums.Role.UTILISATEUR_SIMPLE
    status = enums.RattachementStatus.VALIDEE

    class Params:
        gp = factory.Trait(role=enums.Role.GESTIONNAIRE_PRINCIPAL)
        gs = factory.Trait(role=enums.Role.GESTIONNAIRE_SECONDAIRE)
        pending = factory.Trait(status=enums.RattachementStatus.EN_COURS_DE_VALIDATION)
        refused = factory.Trait(status=enums.RattachementStatus.REFUSEE)


class EngagementFactory(factory.django.DjangoModelFactory):
    """An EJ (bon de commande, COMMANDE) of a public structure to a supplier. Traits: `marche`, `closed`."""

    class Meta:
        model = EngagementJuridique

    structure = factory.SubFactory(StructureFactory, public=True)
    supplier = factory.SubFactory(StructureFactory)
    number = factory.Sequence(lambda n: f"EJ-{n:06d}")
    type = enums.EngagementType.BON_DE_COMMANDE
    amount_ttc = Decimal("12000.00")
    notified_on = factory.LazyFunction(lambda: datetime.date(2026, 9, 1))
    state = enums.EngagementState.COMMANDE

    class Params:
        marche = factory.Trait(type=enums.EngagementType.MARCHE, numero_marche="M-2026-001")
        closed = factory.Trait(state=enums.EngagementState.CLOTURE)
