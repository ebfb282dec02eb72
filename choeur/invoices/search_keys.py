"""Index-backed prefix search on identifiers (invoice, engagement, marché and flow numbers).

`SearchKey(column)` is UPPER(column) compared byte-wise (COLLATE "C" on PostgreSQL; SQLite compares bytes
already). A case-insensitive « starts with » then becomes a range `key >= P AND key < P'` (P upper-cased,
P' the same with its last character incremented), which both databases answer from a plain B-tree
expression index (Invoice.Meta.indexes) — where a LIKE '%…%' reads every row of the structure's list.
Kept apart from search.py because models.py declares the indexes with it.
"""

from __future__ import annotations

from django.db.models import CharField, Func


class SearchKey(Func):
    function = "UPPER"
    arity = 1
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # Byte order, whatever the database's collation (fr_FR…): the prefix range is exact, and the same
        # expression as the index's, so the planner uses it.
        sql, params = self.as_sql(compiler, connection, **extra_context)
        return f'({sql} COLLATE "C")', params


def upper_like_database(text: str, vendor: str) -> str:
    """`text` upper-cased as the database's UPPER() does it: SQLite folds ASCII letters only."""
    if vendor == "sqlite":
        return text.translate(_ASCII_UPPER)
    return text.upper()


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """[low, high) holding exactly the strings that start with `prefix` (code-point order); no high bound
    when the last character cannot be incremented."""
    last = prefix[-1]
    if ord(last) >= 0x10FFFF:
        return prefix, None
    return prefix, prefix[:-1] + chr(ord(last) + 1)


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
