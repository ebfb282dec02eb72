"""Forms of « Factures de travaux »: the fiche d'identité du marché and the deposit of a works document."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from choeur.directory.models import Structure
from choeur.invoices.enums import Cadre, TypeTva, Unit
from choeur.portal.aide_views.contextual import HelpedForm
from choeur.works.enums import DEFAULT_CADRES, PartyRole, RefusalReason
from choeur.works.services import PartyInput

SIRET_HELP = "SIRET (14 chiffres) de la structure, telle qu'elle figure dans l'annuaire."


def _structure_choices(structures) -> list[tuple[int, str]]:
    return [(s.pk, f"{s.designation} ({s.identifier})") for s in structures]


class ActingStructureMixin:
    """A « structure » field listing the structures the person acts for; hidden when there is only one."""

    def _set_structures(self, structures):
        field = self.fields["structure"]
        field.choices = _structure_choices(structures)
        self._single_structure = structures[0].pk if len(structures) == 1 else None
        if self._single_structure is not None:
            field.initial = self._single_structure
            field.widget = forms.HiddenInput()
            field.required = False

    def clean_structure(self):
        value = self.cleaned_data.get("structure")
        if value in (None, "") and self._single_structure is not None:
            return self._single_structure
        return value


def _cadres_help(role: str) -> str:
    return f"Codes séparés par des virgules ; vide : {', '.join(c.code for c in DEFAULT_CADRES[role])}."


class MarcheForm(ActingStructureMixin, HelpedForm):
    """The fiche d'identité du marché. Parties are named by SIRET; cotraitants and sous-traitants one per line."""

    structure = forms.TypedChoiceField(label="Vous saisissez la fiche pour", coerce=int, choices=())
    numero = forms.CharField(label="Numéro de marché", max_length=50)
    objet = forms.CharField(label="Objet du marché", max_length=255)
    numero_engagement = forms.CharField(label="Numéro d'engagement (facultatif)", max_length=50, required=False)
    moa_siret = forms.CharField(label="Maîtrise d'ouvrage : SIRET", max_length=14, help_text=SIRET_HELP)
    moa_service = forms.CharField(label="Maîtrise d'ouvrage : code du service exécutant (facultatif)", required=False)
    moa_cadres = forms.CharField(label="Maîtrise d'ouvrage : cadres utilisés", required=False,
                                 help_text=_cadres_help(PartyRole.MOA))  # fmt: skip
    moe_siret = forms.CharField(
        label="Maîtrise d'œuvre : SIRET (facultatif)",
        max_length=14,
        required=False,
        help_text="Sans maîtrise d'œuvre, l'entreprise dépose des états d'acompte (A5) à la maîtrise d'ouvrage.",
    )
    moe_cadres = forms.CharField(label="Maîtrise d'œuvre : cadres utilisés", required=False,
                                 help_text=_cadres_help(PartyRole.MOE))  # fmt: skip
    titulaire_siret = forms.CharField(label="Titulaire (ou mandataire du groupement) : SIRET", max_length=14)
    groupement = forms.BooleanField(
        label="Le marché est attribué à un groupement (le SIRET ci-dessus est son mandataire)", required=False
    )
    titulaire_cadres = forms.CharField(label="Titulaire : cadres utilisés", required=False,
                                       help_text=_cadres_help(PartyRole.TITULAIRE))  # fmt: skip
    cotraitants = forms.CharField(
        label="Cotraitants (facultatif)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Un SIRET par ligne.",
    )
    sous_traitants = forms.CharField(
        label="Sous-traitants en paiement direct (facultatif)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=(
            "Une ligne par sous-traitant : « SIRET du sous-traitant ; SIRET de l'entreprise pour qui il travaille »."
        ),
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_structures(structures)

    @staticmethod
    def _structure(siret: str, label: str) -> Structure:
        siret = (siret or "").replace(" ", "")
        structure = Structure.objects.filter(identifier=siret).first()
        if structure is None:
            raise forms.ValidationError(
                f"{label} : aucune structure de SIRET {siret} dans l'annuaire. Elle doit d'abord créer son compte, "
                "ou vérifiez le numéro."
            )
        return structure

    @staticmethod
    def _cadres(value: str) -> list[str] | None:
        codes = [code.strip().upper() for code in (value or "").replace(";", ",").split(",") if code.strip()]
        for code in codes:
            try:
                Cadre.from_code(code)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return codes or None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        parties: list[PartyInput] = []
        try:
            moa = self._structure(data["moa_siret"], "Maîtrise d'ouvrage")
            service = None
            if data.get("moa_service"):
                service = moa.services.filter(code=data["moa_service"].strip()).first()
                if service is None:
                    raise forms.ValidationError(
                        f"Maîtrise d'ouvrage : {moa.designation} n'a pas de service de code « {data['moa_service']} »."
                    )
            parties.append(PartyInput(PartyRole.MOA, moa, service, cadres=self._cadres(data.get("moa_cadres"))))
            if data.get("moe_siret"):
                moe = self._structure(data["moe_siret"], "Maîtrise d'œuvre")
                parties.append(PartyInput(PartyRole.MOE, moe, cadres=self._cadres(data.get("moe_cadres"))))
            holder = self._structure(data["titulaire_siret"], "Titulaire")
            role = PartyRole.MANDATAIRE if data.get("groupement") else PartyRole.TITULAIRE
            parties.append(PartyInput(role, holder, cadres=self._cadres(data.get("titulaire_cadres"))))
            for line in (data.get("cotraitants") or "").splitlines():
                if line.strip():
                    parties.append(PartyInput(PartyRole.COTRAITANT, self._structure(line.strip(), "Cotraitant")))
            for line in (data.get("sous_traitants") or "").splitlines():
                if not line.strip():
                    continue
                sub, _, works_for = line.partition(";")
                parties.append(
                    PartyInput(
                        PartyRole.SOUS_TRAITANT,
                        self._structure(sub.strip(), "Sous-traitant"),
                        works_for=self._structure(works_for.strip(), "Entreprise du sous-traitant")
                        if works_for.strip()
                        else None,
                        paiement_direct=True,
                    )
                )
        except forms.ValidationError as exc:
            self.add_error(None, exc)
            return data
        data["parties"] = parties
        return data

    @classmethod
    def initial_for(cls, marche) -> dict:
        def siret(role):
            party = marche.party(role)
            return party.structure.identifier if party else ""

        def cadres(role):
            party = marche.party(role)
            return ", ".join(party.cadre_codes) if party else ""

        holder = marche.titulaire
        return {
            "numero": marche.numero,
            "objet": marche.objet,
            "numero_engagement": marche.numero_engagement,
            "moa_siret": siret(PartyRole.MOA),
            "moa_service": marche.moa.service.code if marche.moa and marche.moa.service else "",
            "moa_cadres": cadres(PartyRole.MOA),
            "moe_siret": siret(PartyRole.MOE),
            "moe_cadres": cadres(PartyRole.MOE),
            "titulaire_siret": holder.structure.identifier if holder else "",
            "titulaire_cadres": ", ".join(holder.cadre_codes) if holder else "",
            "groupement": bool(holder and holder.role == PartyRole.MANDATAIRE),
            "cotraitants": "\n".join(
                p.structure.identifier for p in marche.parties.all() if p.role == PartyRole.COTRAITANT
            ),  # fmt: skip
            "sous_traitants": "\n".join(
                f"{p.structure.identifier} ; {p.works_for.structure.identifier if p.works_for else ''}"
                for p in marche.parties.all()
                if p.role == PartyRole.SOUS_TRAITANT
            ),
        }


class PieceForm(ActingStructureMixin, HelpedForm):
    """A works document: its cadre, number and date; the lines come from a LineFormSet."""

    structure = forms.TypedChoiceField(label="Vous déposez pour", coerce=int, choices=())
    cadre = forms.ChoiceField(label="Pièce à déposer", choices=())
    number = forms.CharField(
        label="Numéro de la pièce",
        max_length=20,
        required=False,
        help_text="Lettres sans accent, chiffres et - _ / + ; vide : un numéro est attribué.",
    )
    invoice_date = forms.DateField(
        label="Date de la pièce", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    type_tva = forms.ChoiceField(label="Régime de TVA", choices=TypeTva.choices, initial=TypeTva.TVA_SUR_DEBIT)
    comment = forms.CharField(
        label="Commentaire (facultatif)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, structures, cadres, marches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_structures(structures)
        self.fields["cadre"].choices = [(c.value, Cadre(c).label) for c in cadres]
        if len(cadres) == 1:
            self.fields["cadre"].initial = cadres[0].value
        if marches is not None:
            self.fields["marche"] = forms.TypedChoiceField(
                label="Marché",
                coerce=int,
                choices=[(m.pk, f"{m.numero} — {m.objet}") for m in marches],
            )
            self.order_fields(["structure", "marche", "cadre"])


class LineForm(HelpedForm):
    reference = forms.CharField(label="Référence", max_length=50, required=False)
    designation = forms.CharField(label="Désignation", max_length=255, required=False)
    quantity = forms.DecimalField(label="Quantité", max_digits=19, decimal_places=6, required=False)
    unit = forms.ChoiceField(label="Unité", choices=Unit.choices, initial=Unit.LS, required=False)
    unit_price_ht = forms.DecimalField(label="Prix unitaire HT", max_digits=19, decimal_places=6, required=False)
    vat_rate = forms.DecimalField(
        label="TVA (%)", max_digits=5, decimal_places=2, initial=Decimal("20"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Rendered in a table without visible labels: each input names its column and line.
        row = (self.prefix or "").rsplit("-", 1)[-1]
        number = int(row) + 1 if row.isdigit() else ""
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = f"{field.label}, ligne {number}"

    def as_line(self) -> dict | None:
        data = self.cleaned_data
        if not data or not (data.get("designation") or "").strip():
            return None
        return {
            "reference": data.get("reference") or "",
            "designation": data["designation"],
            "quantity": data.get("quantity") if data.get("quantity") is not None else Decimal("1"),
            "unit": data.get("unit") or Unit.LS,
            "unit_price_ht": data.get("unit_price_ht") or Decimal("0"),
            "discount_ht": Decimal("0"),
            "vat_rate": data.get("vat_rate") if data.get("vat_rate") is not None else Decimal("20"),
        }


LineFormSet = forms.formset_factory(LineForm, extra=2, max_num=200)


class RefusalForm(HelpedForm):
    # « Erreur de montant » stays in the list, as on Chorus Pro: choosing it explains why it is not a reason.
    reason = forms.ChoiceField(label="Motif du refus", choices=RefusalReason.choices)
    comment = forms.CharField(label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContestForm(HelpedForm):
    reason = forms.CharField(
        label="Ce que vous contestez, et pourquoi", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class ValideurDecisionForm(HelpedForm):
    """The titulaire's answer to a sous-traitant's draft (A10, A11): validate, or refuse with a coded reason."""

    decision = forms.ChoiceField(
        label="Décision", choices=[("VALIDATION", "Valider"), ("REFUS", "Refuser")], widget=forms.RadioSelect
    )
    motif = forms.ChoiceField(label="Motif du refus (si vous refusez)", required=False)
    comment = forms.CharField(label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    certified = forms.BooleanField(
        label="Je certifie agir pour le titulaire (ou le cotraitant, ou le mandataire) dont relève ce sous-traitant.",
        required=False,
    )

    def __init__(self, *args, cadre: str = "A10", **kwargs):
        super().__init__(*args, **kwargs)
        from choeur.invoices.validation_circuit import refusal_motifs_for

        self.fields["motif"].choices = [("", "—")] + [(m.code, m.label) for m in refusal_motifs_for(cadre)]
