"""The shape of the house (docs/architecture.md): no import circle, one front door per package, the walls.

Read from the source with ast, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "privacy_service"
DOMAINS = ("ropa", "datamap", "consent", "retention", "dsar", "subjects", "registers", "people")
# what a route or a page may import besides its own package's service, schemas and page helpers
INFRASTRUCTURE = {
    "privacy_service.kernel",
    "privacy_service.db",
    "privacy_service.http",
    "privacy_service.errors",
    "privacy_service.audit",
    "privacy_service.security.access",
    "privacy_service.idempotency",
    "privacy_service.openapi",
}
PAGE_HELPERS = ("forms", "labels")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The modules of the package that `name` imports, anywhere in its text."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_anywhere() -> None:
    assert _cycles() == []


def _routes() -> list[str]:
    return [
        name
        for name in MODULES
        if name.split(".")[1:2] and name.split(".")[1] in DOMAINS
        and (name.rpartition(".")[2] in ("api", "views", "public_views") or _second_register(name))
    ]  # fmt: skip


def _second_register(name: str) -> bool:
    """processing_api and processing_views beside processing_schemas: a second register's routes and pages."""
    room = name.rpartition(".")[2]
    prefix = room.rsplit("_", 1)[0]
    schemas = f"{name.rpartition('.')[0]}.{prefix}_schemas"
    return room.endswith(("_api", "_views")) and schemas in MODULES


@pytest.mark.parametrize("module", _routes())
def test_routes_and_pages_call_only_their_own_front_door(module: str) -> None:
    package = module.rpartition(".")[0]
    room = module.rpartition(".")[2]
    # a second register in a package has its own rooms: processing_api -> processing_schemas
    prefix = room.rsplit("_", 1)[0] + "_" if room.endswith(("_api", "_views")) else ""
    # ... and its own front door, named for it (dpia_api -> dpias, processing_api -> processing)
    doors = (prefix[:-1], prefix[:-1] + "s") if prefix else ()
    own = {f"{package}.{r}" for r in ("service", "schemas", "api", f"{prefix}schemas", *doors, *PAGE_HELPERS)}
    stray = sorted(m for m in GRAPH[module] if m not in own | INFRASTRUCTURE | {module})
    assert stray == [], f"{module} reaches past {package}.service: {stray}"


@pytest.mark.parametrize("package", DOMAINS)
def test_services_never_import_flask(package: str) -> None:
    tree = ast.parse(MODULES[f"privacy_service.{package}.service"].read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {n for n in names if n.split(".")[0] in ("flask", "flask_babel", "flask_smorest")}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("ropa", ("datamap", "consent", "retention", "dsar", "registers")),  # ropa knows none of its readers
        ("datamap", ("consent", "retention", "dsar", "registers")),  # datamap serves and never decides
        ("consent", ("dsar",)),
        ("retention", ("dsar",)),
        # a person's identifiers are read by consent, dsar and Min side, and know none of them
        ("people", ("ropa", "datamap", "consent", "retention", "dsar", "subjects", "registers")),
    ],
)
def test_the_walls_between_packages_hold(package: str, forbidden: tuple[str, ...]) -> None:
    prefix = f"privacy_service.{package}"
    crossing = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if name == prefix or name.startswith(prefix + ".")
        for target in targets
        if target.split(".")[1:2] and target.split(".")[1] in forbidden
    )
    assert crossing == []


# The app factory registers the subject pages and all_models their table; nothing else may know them.
SUBJECTS_WIRING = {"privacy_service", "privacy_service.all_models"}


def test_nothing_imports_subjects() -> None:
    """subjects reads dsar and consent through their services, and nothing imports it (DESIGN.md §7); other
    pages find the logged-in subject on flask.g.subject."""
    crossing = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if name not in SUBJECTS_WIRING and not name.startswith("privacy_service.subjects")
        for target in targets
        if target.startswith("privacy_service.subjects")
    )
    assert crossing == []
