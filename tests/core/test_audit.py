import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from choeur.core.audit import audit_deferred, audit_log, audit_verify
from choeur.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _chain(n=3):
    return [audit_log(action=f"test.action.{i}", data={"i": i}) for i in range(n)]


def test_a_fresh_chain_verifies():
    _chain()
    assert audit_verify() == []
    call_command("verify_audit")


def test_secrets_are_masked():
    entry = audit_log(action="test.secret", data={"password": "x", "nested": {"client_secret": "y"}, "ok": 1})
    assert entry.data == {"password": "***", "nested": {"client_secret": "***"}, "ok": 1}


def test_an_edited_row_is_detected():
    entries = _chain()
    AuditEntry.objects.filter(pk=entries[1].pk).update(data={"i": 42})
    problems = audit_verify()
    assert any("contenu modifié" in p for p in problems)
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_a_deleted_row_is_detected():
    entries = _chain()
    AuditEntry.objects.filter(pk=entries[1].pk)._raw_delete(AuditEntry.objects.db)
    assert any("maillon précédent" in p for p in audit_verify())


def test_a_deleted_last_row_is_detected():
    entries = _chain()
    AuditEntry.objects.filter(pk=entries[-1].pk)._raw_delete(AuditEntry.objects.db)
    assert any("tête de chaîne" in p for p in audit_verify())


def test_reordered_rows_are_detected():
    entries = _chain()
    fields = ("created_at", "action", "data", "prev_hash", "hash")
    a, b = ({f: getattr(e, f) for f in fields} for e in entries[:2])
    # Swap the first two entries' contents (through a placeholder hash: hashes are unique).
    AuditEntry.objects.filter(pk=entries[0].pk).update(**{**b, "hash": "t" * 64})
    AuditEntry.objects.filter(pk=entries[1].pk).update(**a)
    AuditEntry.objects.filter(pk=entries[0].pk).update(hash=b["hash"])
    assert any("maillon précédent" in p for p in audit_verify())


def test_entries_refuse_update_and_delete():
    entry = _chain(1)[0]
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_deferred_entries_are_appended_in_order_when_the_block_ends():
    _chain(1)
    with audit_deferred():
        first = audit_log(action="test.deferred.1")
        with audit_deferred():  # nested: appended with the outer block
            audit_log(action="test.deferred.2")
        assert first.pk is None
        assert AuditEntry.objects.count() == 1
    audit_log(action="test.after")
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [
        "test.action.0",
        "test.deferred.1",
        "test.deferred.2",
        "test.after",
    ]
    assert first.pk is not None
    assert audit_verify() == []


def test_a_deferred_block_that_fails_writes_nothing():
    _chain(1)
    with pytest.raises(ValueError), audit_deferred():
        audit_log(action="test.lost")
        raise ValueError("refus")
    assert AuditEntry.objects.count() == 1
    audit_log(action="test.next")
    assert audit_verify() == []
