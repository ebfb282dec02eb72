"""`choeur ingest_dir`: EDI drops in a directory, one sub-folder per depositing structure (its SIRET)."""

import os
import time

import pytest
from django.core.management import CommandError, call_command

from choeur.flows import services as flow_services
from choeur.flows.enums import Channel, FlowState
from choeur.flows.models import Flow
from choeur.flows.services import flows_ingest_directory
from tests.flows.flow_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def drop(tmp_path, supplier):
    folder = tmp_path / "depot" / supplier.identifier
    folder.mkdir(parents=True)
    return folder


def test_each_file_becomes_an_edi_flow_and_moves_to_traites(drop, make_xml, supplier):
    (drop / "f1.xml").write_bytes(make_xml(number="E-1"))
    (drop / "f2.xml").write_bytes(make_xml(number="E-2"))
    result = flows_ingest_directory(root=drop.parent, min_age=0)
    assert result == {"deposited": 2, "already": 0, "refused": 0}
    flows = Flow.objects.order_by("filename")
    assert [f.filename for f in flows] == ["f1.xml", "f2.xml"]
    assert all(f.channel == Channel.EDI_DIR and f.structure == supplier for f in flows)
    assert all(f.state == FlowState.IN_INTEGRE for f in flows)  # immediate task backend in tests
    assert all(f.numero_flux_depot[6] == "3" for f in flows)
    assert sorted(p.name for p in (drop / "traites").iterdir()) == ["f1.xml", "f2.xml"]
    assert not (drop / "f1.xml").exists()


def test_unknown_siret_folder_goes_to_erreurs_with_an_explanation(tmp_path, make_xml, supplier):
    folder = tmp_path / "depot" / "12345678900000"
    folder.mkdir(parents=True)
    (folder / "f.xml").write_bytes(make_xml())
    result = flows_ingest_directory(root=tmp_path / "depot", min_age=0)
    assert result["refused"] == 1 and not Flow.objects.exists()
    assert (folder / "erreurs" / "f.xml").exists()
    explanation = (folder / "erreurs" / "f.xml.erreur.txt").read_text(encoding="utf-8")
    assert "ne correspond à aucune structure" in explanation and "SIRET" in explanation


def test_refused_deposit_goes_to_erreurs(drop, settings):
    settings.CHOEUR_FLOW_MAX_BYTES = 10
    (drop / "gros.xml").write_bytes(b"<Invoice>" + b"x" * 100 + b"</Invoice>")
    (drop / "vide.xml").write_bytes(b"")
    assert flows_ingest_directory(root=drop.parent, min_age=0)["refused"] == 2
    assert "au-delà de la limite" in (drop / "erreurs" / "gros.xml.erreur.txt").read_text(encoding="utf-8")
    assert "vide" in (drop / "erreurs" / "vide.xml.erreur.txt").read_text(encoding="utf-8")


def test_files_still_being_written_are_left_alone(drop, make_xml):
    (drop / "en-cours.xml.part").write_bytes(b"<Inv")
    (drop / ".cache.xml").write_bytes(make_xml())
    fresh = drop / "tout-neuf.xml"
    fresh.write_bytes(make_xml())
    assert flows_ingest_directory(root=drop.parent, min_age=60) == {"deposited": 0, "already": 0, "refused": 0}
    assert fresh.exists() and (drop / "en-cours.xml.part").exists()
    old = time.time() - 120
    os.utime(fresh, (old, old))
    assert flows_ingest_directory(root=drop.parent, min_age=60)["deposited"] == 1


def test_crash_between_commit_and_move_leads_to_an_idempotent_redeposit(drop, make_xml, monkeypatch):
    (drop / "f.xml").write_bytes(make_xml(number="K-1"))
    real_move = flow_services._move_aside

    def crash(path, folder_name, **kwargs):
        raise OSError("disque plein")

    monkeypatch.setattr(flow_services, "_move_aside", crash)
    with pytest.raises(OSError):
        flows_ingest_directory(root=drop.parent, min_age=0)
    # The flow row exists and the file is still there: nothing lost.
    assert Flow.objects.count() == 1 and (drop / "f.xml").exists()

    monkeypatch.setattr(flow_services, "_move_aside", real_move)
    assert flows_ingest_directory(root=drop.parent, min_age=0) == {"deposited": 0, "already": 1, "refused": 0}
    assert Flow.objects.count() == 1
    assert (drop / "traites" / "f.xml").exists() and not (drop / "f.xml").exists()


def test_same_name_twice_never_overwrites_the_first_file(drop, make_xml):
    (drop / "f.xml").write_bytes(make_xml(number="N-1"))
    flows_ingest_directory(root=drop.parent, min_age=0)
    (drop / "f.xml").write_bytes(make_xml(number="N-2"))
    flows_ingest_directory(root=drop.parent, min_age=0)
    names = sorted(p.name for p in (drop / "traites").iterdir())
    assert len(names) == 2 and names[0] == "f.xml"


def test_command_with_structure_option(tmp_path, make_xml, supplier, capsys):
    (tmp_path / "f.xml").write_bytes(make_xml(number="S-1"))
    call_command("ingest_dir", str(tmp_path), "--structure", supplier.identifier, "--once", "--min-age", "0")
    assert "Flux déposés : 1" in capsys.readouterr().out
    assert Flow.objects.get().structure == supplier
    assert (tmp_path / "traites" / "f.xml").exists()


def test_command_refuses_an_unknown_structure(tmp_path):
    with pytest.raises(CommandError, match="Aucune structure"):
        call_command("ingest_dir", str(tmp_path), "--structure", "12345678900000", "--once")
