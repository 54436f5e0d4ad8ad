"""The package's import graph: no circle anywhere, and the template apart from the research."""

import ast

from conftest import REPO

PACKAGES = ("lightning_wgan", "callbacks")


def imports() -> dict[str, set[str]]:
    """Module → the project's modules it imports, at the top or inside a function."""
    files = [p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")]
    names = {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p for p in files}
    graph = {}
    for name, path in names.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found |= {t for t in targets if t in names and t != name}
        graph[name] = found
    return graph


def test_no_import_circle():
    graph, done, path = imports(), set(), []

    def visit(module):
        assert module not in path, " → ".join([*path[path.index(module):], module])
        if module in done:
            return
        path.append(module)
        for target in graph[module]:
            visit(target)
        path.pop()
        done.add(module)

    for module in graph:
        visit(module)
    assert "lightning_wgan.contracts" in graph["lightning_wgan.module"]  # the graph sees imports


def test_nothing_in_the_template_imports_the_experiments():
    graph = imports()
    template = {m for m in graph if not m.startswith("lightning_wgan.experiments")}
    assert template and not {m: t for m in template for t in graph[m] if t.startswith("lightning_wgan.experiments")}
