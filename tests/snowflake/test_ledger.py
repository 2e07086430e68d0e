"""Issue 18: docs/snowflake.md's proof ledger stays complete and its counts true.

Every statement of sql/snowflake/*.sql maps to one ledger row by its leading words (the row's
count is the number of such statements); every `_execute(...)` argument and every `session...`
call in the engine's modules (engines/snowflake/, the registry's three excepted: their calls
have the registry section's table) has a row; no row is left for a call that is gone.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from f1_kedro.engines.snowflake.sql import split_statements

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "snowflake.md"
ENGINE = ROOT / "src" / "f1_kedro" / "engines" / "snowflake"
# The registry's modules: docs/snowflake.md's "Registry and scoring" table holds their calls.
REGISTRY_MODULES = {"registry.py", "packaging.py", "served_model.py"}
LEDGER_HEADING = "## Proof ledger"
PROOFS = (
    "executed on fakesnow",
    "executed on fakesnow, rewritten",
    "parsed by sqlglot",
    "grammar pattern",
    "Snowpark local testing",
    "source-read",
    "never run",
)
# A SQL file statement -> its ledger row, by leading words (the first match wins).
SQL_FORMS = [
    (r"CREATE FILE FORMAT IF NOT EXISTS .* ERROR_ON_COLUMN_COUNT_MISMATCH", "... ERROR_ON_COLUMN"),
    (r"CREATE FILE FORMAT IF NOT EXISTS ", "CREATE FILE FORMAT IF NOT EXISTS"),
    (r"CREATE STAGE IF NOT EXISTS \S+ URL", "CREATE STAGE IF NOT EXISTS ... URL"),
    (r"CREATE (DATABASE|SCHEMA|WAREHOUSE|STAGE|TABLE|ROLE) IF NOT EXISTS ", None),
    (r"GRANT ROLE ", "GRANT ROLE"),
    (r"GRANT .* ON (ALL|FUTURE) ", "GRANT ... ON ALL / FUTURE"),
    (r"GRANT .* ON (WAREHOUSE|DATABASE|SCHEMA|FILE FORMAT|STAGE) ", "GRANT ... ON <object>"),
    (r"COPY INTO ", "COPY INTO"),
]


def _ledger() -> list[list[str]]:
    """The rows (cells) of every table in the ledger section."""
    section = DOC.read_text().split(LEDGER_HEADING, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| statement") and "---" not in line:
            if not line.startswith("| call |"):
                rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def _key(cell: str) -> str:
    return re.match(r"`([^`]+)`", cell).group(1)


def _sql_form(statement: str) -> str:
    flat = " ".join(statement.split())
    for pattern, form in SQL_FORMS:
        if match := re.match(pattern, flat):
            if form is None:
                return f"CREATE {match.group(1)} IF NOT EXISTS"
            return form if not form.startswith("...") else _ragged_key()
    raise AssertionError(f"no ledger form for: {flat[:120]}")


def _ragged_key() -> str:
    return "CREATE FILE FORMAT IF NOT EXISTS ... ERROR_ON_COLUMN_COUNT_MISMATCH"


def test_every_sql_file_statement_has_its_row_and_count() -> None:
    statements = [s for f in sorted((ROOT / "sql/snowflake").glob("*.sql")) for s in
                  split_statements(f.read_text())]  # fmt: skip
    counted = Counter(_sql_form(s) for s in statements)
    rows = {_key(r[0]): r for r in _ledger() if len(r) == 5}
    assert {k: int(rows[k][1]) for k in counted if k in rows} == dict(counted)
    assert set(counted) <= set(rows), set(counted) - set(rows)
    assert sum(counted.values()) == 75


def _engine_calls() -> set[str]:
    """`_execute(...)` arguments as templates (`…` for each `{}`), and `session...` calls."""
    source = "\n".join(
        path.read_text()
        for path in sorted(ENGINE.glob("*.py"))
        if path.name not in REGISTRY_MODULES
    )
    tree = ast.parse(source)
    calls: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "_execute":
            arg = node.args[0]
            if isinstance(arg, ast.JoinedStr):
                parts = [v.value if isinstance(v, ast.Constant) else "…" for v in arg.values]
                calls.add(" ".join("".join(parts).split()))
            elif isinstance(arg, ast.Call):
                calls.add(arg.func.id)
            # a plain name is a setup file's statement: the SQL file rows cover it
    for match in re.finditer(
        r"[sS]ession(?:\(\))?\.((?:file\.|connection\.|builder\.)?\w+)", source
    ):
        if not match.group(1).startswith(("_", "get", "use", "configure", "set_query_tag")):
            calls.add(f"session.{match.group(1)}")
    return calls


def test_every_engine_statement_and_session_call_has_a_row() -> None:
    calls = _engine_calls()
    keys = {_key(r[0]) for r in _ledger()}
    assert calls - keys == set(), "not in the ledger"
    # and no row for a call that is gone (SQL file forms and library-side rows excepted)
    engine_forms = ("session.", "_", "copy_into", "create_table", "SELECT")
    engine_rows = {k for k in keys if k.startswith(engine_forms)}
    engine_rows |= {k for k in keys if "…" in k}
    assert engine_rows - calls == set(), "rows for calls that are gone"
    assert {"session.file.put_stream", "session.file.get_stream", "ALTER SCHEMA … SWAP WITH …"} <= (
        calls
    )


def test_every_row_names_one_proof_and_the_counts_are_true() -> None:
    rows = _ledger()
    proofs = []
    for row in rows:
        proof = row[2] if len(row) == 5 else row[1]
        assert proof in PROOFS, row
        proofs.append(proof)
    counted = Counter(proofs)
    text = " ".join(DOC.read_text().split(LEDGER_HEADING, 1)[1].split())
    expected = f"Ledger counts (these three tables, {len(rows)} rows): " + ", ".join(
        f"{p} {counted[p]}" for p in sorted(counted, key=PROOFS.index)
    )
    assert expected in text, expected
