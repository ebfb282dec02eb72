"""The table of environment variables (docs/environment.md) generated from the settings code.

`python -m config.envdoc` lists the variables config/settings.py reads and says which the table misses or lists in
excess; `--write` appends a row for each missing one (its default from the code, its description from the comment
just above it in settings.py, to be reread). tests/ops/test_envdoc.py keeps the table and the code equal.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "config" / "settings.py"
TABLE = ROOT / "docs" / "environment.md"
READERS = {"env", "env_bool", "env_int", "env_list"}
_DOCUMENTED = re.compile(r"`([A-Z][A-Z0-9_]+)`")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    comment: str


def _comment_above(lines: list[str], lineno: int) -> str:
    comment: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        comment.insert(0, lines[index].strip().lstrip("#").strip())
        index -= 1
    return " ".join(comment)


def variables_in_code(source: str | None = None) -> dict[str, Variable]:
    """Every variable read through config.env's readers, with a literal first argument."""
    source = SETTINGS.read_text() if source is None else source
    lines = source.splitlines()
    found: dict[str, Variable] = {}
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in READERS):
            continue
        if not (node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            continue
        name = node.args[0].value
        default = ast.unparse(node.args[1]) if len(node.args) > 1 else "(obligatoire)"
        if name not in found or found[name].default == "(obligatoire)":
            found[name] = Variable(name, default, _comment_above(lines, node.lineno))
    return found


def variables_documented(text: str | None = None) -> set[str]:
    """Variables named in the first column of the table's rows."""
    text = TABLE.read_text() if text is None else text
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            names.update(_DOCUMENTED.findall(line.split("|")[1]))
    return names


def differences() -> tuple[list[str], list[str]]:
    code, documented = set(variables_in_code()), variables_documented()
    return sorted(code - documented), sorted(documented - code)


def main(argv: list[str]) -> int:
    missing, extra = differences()
    if "--write" in argv and missing:
        code = variables_in_code()
        rows = [f"| `{name}` | `{code[name].default}` | {code[name].comment or 'à décrire'} |" for name in missing]
        TABLE.write_text(TABLE.read_text().rstrip("\n") + "\n" + "\n".join(rows) + "\n")
        print(f"{len(missing)} ligne(s) ajoutée(s) à {TABLE.relative_to(ROOT)} : relisez leur description.")
        missing = []
    for name in missing:
        print(f"{name} : lu par config/settings.py, absent de docs/environment.md (python -m config.envdoc --write)")
    for name in extra:
        print(f"{name} : dans docs/environment.md mais plus lu par config/settings.py")
    return 1 if missing or extra else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
