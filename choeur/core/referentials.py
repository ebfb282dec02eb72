"""Reference tables shared by the invoices and the APIs: French VAT rates, VAT exemption reasons, ISO 4217
currencies, ISO 3166 countries and attachment types.

They live in `core` (which imports nothing from `choeur`) because both the invoice rules and the
Chorus-Pro-compatible API (`transverses/v1/recuperer/*`) read them, and they must never disagree: an
invoice line is checked against the very rates a client downloaded.

The data are static on purpose: no network at run time, and a change of legal rate is a code change that
goes through review (with its date in the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# ---------------------------------------------------------------------------------------------------
# VAT rates (Code général des impôts, art. 278 to 281 nonies, 293 B, 294 to 297)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VatRate:
    """One VAT rate as Chorus Pro lists it (`codeTauxTva`, `libelleTauxTva`, `valeurTauxTva`)."""

    code: str
    label: str
    value: Decimal
    territory: str


# TVA1 is the code Chorus Pro gives the franchise en base (0 %), as Pastell's tests show; the other codes
# are ours and stable: clients store them, so a code is never reused for another rate.
VAT_RATES: tuple[VatRate, ...] = (
    VatRate("TVA1", "Art. 293 B du CGI (franchise en base) — 0 %", Decimal("0"), "France"),
    VatRate("TVA2", "Taux particulier — 2,1 %", Decimal("2.1"), "France métropolitaine"),
    VatRate("TVA3", "Taux réduit — 5,5 %", Decimal("5.5"), "France métropolitaine"),
    VatRate("TVA4", "Taux intermédiaire — 10 %", Decimal("10"), "France métropolitaine"),
    VatRate("TVA5", "Taux normal — 20 %", Decimal("20"), "France métropolitaine"),
    VatRate("TVA6", "Taux normal DOM (Guadeloupe, Martinique, La Réunion) — 8,5 %", Decimal("8.5"), "DOM"),
    VatRate("TVA7", "Taux particulier Corse — 13 %", Decimal("13"), "Corse"),
    VatRate("TVA8", "Taux réduit DOM — 1,75 %", Decimal("1.75"), "DOM"),
    VatRate("TVA9", "Taux particulier DOM — 1,05 %", Decimal("1.05"), "DOM"),
    VatRate("TVA10", "Taux particulier Corse — 0,9 %", Decimal("0.9"), "Corse"),
)

_VAT_RATES_BY_CODE = {rate.code: rate for rate in VAT_RATES}


def vat_rate_by_code(code: str) -> VatRate | None:
    return _VAT_RATES_BY_CODE.get((code or "").strip().upper())


def vat_rate_values() -> frozenset[Decimal]:
    """Every rate value in force in France (metropolitan, DOM and Corsica)."""
    return frozenset(rate.value for rate in VAT_RATES)


# ---------------------------------------------------------------------------------------------------
# VAT exemption reasons
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VatExemptionReason:
    """A reason for invoicing without VAT. The code is the EN 16931 VATEX code (BT-121), so that the same
    value travels in the Chorus JSON (`motifExonerationTva`) and in UBL/CII invoices."""

    code: str
    label: str


VAT_EXEMPTION_REASONS: tuple[VatExemptionReason, ...] = (
    VatExemptionReason("VATEX-FR-FRANCHISE", "TVA non applicable, art. 293 B du CGI (franchise en base)"),
    VatExemptionReason("VATEX-EU-AE", "Autoliquidation : TVA due par le preneur (art. 283 du CGI)"),
    VatExemptionReason("VATEX-EU-IC", "Livraison intracommunautaire exonérée (art. 262 ter, I du CGI)"),
    VatExemptionReason("VATEX-EU-G", "Exportation hors de l'Union européenne exonérée (art. 262, I du CGI)"),
    VatExemptionReason("VATEX-EU-O", "Opération hors du champ d'application de la TVA"),
    VatExemptionReason(
        "VATEX-EU-132", "Exonération d'intérêt général (art. 261 du CGI, art. 132 de la directive 2006/112/CE)"
    ),
    VatExemptionReason("VATEX-EU-79-C", "Débours engagés au nom et pour le compte du client (art. 267, II-2° du CGI)"),
    VatExemptionReason("VATEX-EU-F", "Régime de la marge : biens d'occasion, objets d'art ou de collection"),
    VatExemptionReason("VATEX-EU-J", "Régime de la marge : agences de voyages (art. 266, 1-e du CGI)"),
    VatExemptionReason(
        "VATEX-EU-D", "Régime de la marge : moyens de transport d'occasion acquis dans l'Union européenne"
    ),
)

_EXEMPTIONS_BY_CODE = {reason.code: reason for reason in VAT_EXEMPTION_REASONS}


def vat_exemption_reason_by_code(code: str) -> VatExemptionReason | None:
    return _EXEMPTIONS_BY_CODE.get((code or "").strip().upper())


# ---------------------------------------------------------------------------------------------------
# Currencies (ISO 4217, currencies in circulation), French names
# ---------------------------------------------------------------------------------------------------

CURRENCIES: tuple[tuple[str, str], ...] = (
    ("AED", "Dirham des Émirats arabes unis"),
    ("AFN", "Afghani afghan"),
    ("ALL", "Lek albanais"),
    ("AMD", "Dram arménien"),
    ("ANG", "Florin des Antilles néerlandaises"),
    ("AOA", "Kwanza angolais"),
    ("ARS", "Peso argentin"),
    ("AUD", "Dollar australien"),
    ("AWG", "Florin arubais"),
    ("AZN", "Manat azerbaïdjanais"),
    ("BAM", "Mark convertible de Bosnie-Herzégovine"),
    ("BBD", "Dollar barbadien"),
    ("BDT", "Taka bangladais"),
    ("BGN", "Lev bulgare"),
    ("BHD", "Dinar bahreïni"),
    ("BIF", "Franc burundais"),
    ("BMD", "Dollar bermudien"),
    ("BND", "Dollar brunéien"),
    ("BOB", "Boliviano bolivien"),
    ("BRL", "Réal brésilien"),
    ("BSD", "Dollar bahaméen"),
    ("BTN", "Ngultrum bhoutanais"),
    ("BWP", "Pula botswanais"),
    ("BYN", "Rouble biélorusse"),
    ("BZD", "Dollar bélizien"),
    ("CAD", "Dollar canadien"),
    ("CDF", "Franc congolais"),
    ("CHF", "Franc suisse"),
    ("CLP", "Peso chilien"),
    ("CNY", "Yuan renminbi chinois"),
    ("COP", "Peso colombien"),
    ("CRC", "Colón costaricien"),
    ("CUP", "Peso cubain"),
    ("CVE", "Escudo cap-verdien"),
    ("CZK", "Couronne tchèque"),
    ("DJF", "Franc djiboutien"),
    ("DKK", "Couronne danoise"),
    ("DOP", "Peso dominicain"),
    ("DZD", "Dinar algérien"),
    ("EGP", "Livre égyptienne"),
    ("ERN", "Nakfa érythréen"),
    ("ETB", "Birr éthiopien"),
    ("EUR", "Euro"),
    ("FJD", "Dollar fidjien"),
    ("FKP", "Livre des îles Malouines"),
    ("GBP", "Livre sterling"),
    ("GEL", "Lari géorgien"),
    ("GHS", "Cedi ghanéen"),
    ("GIP", "Livre de Gibraltar"),
    ("GMD", "Dalasi gambien"),
    ("GNF", "Franc guinéen"),
    ("GTQ", "Quetzal guatémaltèque"),
    ("GYD", "Dollar guyanien"),
    ("HKD", "Dollar de Hong Kong"),
    ("HNL", "Lempira hondurien"),
    ("HTG", "Gourde haïtienne"),
    ("HUF", "Forint hongrois"),
    ("IDR", "Roupie indonésienne"),
    ("ILS", "Nouveau shekel israélien"),
    ("INR", "Roupie indienne"),
    ("IQD", "Dinar irakien"),
    ("IRR", "Rial iranien"),
    ("ISK", "Couronne islandaise"),
    ("JMD", "Dollar jamaïcain"),
    ("JOD", "Dinar jordanien"),
    ("JPY", "Yen japonais"),
    ("KES", "Shilling kényan"),
    ("KGS", "Som kirghize"),
    ("KHR", "Riel cambodgien"),
    ("KMF", "Franc comorien"),
    ("KPW", "Won nord-coréen"),
    ("KRW", "Won sud-coréen"),
    ("KWD", "Dinar koweïtien"),
    ("KYD", "Dollar des îles Caïmans"),
    ("KZT", "Tenge kazakh"),
    ("LAK", "Kip laotien"),
    ("LBP", "Livre libanaise"),
    ("LKR", "Roupie srilankaise"),
    ("LRD", "Dollar libérien"),
    ("LSL", "Loti lesothan"),
    ("LYD", "Dinar libyen"),
    ("MAD", "Dirham marocain"),
    ("MDL", "Leu moldave"),
    ("MGA", "Ariary malgache"),
    ("MKD", "Denar macédonien"),
    ("MMK", "Kyat birman"),
    ("MNT", "Tugrik mongol"),
    ("MOP", "Pataca macanaise"),
    ("MRU", "Ouguiya mauritanien"),
    ("MUR", "Roupie mauricienne"),
    ("MVR", "Rufiyaa maldivienne"),
    ("MWK", "Kwacha malawite"),
    ("MXN", "Peso mexicain"),
    ("MYR", "Ringgit malaisien"),
    ("MZN", "Metical mozambicain"),
    ("NAD", "Dollar namibien"),
    ("NGN", "Naira nigérian"),
    ("NIO", "Córdoba oro nicaraguayen"),
    ("NOK", "Couronne norvégienne"),
    ("NPR", "Roupie népalaise"),
    ("NZD", "Dollar néo-zélandais"),
    ("OMR", "Rial omanais"),
    ("PAB", "Balboa panaméen"),
    ("PEN", "Sol péruvien"),
    ("PGK", "Kina papouan-néo-guinéen"),
    ("PHP", "Peso philippin"),
    ("PKR", "Roupie pakistanaise"),
    ("PLN", "Zloty polonais"),
    ("PYG", "Guarani paraguayen"),
    ("QAR", "Riyal qatari"),
    ("RON", "Leu roumain"),
    ("RSD", "Dinar serbe"),
    ("RUB", "Rouble russe"),
    ("RWF", "Franc rwandais"),
    ("SAR", "Riyal saoudien"),
    ("SBD", "Dollar des îles Salomon"),
    ("SCR", "Roupie seychelloise"),
    ("SDG", "Livre soudanaise"),
    ("SEK", "Couronne suédoise"),
    ("SGD", "Dollar de Singapour"),
    ("SHP", "Livre de Sainte-Hélène"),
    ("SLE", "Leone sierraléonais"),
    ("SOS", "Shilling somalien"),
    ("SRD", "Dollar surinamais"),
    ("SSP", "Livre sud-soudanaise"),
    ("STN", "Dobra santoméen"),
    ("SYP", "Livre syrienne"),
    ("SZL", "Lilangeni swazi"),
    ("THB", "Baht thaïlandais"),
    ("TJS", "Somoni tadjik"),
    ("TMT", "Manat turkmène"),
    ("TND", "Dinar tunisien"),
    ("TOP", "Pa'anga tongan"),
    ("TRY", "Livre turque"),
    ("TTD", "Dollar de Trinité-et-Tobago"),
    ("TWD", "Nouveau dollar taïwanais"),
    ("TZS", "Shilling tanzanien"),
    ("UAH", "Hryvnia ukrainienne"),
    ("UGX", "Shilling ougandais"),
    ("USD", "Dollar des États-Unis"),
    ("UYU", "Peso uruguayen"),
    ("UZS", "Sum ouzbek"),
    ("VES", "Bolívar souverain vénézuélien"),
    ("VND", "Dông vietnamien"),
    ("VUV", "Vatu vanuatuan"),
    ("WST", "Tala samoan"),
    ("XAF", "Franc CFA (BEAC)"),
    ("XCD", "Dollar des Caraïbes orientales"),
    ("XOF", "Franc CFA (BCEAO)"),
    ("XPF", "Franc CFP"),
    ("YER", "Rial yéménite"),
    ("ZAR", "Rand sud-africain"),
    ("ZMW", "Kwacha zambien"),
    ("ZWG", "Zimbabwe Gold"),
)

_CURRENCY_CODES = frozenset(code for code, _ in CURRENCIES)


def is_currency_code(code: str) -> bool:
    return (code or "").strip().upper() in _CURRENCY_CODES


# ---------------------------------------------------------------------------------------------------
# Countries (ISO 3166-1 alpha-2), French short names
# ---------------------------------------------------------------------------------------------------

COUNTRIES: tuple[tuple[str, str], ...] = (
    ("AD", "Andorre"),
    ("AE", "Émirats arabes unis"),
    ("AF", "Afghanistan"),
    ("AG", "Antigua-et-Barbuda"),
    ("AI", "Anguilla"),
    ("AL", "Albanie"),
    ("AM", "Arménie"),
    ("AO", "Angola"),
    ("AQ", "Antarctique"),
    ("AR", "Argentine"),
    ("AS", "Samoa américaines"),
    ("AT", "Autriche"),
    ("AU", "Australie"),
    ("AW", "Aruba"),
    ("AX", "Îles Åland"),
    ("AZ", "Azerbaïdjan"),
    ("BA", "Bosnie-Herzégovine"),
    ("BB", "Barbade"),
    ("BD", "Bangladesh"),
    ("BE", "Belgique"),
    ("BF", "Burkina Faso"),
    ("BG", "Bulgarie"),
    ("BH", "Bahreïn"),
    ("BI", "Burundi"),
    ("BJ", "Bénin"),
    ("BL", "Saint-Barthélemy"),
    ("BM", "Bermudes"),
    ("BN", "Brunei Darussalam"),
    ("BO", "Bolivie"),
    ("BQ", "Bonaire, Saint-Eustache et Saba"),
    ("BR", "Brésil"),
    ("BS", "Bahamas"),
    ("BT", "Bhoutan"),
    ("BV", "Île Bouvet"),
    ("BW", "Botswana"),
    ("BY", "Biélorussie"),
    ("BZ", "Belize"),
    ("CA", "Canada"),
    ("CC", "Îles Cocos"),
    ("CD", "République démocratique du Congo"),
    ("CF", "République centrafricaine"),
    ("CG", "Congo"),
    ("CH", "Suisse"),
    ("CI", "Côte d'Ivoire"),
    ("CK", "Îles Cook"),
    ("CL", "Chili"),
    ("CM", "Cameroun"),
    ("CN", "Chine"),
    ("CO", "Colombie"),
    ("CR", "Costa Rica"),
    ("CU", "Cuba"),
    ("CV", "Cap-Vert"),
    ("CW", "Curaçao"),
    ("CX", "Île Christmas"),
    ("CY", "Chypre"),
    ("CZ", "Tchéquie"),
    ("DE", "Allemagne"),
    ("DJ", "Djibouti"),
    ("DK", "Danemark"),
    ("DM", "Dominique"),
    ("DO", "République dominicaine"),
    ("DZ", "Algérie"),
    ("EC", "Équateur"),
    ("EE", "Estonie"),
    ("EG", "Égypte"),
    ("EH", "Sahara occidental"),
    ("ER", "Érythrée"),
    ("ES", "Espagne"),
    ("ET", "Éthiopie"),
    ("FI", "Finlande"),
    ("FJ", "Fidji"),
    ("FK", "Îles Malouines"),
    ("FM", "Micronésie"),
    ("FO", "Îles Féroé"),
    ("FR", "France"),
    ("GA", "Gabon"),
    ("GB", "Royaume-Uni"),
    ("GD", "Grenade"),
    ("GE", "Géorgie"),
    ("GF", "Guyane"),
    ("GG", "Guernesey"),
    ("GH", "Ghana"),
    ("GI", "Gibraltar"),
    ("GL", "Groenland"),
    ("GM", "Gambie"),
    ("GN", "Guinée"),
    ("GP", "Guadeloupe"),
    ("GQ", "Guinée équatoriale"),
    ("GR", "Grèce"),
    ("GS", "Géorgie du Sud-et-les Îles Sandwich du Sud"),
    ("GT", "Guatemala"),
    ("GU", "Guam"),
    ("GW", "Guinée-Bissau"),
    ("GY", "Guyana"),
    ("HK", "Hong Kong"),
    ("HM", "Îles Heard-et-MacDonald"),
    ("HN", "Honduras"),
    ("HR", "Croatie"),
    ("HT", "Haïti"),
    ("HU", "Hongrie"),
    ("ID", "Indonésie"),
    ("IE", "Irlande"),
    ("IL", "Israël"),
    ("IM", "Île de Man"),
    ("IN", "Inde"),
    ("IO", "Territoire britannique de l'océan Indien"),
    ("IQ", "Irak"),
    ("IR", "Iran"),
    ("IS", "Islande"),
    ("IT", "Italie"),
    ("JE", "Jersey"),
    ("JM", "Jamaïque"),
    ("JO", "Jordanie"),
    ("JP", "Japon"),
    ("KE", "Kenya"),
    ("KG", "Kirghizistan"),
    ("KH", "Cambodge"),
    ("KI", "Kiribati"),
    ("KM", "Comores"),
    ("KN", "Saint-Christophe-et-Niévès"),
    ("KP", "Corée du Nord"),
    ("KR", "Corée du Sud"),
    ("KW", "Koweït"),
    ("KY", "Îles Caïmans"),
    ("KZ", "Kazakhstan"),
    ("LA", "Laos"),
    ("LB", "Liban"),
    ("LC", "Sainte-Lucie"),
    ("LI", "Liechtenstein"),
    ("LK", "Sri Lanka"),
    ("LR", "Liberia"),
    ("LS", "Lesotho"),
    ("LT", "Lituanie"),
    ("LU", "Luxembourg"),
    ("LV", "Lettonie"),
    ("LY", "Libye"),
    ("MA", "Maroc"),
    ("MC", "Monaco"),
    ("MD", "Moldavie"),
    ("ME", "Monténégro"),
    ("MF", "Saint-Martin (partie française)"),
    ("MG", "Madagascar"),
    ("MH", "Îles Marshall"),
    ("MK", "Macédoine du Nord"),
    ("ML", "Mali"),
    ("MM", "Myanmar"),
    ("MN", "Mongolie"),
    ("MO", "Macao"),
    ("MP", "Îles Mariannes du Nord"),
    ("MQ", "Martinique"),
    ("MR", "Mauritanie"),
    ("MS", "Montserrat"),
    ("MT", "Malte"),
    ("MU", "Maurice"),
    ("MV", "Maldives"),
    ("MW", "Malawi"),
    ("MX", "Mexique"),
    ("MY", "Malaisie"),
    ("MZ", "Mozambique"),
    ("NA", "Namibie"),
    ("NC", "Nouvelle-Calédonie"),
    ("NE", "Niger"),
    ("NF", "Île Norfolk"),
    ("NG", "Nigeria"),
    ("NI", "Nicaragua"),
    ("NL", "Pays-Bas"),
    ("NO", "Norvège"),
    ("NP", "Népal"),
    ("NR", "Nauru"),
    ("NU", "Niue"),
    ("NZ", "Nouvelle-Zélande"),
    ("OM", "Oman"),
    ("PA", "Panama"),
    ("PE", "Pérou"),
    ("PF", "Polynésie française"),
    ("PG", "Papouasie-Nouvelle-Guinée"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Pologne"),
    ("PM", "Saint-Pierre-et-Miquelon"),
    ("PN", "Îles Pitcairn"),
    ("PR", "Porto Rico"),
    ("PS", "Palestine"),
    ("PT", "Portugal"),
    ("PW", "Palaos"),
    ("PY", "Paraguay"),
    ("QA", "Qatar"),
    ("RE", "La Réunion"),
    ("RO", "Roumanie"),
    ("RS", "Serbie"),
    ("RU", "Russie"),
    ("RW", "Rwanda"),
    ("SA", "Arabie saoudite"),
    ("SB", "Îles Salomon"),
    ("SC", "Seychelles"),
    ("SD", "Soudan"),
    ("SE", "Suède"),
    ("SG", "Singapour"),
    ("SH", "Sainte-Hélène, Ascension et Tristan da Cunha"),
    ("SI", "Slovénie"),
    ("SJ", "Svalbard et île Jan Mayen"),
    ("SK", "Slovaquie"),
    ("SL", "Sierra Leone"),
    ("SM", "Saint-Marin"),
    ("SN", "Sénégal"),
    ("SO", "Somalie"),
    ("SR", "Suriname"),
    ("SS", "Soudan du Sud"),
    ("ST", "Sao Tomé-et-Principe"),
    ("SV", "El Salvador"),
    ("SX", "Saint-Martin (partie néerlandaise)"),
    ("SY", "Syrie"),
    ("SZ", "Eswatini"),
    ("TC", "Îles Turques-et-Caïques"),
    ("TD", "Tchad"),
    ("TF", "Terres australes et antarctiques françaises"),
    ("TG", "Togo"),
    ("TH", "Thaïlande"),
    ("TJ", "Tadjikistan"),
    ("TK", "Tokelau"),
    ("TL", "Timor oriental"),
    ("TM", "Turkménistan"),
    ("TN", "Tunisie"),
    ("TO", "Tonga"),
    ("TR", "Turquie"),
    ("TT", "Trinité-et-Tobago"),
    ("TV", "Tuvalu"),
    ("TW", "Taïwan"),
    ("TZ", "Tanzanie"),
    ("UA", "Ukraine"),
    ("UG", "Ouganda"),
    ("UM", "Îles mineures éloignées des États-Unis"),
    ("US", "États-Unis"),
    ("UY", "Uruguay"),
    ("UZ", "Ouzbékistan"),
    ("VA", "Saint-Siège (État de la Cité du Vatican)"),
    ("VC", "Saint-Vincent-et-les-Grenadines"),
    ("VE", "Venezuela"),
    ("VG", "Îles Vierges britanniques"),
    ("VI", "Îles Vierges des États-Unis"),
    ("VN", "Viêt Nam"),
    ("VU", "Vanuatu"),
    ("WF", "Wallis-et-Futuna"),
    ("WS", "Samoa"),
    ("YE", "Yémen"),
    ("YT", "Mayotte"),
    ("ZA", "Afrique du Sud"),
    ("ZM", "Zambie"),
    ("ZW", "Zimbabwe"),
)

_COUNTRY_NAMES = dict(COUNTRIES)


def country_name(code: str) -> str | None:
    return _COUNTRY_NAMES.get((code or "").strip().upper())


# ---------------------------------------------------------------------------------------------------
# Attachment types (`recuperer/typespj`), per object type (`typeObjet`)
# ---------------------------------------------------------------------------------------------------

# Chorus Pro's `typeObjet` values, as its clients spell them.
ATTACHMENT_OBJECT_TYPES: tuple[str, ...] = (
    "STRUCTURE",
    "UTILISATEUR",
    "CB",
    "MANDAT",
    "FICHE_RACCORDEMENT",
    "EJ",
    "MEMOIRE",
    "DMD_RBST",
    "TRANSVERSE",
    "FACTURE_TRAVAUX",
    "FACTURE",
    "DMDE_CPTE_DEV_SI_EXT",
    "SOLLICITATION",
    "CERTIFICAT",
    "PJ_REJET_EDI",
)


@dataclass(frozen=True)
class AttachmentType:
    """A kind of attachment (`idTypePieceJointe`, `codeTypePieceJointe`, `libelleTypePieceJointe`). The ids
    are stable: invoices store them."""

    id: int
    code: str
    label: str
    object_type: str


# Invoice attachments (`typeObjet` FACTURE) are not listed here: their types are the invoices' own
# (`choeur.invoices.enums.AttachmentType`), which the API serves from there.
ATTACHMENT_TYPES: tuple[AttachmentType, ...] = (
    AttachmentType(10, "PROJET_DECOMPTE", "Projet de décompte", "FACTURE_TRAVAUX"),
    AttachmentType(11, "ETAT_ACOMPTE", "État d'acompte", "FACTURE_TRAVAUX"),
    AttachmentType(12, "DECOMPTE_GENERAL", "Décompte général", "FACTURE_TRAVAUX"),
    AttachmentType(13, "PV_RECEPTION_TRAVAUX", "Procès-verbal de réception des travaux", "FACTURE_TRAVAUX"),
    AttachmentType(14, "AUTRE", "Autre pièce justificative", "FACTURE_TRAVAUX"),
    AttachmentType(20, "KBIS", "Extrait Kbis", "STRUCTURE"),
    AttachmentType(21, "STATUTS", "Statuts", "STRUCTURE"),
    AttachmentType(22, "AVIS_SITUATION_INSEE", "Avis de situation au répertoire Sirene", "STRUCTURE"),
    AttachmentType(23, "AUTRE", "Autre document de la structure", "STRUCTURE"),
    AttachmentType(30, "RIB", "Relevé d'identité bancaire", "CB"),
    AttachmentType(40, "MANDAT_FACTURATION", "Mandat de facturation", "MANDAT"),
    AttachmentType(50, "BON_COMMANDE", "Bon de commande", "EJ"),
    AttachmentType(51, "CONTRAT", "Contrat ou marché", "EJ"),
    AttachmentType(60, "PIECE_SOLLICITATION", "Pièce jointe à une sollicitation", "SOLLICITATION"),
    AttachmentType(70, "FICHE_RACCORDEMENT", "Fiche de raccordement", "FICHE_RACCORDEMENT"),
    AttachmentType(80, "MEMOIRE", "Mémoire de frais de justice", "MEMOIRE"),
    AttachmentType(90, "DEMANDE_REMBOURSEMENT", "Justificatif de demande de remboursement", "DMD_RBST"),
    AttachmentType(100, "CERTIFICAT", "Certificat de cessibilité", "CERTIFICAT"),
    AttachmentType(110, "RAPPORT_REJET", "Rapport de rejet de flux", "PJ_REJET_EDI"),
    AttachmentType(120, "JUSTIFICATIF", "Justificatif d'identité", "UTILISATEUR"),
    AttachmentType(130, "AUTRE", "Autre document", "TRANSVERSE"),
    AttachmentType(140, "DEMANDE_COMPTE", "Demande de compte de développement", "DMDE_CPTE_DEV_SI_EXT"),
)


def attachment_types(object_type: str | None = None) -> tuple[AttachmentType, ...]:
    if not object_type:
        return ATTACHMENT_TYPES
    return tuple(t for t in ATTACHMENT_TYPES if t.object_type == object_type)
