"""Setups of the `transverses/v1` golden pairs around uploaded files (named by "setup" in a golden request)."""

from __future__ import annotations

from choeur.api.models import ApiUploadedFile
from choeur.core.files import file_store
from tests.api.factures_world import PDF, invoice_sent


def _upload(world, name: str, *, used: bool = False) -> ApiUploadedFile:
    upload = ApiUploadedFile.objects.create(
        structure=world["structure:fournisseur"],
        technical_account=world.fournisseur.account,
        file=file_store(content=PDF, mime_type="application/pdf"),
        name=f"{name}.pdf",
        mime_type="application/pdf",
    )
    if used:
        ApiUploadedFile.objects.filter(pk=upload.pk).update(used_at=upload.created_at)
    world.add("piece", name, upload)
    return upload


def uploads_pending(world):
    _upload(world, "bon-de-livraison")
    _upload(world, "proces-verbal")
    _upload(world, "deja-soumise", used=True)


def invoice_sent_for_download(world):
    invoice_sent(world)
