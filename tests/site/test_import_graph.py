"""Imports flow one way: the site root wires the apps, the page builds on generation and
exports, which build on projects, and the Django-free media package sits at the bottom.

The graph is read from the code itself: every `import`, at module level and inside
functions alike (an import moved into a function still ties two modules together)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.support import ROOT

# Lowest first: a module may import its own app and the apps before it, never one after.
LAYERS = [
    "media",
    "projects",
    "accounts",
    "work",
    "generation",
    "exports",
    "storyboard",
    "storyboard_site",
]


def modules() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules that `name` imports, anywhere in its code."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            wanted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # `from package import module` imports the module.
            wanted = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in wanted:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def app_of(module: str) -> str:
    return module.split(".")[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_it_finds_imports_inside_functions() -> None:
    # The check is only as good as its reading of the code: an import hidden in a
    # function body must count.
    # The registry imports each heavy backend only when it is asked for: `from .speech import
    # CoquiSpeechBackend` inside a function, a relative import too.
    assert "generation.backends.speech" in graph()["generation.backends.registry"]


def test_it_imports_only_from_lower_layers() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in targets
        if LAYERS.index(app_of(target)) > LAYERS.index(app_of(module))
    )
    assert upward == []


def test_it_has_no_cycle_between_apps() -> None:
    apps: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph().items():
        apps[app_of(module)].update(app_of(t) for t in targets if app_of(t) != app_of(module))
    assert cycles(apps) == []


def test_it_has_no_cycle_between_modules() -> None:
    assert cycles(graph()) == []


def test_it_keeps_the_media_package_free_of_django() -> None:
    media = [name for name in modules() if app_of(name) == "media"]
    for name in media:
        tree = ast.parse(modules()[name].read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for imported_name in names:
                top = imported_name.split(".")[0]
                assert top != "django", f"{name} imports {imported_name}"
                assert top not in LAYERS or top == "media", f"{name} imports {imported_name}"
