"""Training mode: the « Parcours de formation » (only in demo mode), its one-click sign-in as each persona,
the trainer's handout, and `choeur reset_demo` bringing a used demo back to its initial state."""

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pypdf import PdfReader

from choeur.directory.demo import demo_seed
from choeur.portal.formation_views.parcours import DEMONSTRATIONS

pytestmark = pytest.mark.django_db

SEED_TITLES = {  # the demonstrations of the training programme (../shared/seed)
    "Dépôt d'une facture de services",
    "Facture d'un cotraitant",
    "Facture d'un sous-traitant payé directement",
    "Saisie d'une facture",
    "Suivi d'une facture (tableau de bord, avancement)",
    "Factures à valider des entreprises de travaux",
    "Sollicitations",
    "Dépôt de flux (EDI, API)",
}


@pytest.fixture
def demo_mode(settings):
    settings.CHOEUR_DEMO_MODE = True


def test_demo_mode_is_off_by_default(settings):
    assert settings.CHOEUR_DEMO_MODE is False


@pytest.mark.parametrize("url", ["/formation/", "/formation/support.pdf"])
def test_without_demo_mode_the_parcours_does_not_exist(client, url):
    assert client.get(url).status_code == 404


def test_without_demo_mode_nobody_signs_in_as_a_persona(client):
    demo_seed()
    response = client.post(reverse("portal:formation_sign_in", args=[DEMONSTRATIONS[0].slug]))
    assert response.status_code == 404
    assert "_auth_user_id" not in client.session
    assert "Parcours de formation" not in client.get("/").content.decode()  # no footer link either


def test_the_parcours_lists_every_demonstration_of_the_programme(client, demo_mode):
    assert {d.title for d in DEMONSTRATIONS} == SEED_TITLES
    html = client.get("/formation/").content.decode()
    for d in DEMONSTRATIONS:
        assert f'id="{d.slug}"' in html and d.goal.replace("'", "&#x27;") in html
        assert d.persona.email in html
        assert reverse("portal:formation_sign_in", args=[d.slug]) in html
        assert all(step.replace("'", "&#x27;").replace("« ", "« ") in html for step in d.steps)
    assert 'href="/formation/"' in client.get("/").content.decode()  # footer link in demo mode


@pytest.mark.parametrize("demonstration", DEMONSTRATIONS, ids=lambda d: d.slug)
def test_one_click_signs_in_as_the_persona_and_opens_the_start(client, demo_mode, demonstration):
    demo_seed()
    response = client.post(reverse("portal:formation_sign_in", args=[demonstration.slug]))
    assert response.status_code == 302
    assert response["Location"] == demonstration.start_url
    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    assert user.email == demonstration.persona.email
    # The persona can open the start page (not a 403: its structure has the espace the demonstration needs).
    assert client.get(response["Location"]).status_code == 200


def test_sign_in_is_a_post_and_needs_the_demo_loaded(client, demo_mode):
    url = reverse("portal:formation_sign_in", args=[DEMONSTRATIONS[0].slug])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 404  # demo people not loaded
    assert client.post(reverse("portal:formation_sign_in", args=["inconnue"])).status_code == 404


def test_the_handout_is_a_pdf_of_the_parcours(client, demo_mode):
    response = client.get("/formation/support.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for d in DEMONSTRATIONS:
        assert d.title in text
    assert "choeur reset_demo" in text


def test_reset_demo_refuses_outside_demo_mode():
    with pytest.raises(CommandError, match="CHOEUR_DEMO_MODE=true"):
        call_command("reset_demo")


def _fingerprint() -> dict:
    """Every row of every model, by primary key and a digest of its fields (sessions excepted)."""
    from django.core import serializers

    state = {}
    for model in apps.get_models():
        if model._meta.label in {"sessions.Session"} or model._meta.app_label in {"axes", "admin"}:
            continue
        rows = serializers.serialize("json", model._default_manager.order_by("pk"))
        state[model._meta.label] = rows
    return state


def _first_difference(before: str, after: str) -> str:
    import json

    old, new = json.loads(before or "[]"), json.loads(after or "[]")
    for a, b in zip(old, new, strict=False):
        if a != b:
            return f"{a} ≠ {b}"
    return f"{len(old)} ligne(s) ≠ {len(new)} ligne(s)"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_reset_demo_brings_a_used_demo_back_to_its_initial_state(demo_mode, settings, tmp_path):
    from choeur.invoices.lifecycle import invoice_process
    from choeur.invoices.models import Invoice
    from choeur.invoices.services import invoice_draft_delete

    settings.VAR_DIR = tmp_path
    call_command("reset_demo", stdout=io.StringIO())  # first run: seeds and keeps the snapshot
    initial = _fingerprint()
    assert (tmp_path / "demo" / "snapshot.snapshot_json").exists()

    # A class uses the demo: a buyer processes an invoice, a supplier removes a draft, a person renames itself.
    invoice = Invoice.objects.get(number="FM-2026-0106")
    clerk = get_user_model().objects.get(email="francois.lambert@dra-arvelle.example")
    invoice_process(invoice=invoice, by=clerk, structure=invoice.recipient, transition="service_fait")
    draft = Invoice.objects.get(number="FM-2026-0109")
    invoice_draft_delete(invoice=draft, by=draft.created_by)
    get_user_model().objects.filter(pk=clerk.pk).update(first_name="Renommé")
    assert _fingerprint() != initial

    out = io.StringIO()
    call_command("reset_demo", stdout=out)
    assert "rechargée depuis l'instantané" in out.getvalue()
    after = _fingerprint()
    differing = {
        label: _first_difference(initial[label], after.get(label, ""))
        for label in initial
        if initial[label] != after.get(label)
    }
    assert differing == {}, "\n".join(f"{k}: {v}" for k, v in differing.items())
    call_command("verify_audit", stdout=io.StringIO())  # the audit chain is whole again
