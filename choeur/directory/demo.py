"""The demo data set: fictitious public buyers, suppliers, users for every role and API credentials.

Everything here is invented: names, addresses, SIRET numbers (valid check digits, made with
`make_siret`), IBANs (fictitious bank code 99999). The passwords and API secrets below are
**public on purpose**: they let anyone try the portal and the API of a demo instance. Never load
this data set on an instance holding real data (`choeur seed_demo` refuses to without `--force`
when non-demo structures have users attached).

Who is who (the works issue models markets later; until then the relations live in DEMO_MARKETS):
- Commune de Valfleurie-sur-Loire (COLLECTIVITE): code service obligatoire, several services, MOA;
- Centre hospitalier de Belmont-les-Vignes (ETABLISSEMENT_SANTE): numéro d'engagement obligatoire,
  « mise en paiement » not reported;
- Direction régionale de l'aménagement d'Arvelle (ETAT): engagement ou code service;
- Atelier Lumen Architectes: maître d'œuvre (MOE);
- Constructions Garnier-Lefèvre: works company, mandataire of the groupement « Groupement École des
  Tilleuls » with Menuiseries Aubert & Cie and Électricité Picard (cotraitants);
- Menuiseries Aubert & Cie: works company, cotraitant;
- Électricité Picard: cotraitant;
- Peintures Delmas: sous-traitant of Constructions Garnier-Lefèvre (paiement direct);
- Fournitures Marchand: supplier of goods (ordinary A1 invoices).

Every user's password is DEMO_USER_PASSWORD.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import Application

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError
from choeur.directory.enums import (
    EspaceCode,
    Habilitation,
    IdentifierType,
    PublicCategory,
    RattachementStatus,
    Role,
    StructureKind,
    SubscriptionStatus,
)
from choeur.directory.identifiers import french_vat_number, make_siret
from choeur.directory.models import (
    ApiClient,
    BankAccount,
    EspaceSubscription,
    Rattachement,
    Service,
    Structure,
    StructureEspace,
    TechnicalAccount,
)
from choeur.directory.raccordement import (
    API_CLIENT_VALIDITY,
    TECHNICAL_ACCOUNT_VALIDITY,
    api_client_create,
    technical_account_create,
)
from choeur.directory.services import structure_create, structure_defaults_ensure

# Public demo password of every demo user (portal login).
DEMO_USER_PASSWORD = "Choeur-Demo-2026!"
PLATFORM_ADMIN_ROLE = "ADMINISTRATEUR_PLATEFORME"
DEMO_EMAIL_DOMAIN_SUFFIX = ".example"  # RFC 2606: never a real mailbox

_COMMON_SUPPLIER_ESPACES = (
    EspaceCode.FACTURES_EMISES,
    EspaceCode.SOLLICITATIONS_EMISES,
    EspaceCode.SOLLICITATIONS_RECUES,
    EspaceCode.RACCORDEMENT_API,
)
_COMMON_PUBLIC_ESPACES = (
    EspaceCode.FACTURES_EMISES,
    EspaceCode.FACTURES_RECUES,
    EspaceCode.SOLLICITATIONS_EMISES,
    EspaceCode.SOLLICITATIONS_RECUES,
    EspaceCode.RACCORDEMENT_API,
)


@dataclass(frozen=True)
class DemoService:
    code: str
    libelle: str
    engagement_obligatoire: bool = False
    is_active: bool = True


@dataclass(frozen=True)
class DemoPerson:
    first_name: str
    last_name: str
    email: str
    role: str  # directory.enums.Role


@dataclass(frozen=True)
class DemoApi:
    client_id: str
    client_secret: str
    cpro_login: str
    cpro_password: str
    label: str = "Logiciel de facturation (démo)"


@dataclass(frozen=True)
class DemoStructure:
    key: str
    siret: str
    raison_sociale: str
    kind: str
    adresse: str
    code_postal: str
    ville: str
    people: tuple[DemoPerson, ...]
    api: DemoApi
    public_category: str = ""
    settings: tuple[tuple[str, bool], ...] = ()  # recipient settings and MOE/MOA flags
    services: tuple[DemoService, ...] = ()
    espaces: tuple[str, ...] = ()
    iban_account: str = ""  # 11-digit account number for a fictitious IBAN (suppliers)

    @property
    def is_public(self) -> bool:
        return self.kind == StructureKind.PUBLIQUE


def _people(domain: str, *names: tuple[str, str, str]) -> tuple[DemoPerson, ...]:
    roles = (Role.GESTIONNAIRE_PRINCIPAL, Role.GESTIONNAIRE_SECONDAIRE, Role.UTILISATEUR_SIMPLE)
    return tuple(
        DemoPerson(first, last, f"{local}@{domain}{DEMO_EMAIL_DOMAIN_SUFFIX}", role)
        for (first, last, local), role in zip(names, roles, strict=True)
    )


def _api(slug: str, login_code: str) -> DemoApi:
    # Login in the platform's technical-account format: TECH_1_<12 characters>@cpro.choeur.
    assert len(login_code) == 12, login_code
    return DemoApi(
        client_id=f"demo-{slug}",
        client_secret=f"demo-secret-{slug}-2026",
        cpro_login=f"TECH_1_{login_code}@cpro.choeur",
        cpro_password=f"demo-tech-{slug}-2026",
    )


# Suppliers first: demo_credentials lists them first.
DEMO_SUPPLIERS: tuple[DemoStructure, ...] = (
    DemoStructure(
        key="garnier",
        siret=make_siret("99990231", "0015"),
        raison_sociale="Constructions Garnier-Lefèvre",
        kind=StructureKind.PRIVEE,
        adresse="14 avenue des Tanneurs",
        code_postal="45230",
        ville="Valfleurie-sur-Loire",
        people=_people(
            "garnier-lefevre",
            ("Hélène", "Garnier", "helene.garnier"),
            ("Bruno", "Lefèvre", "bruno.lefevre"),
            ("Inès", "Moulin", "ines.moulin"),
        ),
        api=_api("garnier-lefevre", "DEMOGARNIER1"),
        espaces=(*_COMMON_SUPPLIER_ESPACES, EspaceCode.FACTURES_TRAVAUX, EspaceCode.FACTURES_A_VALIDER),
        iban_account="00012840051",
    ),
    DemoStructure(
        key="aubert",
        siret=make_siret("99990248", "0021"),
        raison_sociale="Menuiseries Aubert & Cie",
        kind=StructureKind.PRIVEE,
        adresse="3 rue du Moulin-Neuf",
        code_postal="45370",
        ville="Saint-Aubin-des-Prés",
        people=_people(
            "menuiseries-aubert",
            ("Olivier", "Aubert", "olivier.aubert"),
            ("Sandrine", "Pasquier", "sandrine.pasquier"),
            ("Yanis", "Brunet", "yanis.brunet"),
        ),
        api=_api("menuiseries-aubert", "DEMOAUBERT02"),
        espaces=(*_COMMON_SUPPLIER_ESPACES, EspaceCode.FACTURES_TRAVAUX),
        iban_account="00027415563",
    ),
    DemoStructure(
        key="picard",
        siret=make_siret("99990255", "0013"),
        raison_sociale="Électricité Picard",
        kind=StructureKind.PRIVEE,
        adresse="27 chemin des Peupliers",
        code_postal="45400",
        ville="Montclair-la-Forêt",
        people=_people(
            "electricite-picard",
            ("Laurent", "Picard", "laurent.picard"),
            ("Nadia", "Benali", "nadia.benali"),
            ("Thomas", "Royer", "thomas.royer"),
        ),
        api=_api("electricite-picard", "DEMOPICARD03"),
        espaces=(*_COMMON_SUPPLIER_ESPACES, EspaceCode.FACTURES_TRAVAUX),
        iban_account="00031170284",
    ),
    DemoStructure(
        key="delmas",
        siret=make_siret("99990262", "0017"),
        raison_sociale="Peintures Delmas",
        kind=StructureKind.PRIVEE,
        adresse="8 impasse des Lilas",
        code_postal="45230",
        ville="Valfleurie-sur-Loire",
        people=_people(
            "peintures-delmas",
            ("Martine", "Delmas", "martine.delmas"),
            ("Kévin", "Arnaud", "kevin.arnaud"),
            ("Julie", "Ferrand", "julie.ferrand"),
        ),
        api=_api("peintures-delmas", "DEMODELMAS04"),
        espaces=(*_COMMON_SUPPLIER_ESPACES, EspaceCode.FACTURES_TRAVAUX),
        iban_account="00045938107",
    ),
    DemoStructure(
        key="lumen",
        siret=make_siret("99990279", "0012"),
        raison_sociale="Atelier Lumen Architectes",
        kind=StructureKind.PRIVEE,
        adresse="52 quai Saint-Florent",
        code_postal="45000",
        ville="Orlanges",
        people=_people(
            "atelier-lumen",
            ("Claire", "Vasseur", "claire.vasseur"),
            ("Mathieu", "Lemaire", "mathieu.lemaire"),
            ("Sofia", "Carvalho", "sofia.carvalho"),
        ),
        api=_api("atelier-lumen", "DEMOLUMEN005"),
        settings=(("is_moe", True),),
        espaces=(*_COMMON_SUPPLIER_ESPACES, EspaceCode.FACTURES_TRAVAUX),
        iban_account="00052264419",
    ),
    DemoStructure(
        key="marchand",
        siret=make_siret("99990286", "0018"),
        raison_sociale="Fournitures Marchand",
        kind=StructureKind.PRIVEE,
        adresse="110 boulevard Gambetta",
        code_postal="45100",
        ville="Orlanges",
        people=_people(
            "fournitures-marchand",
            ("Philippe", "Marchand", "philippe.marchand"),
            ("Aurélie", "Colin", "aurelie.colin"),
            ("Mehdi", "Chevalier", "mehdi.chevalier"),
        ),
        api=_api("fournitures-marchand", "DEMOMARCHAN6"),
        espaces=_COMMON_SUPPLIER_ESPACES,
        iban_account="00068823970",
    ),
)

DEMO_BUYERS: tuple[DemoStructure, ...] = (
    DemoStructure(
        key="commune",
        siret=make_siret("21945230", "0014"),
        raison_sociale="Commune de Valfleurie-sur-Loire",
        kind=StructureKind.PUBLIQUE,
        public_category=PublicCategory.COLLECTIVITE,
        adresse="Place de la Mairie",
        code_postal="45230",
        ville="Valfleurie-sur-Loire",
        people=(
            DemoPerson("Isabelle", "Fontaine", "isabelle.fontaine@valfleurie.example", Role.GESTIONNAIRE_PRINCIPAL),
            DemoPerson("Jérôme", "Mercier", "jerome.mercier@valfleurie.example", Role.UTILISATEUR_SIMPLE),
        ),
        api=_api("commune-valfleurie", "DEMOVALFLEU7"),
        settings=(("code_service_obligatoire", True), ("is_moa", True)),
        services=(
            DemoService("SERV_TECHNIQUES", "Services techniques municipaux"),
            DemoService("AFFAIRES_SCOLAIRES", "Affaires scolaires et périscolaires"),
            DemoService("MEDIATHEQUE", "Médiathèque Jeanne-Barret"),
            DemoService("COMMANDE_PUBLIQUE", "Commande publique", engagement_obligatoire=True),
            # Closed service, kept to show that the annuaire lists active services only.
            DemoService("ANCIEN_CCAS", "Ancien centre communal d'action sociale", is_active=False),
        ),
        espaces=(*_COMMON_PUBLIC_ESPACES, EspaceCode.FACTURES_TRAVAUX),
    ),
    DemoStructure(
        key="hopital",
        siret=make_siret("26450817", "0019"),
        raison_sociale="Centre hospitalier de Belmont-les-Vignes",
        kind=StructureKind.PUBLIQUE,
        public_category=PublicCategory.ETABLISSEMENT_SANTE,
        adresse="2 allée des Tilleuls",
        code_postal="45800",
        ville="Belmont-les-Vignes",
        people=(
            DemoPerson("Nathalie", "Girard", "nathalie.girard@ch-belmont.example", Role.GESTIONNAIRE_PRINCIPAL),
            DemoPerson("Samuel", "Bertin", "samuel.bertin@ch-belmont.example", Role.UTILISATEUR_SIMPLE),
        ),
        api=_api("ch-belmont", "DEMOCHBELMO8"),
        settings=(("engagement_obligatoire", True), ("mise_en_paiement_non_remontee", True)),
        services=(
            DemoService("PHARMACIE", "Pharmacie à usage intérieur", engagement_obligatoire=True),
            DemoService(
                "SERVICES_ECONOMIQUES", "Direction des achats et de la logistique", engagement_obligatoire=True
            ),
            DemoService("TRAVAUX", "Direction des travaux et du patrimoine"),
        ),
        espaces=_COMMON_PUBLIC_ESPACES,
    ),
    DemoStructure(
        key="etat",
        siret=make_siret("13099871", "0016"),
        raison_sociale="Direction régionale de l'aménagement d'Arvelle",
        kind=StructureKind.PUBLIQUE,
        public_category=PublicCategory.ETAT,
        adresse="5 rue de la Préfecture",
        code_postal="45044",
        ville="Orlanges",
        people=(
            DemoPerson("François", "Lambert", "francois.lambert@dra-arvelle.example", Role.GESTIONNAIRE_PRINCIPAL),
            DemoPerson("Camille", "Roux", "camille.roux@dra-arvelle.example", Role.UTILISATEUR_SIMPLE),
        ),
        api=_api("dra-arvelle", "DEMODRARVEL9"),
        settings=(("engagement_ou_service", True),),
        services=(
            DemoService("SG_ACHATS", "Secrétariat général — achats"),
            DemoService("IMMOBILIER", "Pôle immobilier de l'État"),
        ),
        espaces=(*_COMMON_PUBLIC_ESPACES, EspaceCode.ENGAGEMENTS),
    ),
)

DEMO_STRUCTURES: tuple[DemoStructure, ...] = DEMO_SUPPLIERS + DEMO_BUYERS
_BY_KEY = {structure.key: structure for structure in DEMO_STRUCTURES}

DEMO_PLATFORM_ADMIN = DemoPerson("Agathe", "Durand", "admin@choeur-demo.example", PLATFORM_ADMIN_ROLE)

# Market relations, described here until the works issue models markets (keys of DEMO_STRUCTURES).
DEMO_MARKETS = (
    {
        "numero_marche": "2026-TRX-014",
        "objet": "Réhabilitation de l'école des Tilleuls",
        "acheteur": "commune",
        "service_executant": "SERV_TECHNIQUES",
        "moa": "commune",
        "moe": "lumen",
        "groupement": {
            "nom": "Groupement École des Tilleuls",
            "mandataire": "garnier",
            "cotraitants": ["aubert", "picard"],
        },
        "sous_traitants": [{"sous_traitant": "delmas", "titulaire": "garnier", "paiement_direct": True}],
    },
    {
        "numero_marche": "2026-FCS-003",
        "objet": "Fournitures de bureau et consommables",
        "acheteur": "etat",
        "service_executant": "SG_ACHATS",
        "titulaire": "marchand",
        "engagements_juridiques": ["1300045871", "1300045872"],
    },
    {
        "numero_marche": "2026-HOS-021",
        "objet": "Fournitures pour la pharmacie à usage intérieur",
        "acheteur": "hopital",
        "service_executant": "PHARMACIE",
        "titulaire": "marchand",
        "engagements_juridiques": ["EJ-2026-00917"],
    },
)


def demo_structure(key: str) -> DemoStructure:
    return _BY_KEY[key]


# ---------------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------------


@dataclass
class DemoSeedReport:
    created: int = 0
    updated: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        if not self.changed:
            return "Données de démonstration déjà à jour : rien n'a changé."
        return f"Données de démonstration chargées : {self.created} élément(s) créé(s), {self.updated} mis à jour."


def _sync(instance, values: dict, report: DemoSeedReport) -> None:
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=changed)
        report.updated += 1


def _fictitious_iban(account: str) -> str:
    """A valid French IBAN on the fictitious bank 99999, guichet 00001 (RIB key then IBAN key)."""
    from stdnum import iban

    bank, branch = "99999", "00001"
    rib_key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib_key:02d}"
    return f"FR{iban.calc_check_digits('FR00' + bban)}{bban}"


def _user_ensure(person: DemoPerson, report: DemoSeedReport, *, staff: bool = False):
    User = get_user_model()
    user = User.objects.filter(email__iexact=person.email).first()
    if user is None:
        user = User.objects.create_user(
            person.email,
            DEMO_USER_PASSWORD,
            first_name=person.first_name,
            last_name=person.last_name,
            is_active=True,
            is_staff=staff,
            is_superuser=staff,
        )
        report.created += 1
        return user
    _sync(
        user,
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "is_active": True,
            "is_staff": staff,
            "is_superuser": staff,
        },
        report,
    )
    if not user.check_password(DEMO_USER_PASSWORD):
        user.set_password(DEMO_USER_PASSWORD)
        user.save(update_fields=["password"])
        report.updated += 1
    return user


def _structure_ensure(data: DemoStructure, gp, report: DemoSeedReport) -> Structure:
    values = {
        "raison_sociale": data.raison_sociale,
        # Companies invoice with their VAT number (EN 16931 BT-31; the pré-contrôle asks for it).
        **({} if data.is_public else {"numero_tva": french_vat_number(data.siret)}),
        "adresse": data.adresse,
        "code_postal": data.code_postal,
        "ville": data.ville,
        **dict(data.settings),
    }
    structure = Structure.objects.filter(identifier_type=IdentifierType.SIRET, identifier=data.siret).first()
    if structure is None:
        # The platform's creation path: default service, default espaces, gestionnaire principal, history.
        structure = structure_create(
            created_by=None if data.is_public else gp,
            gestionnaire_principal=gp,
            identifier_type=IdentifierType.SIRET,
            identifier=data.siret,
            public=data.is_public,
            public_category=data.public_category,
            **values,
        )
        report.created += 1
    else:
        _sync(
            structure,
            {**values, "kind": data.kind, "public_category": data.public_category, "is_active": True},
            report,
        )
        structure_defaults_ensure(structure=structure)
    for service in data.services:
        existing = Service.objects.filter(structure=structure, code=service.code).first()
        values = {
            "libelle": service.libelle,
            "engagement_obligatoire": service.engagement_obligatoire,
            "is_active": service.is_active,
        }
        if existing is None:
            Service.objects.create(structure=structure, code=service.code, **values)
            report.created += 1
        else:
            _sync(existing, values, report)
    for code in data.espaces:
        espace, created = StructureEspace.objects.get_or_create(structure=structure, code=code)
        if created:
            report.created += 1
        elif not espace.is_open:
            _sync(espace, {"is_open": True}, report)
    if data.iban_account:
        iban = _fictitious_iban(data.iban_account)
        bank = BankAccount.objects.filter(structure=structure, label="Compte principal (démo)").first()
        values = {"iban": iban, "bic": "DEMOFRPPXXX", "holder": data.raison_sociale, "is_active": True}
        if bank is None:
            BankAccount.objects.create(structure=structure, label="Compte principal (démo)", **values)
            report.created += 1
        else:
            _sync(bank, values, report)
    return structure


def _rattachement_ensure(user, structure: Structure, role: str, report: DemoSeedReport) -> Rattachement:
    rattachement = Rattachement.objects.filter(user=user, structure=structure).first()
    values = {"role": role, "status": RattachementStatus.VALIDEE}
    if rattachement is None:
        if role == Role.GESTIONNAIRE_PRINCIPAL:
            # A structure has one gestionnaire principal: demote whoever replaced the demo one.
            Rattachement.objects.filter(
                structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL, status=RattachementStatus.VALIDEE
            ).update(role=Role.GESTIONNAIRE_SECONDAIRE)
        rattachement = Rattachement.objects.create(
            user=user, structure=structure, decided_at=timezone.now(), message="Données de démonstration", **values
        )
        report.created += 1
    elif rattachement.role != role or rattachement.status != RattachementStatus.VALIDEE:
        if role == Role.GESTIONNAIRE_PRINCIPAL:
            Rattachement.objects.filter(
                structure=structure, role=Role.GESTIONNAIRE_PRINCIPAL, status=RattachementStatus.VALIDEE
            ).exclude(pk=rattachement.pk).update(role=Role.GESTIONNAIRE_SECONDAIRE)
        _sync(rattachement, values, report)
    for espace in structure.espaces.filter(is_open=True):
        subscription, created = EspaceSubscription.objects.get_or_create(
            rattachement=rattachement,
            espace=espace,
            defaults={"habilitation": Habilitation.MODIFICATION, "status": SubscriptionStatus.VALIDEE},
        )
        if created:
            report.created += 1
        else:
            _sync(
                subscription, {"habilitation": Habilitation.MODIFICATION, "status": SubscriptionStatus.VALIDEE}, report
            )
    return rattachement


def _credentials_ensure(data: DemoStructure, structure: Structure, gp, report: DemoSeedReport) -> None:
    now = timezone.now()
    account = TechnicalAccount.objects.filter(login=data.api.cpro_login).first()
    if account is not None and account.structure_id != structure.pk:
        raise ApplicationError(
            f"Le compte technique de démonstration {account.login} appartient à une autre structure."
        )
    if account is None:
        technical_account_create(
            structure=structure,
            by=gp,
            login=data.api.cpro_login,
            password=data.api.cpro_password,
            check_permission=False,
        )
        report.created += 1
    elif not account.is_usable or not check_password(data.api.cpro_password, account.password_hash):
        # Someone revoked it, reset it or let it expire: restore the published demo password.
        account.password_hash = make_password(data.api.cpro_password)
        account.revoked_at = None
        account.expires_at = max(account.expires_at, now + TECHNICAL_ACCOUNT_VALIDITY)
        account.save(update_fields=["password_hash", "revoked_at", "expires_at"])
        report.updated += 1

    application = Application.objects.filter(client_id=data.api.client_id).first()
    client = ApiClient.objects.filter(application=application).first() if application else None
    if application is not None and client is None:
        raise ApplicationError(f"Le client OAuth2 {data.api.client_id} existe sans client API Chœur : supprimez-le.")
    if client is not None and client.structure_id != structure.pk:
        raise ApplicationError(
            f"Le client API de démonstration {data.api.client_id} appartient à une autre structure."
        )
    if client is None:
        api_client_create(
            structure=structure,
            by=gp,
            label=data.api.label,
            client_id=data.api.client_id,
            client_secret=data.api.client_secret,
            check_permission=False,
        )
        report.created += 1
        return
    if not client.is_usable:
        client.revoked_at = None
        client.expires_at = max(client.expires_at, now + API_CLIENT_VALIDITY)
        client.save(update_fields=["revoked_at", "expires_at"])
        report.updated += 1
    if not check_password(data.api.client_secret, application.client_secret):
        application.client_secret = data.api.client_secret  # hashed by the toolkit on save
        application.save(update_fields=["client_secret"])
        report.updated += 1


def demo_seed(*, force: bool = False) -> DemoSeedReport:
    """Create or restore the demo data set. Idempotent: a second run changes nothing.

    Refuses, unless `force`, when the database already holds structures that are not demo ones: the
    demo passwords are public and must not open a real instance.
    """
    demo_sirets = {structure.siret for structure in DEMO_STRUCTURES}
    # Structures with people attached are a sign of real use; imported annuaire structures have none.
    real_use = (
        Structure.objects.exclude(identifier__in=demo_sirets)
        .filter(rattachements__status=RattachementStatus.VALIDEE)
        .exists()
    )
    if real_use and not force:
        raise ApplicationError(
            "La base contient déjà des structures utilisées (avec des utilisateurs rattachés) : les identifiants de "
            "démonstration sont publics et ne doivent pas être chargés sur une instance réelle. Utilisez --force "
            "seulement sur une instance de test."
        )
    report = DemoSeedReport()
    with transaction.atomic():
        _user_ensure(DEMO_PLATFORM_ADMIN, report, staff=True)
        for data in DEMO_STRUCTURES:
            users = [(_user_ensure(person, report), person.role) for person in data.people]
            gp = next(user for user, role in users if role == Role.GESTIONNAIRE_PRINCIPAL)
            structure = _structure_ensure(data, gp, report)
            for user, role in users:
                _rattachement_ensure(user, structure, role, report)
            _credentials_ensure(data, structure, gp, report)
        if report.changed:
            audit_log(
                action="directory.demo.seeded",
                data={"created": report.created, "updated": report.updated},
            )
    return report


# ---------------------------------------------------------------------------------------------------
# The published demo credentials, checked against the database
# ---------------------------------------------------------------------------------------------------


def demo_credentials() -> tuple[dict, list[str]]:
    """The demo logins (`users`, `api`, `structures`) that still work in this database, and French
    warnings for those that do not (deleted, changed, revoked). Only the constants of this module are
    ever printed: a credential is listed when it is one of them and still valid, never read back."""
    User = get_user_model()
    warnings: list[str] = []
    result: dict[str, list] = {"users": [], "api": [], "structures": []}
    structures = {
        structure.identifier: structure
        for structure in Structure.objects.filter(
            identifier_type=IdentifierType.SIRET, identifier__in=[data.siret for data in DEMO_STRUCTURES]
        )
    }
    admin = User.objects.filter(email__iexact=DEMO_PLATFORM_ADMIN.email, is_active=True).first()
    if admin and admin.is_staff and admin.check_password(DEMO_USER_PASSWORD):
        result["users"].append(
            {
                "email": DEMO_PLATFORM_ADMIN.email,
                "password": DEMO_USER_PASSWORD,
                "role": PLATFORM_ADMIN_ROLE,
                "siret": None,
            }
        )
    else:
        warnings.append(f"Administrateur de démonstration {DEMO_PLATFORM_ADMIN.email} absent ou modifié.")
    for data in DEMO_STRUCTURES:
        structure = structures.get(data.siret)
        if structure is None:
            warnings.append(f"Structure de démonstration {data.raison_sociale} ({data.siret}) absente.")
            continue
        result["structures"].append(
            {"siret": data.siret, "raison_sociale": data.raison_sociale, "publique": structure.is_public}
        )
        for person in data.people:
            user = User.objects.filter(email__iexact=person.email, is_active=True).first()
            valid = (
                user is not None
                and user.check_password(DEMO_USER_PASSWORD)
                and Rattachement.objects.validated().filter(user=user, structure=structure, role=person.role).exists()
            )
            if valid:
                result["users"].append(
                    {"email": person.email, "password": DEMO_USER_PASSWORD, "role": person.role, "siret": data.siret}
                )
            else:
                warnings.append(f"Utilisateur de démonstration {person.email} absent ou modifié.")
        account = TechnicalAccount.objects.filter(login=data.api.cpro_login, structure=structure).first()
        client = (
            ApiClient.objects.select_related("application")
            .filter(application__client_id=data.api.client_id, structure=structure)
            .first()
        )
        account_ok = (
            account is not None and account.is_usable and check_password(data.api.cpro_password, account.password_hash)
        )
        client_ok = (
            client is not None
            and client.is_usable
            and check_password(data.api.client_secret, client.application.client_secret)
        )
        if account_ok and client_ok:
            result["api"].append(
                {
                    "siret": data.siret,
                    "client_id": data.api.client_id,
                    "client_secret": data.api.client_secret,
                    "cpro_login": data.api.cpro_login,
                    "cpro_password": data.api.cpro_password,
                }
            )
        else:
            warnings.append(
                f"Identifiants API de démonstration de {data.raison_sociale} absents, révoqués ou modifiés."
            )
    if warnings:
        warnings.append("Relancez « choeur seed_demo » pour les rétablir.")
    return result, warnings
