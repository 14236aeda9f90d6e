"""Rules of DESIGN.md section 3 that import-linter cannot express."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "pers"
# db.py owns sessions; web.py is the per-request unit of work at the HTTP edge; the migration
# runner commits its own DDL.
COMMITTERS = {SRC / "db.py", SRC / "web.py", SRC / "migrations" / "env.py"}


def _calls(path: Path, attribute: str) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attribute
    ]


def test_only_the_unit_of_work_commits() -> None:
    offenders = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if path not in COMMITTERS and (lines := _calls(path, "commit"))
    }
    assert offenders == {}, f"commit() outside the unit of work: {offenders}"


def _raises_http_exception(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name == "HTTPException":
                return True
    return False


def test_nothing_raises_http_exceptions() -> None:
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if _raises_http_exception(p)]
    assert offenders == [], f"raise PersError subclasses instead: {offenders}"
