"""The house's shape in figures: function sizes, routes over 25 lines, SQL run by interface
modules (views, console, api, the web shell) and the files that commit.

    .venv/bin/python bench/code_shape.py [carebank]
"""
from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

INTERFACES = {"views.py", "console.py", "api.py"}
SQL = ("sa.select(", "db.session.get(", "db.session.execute(", "db.session.scalar", ".query(", "sa.func.")
ROUTE_DECORATORS = ("route", "bp.get", "bp.post", "api.get", "api.post", "api.patch", "api.put", "api.delete")


def body_lines(function: ast.FunctionDef) -> int:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring does not count
    return function.end_lineno - body[0].lineno + 1 if body else 1


def main(root: Path) -> None:
    sizes, long_routes, sql, committers = [], [], [], []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                sizes.append(body_lines(node))
                decorators = [ast.unparse(d) for d in node.decorator_list]
                if body_lines(node) > 25 and any(d.startswith(ROUTE_DECORATORS) or ".route" in d for d in decorators):
                    long_routes.append(f"{path}:{node.lineno} {node.name}")
        if path.name in INTERFACES or "web" in path.parts:
            sql += [f"{path}:{n}" for n, line in enumerate(source.splitlines(), 1) if any(t in line for t in SQL)]
        if ".commit()" in source:
            committers.append(str(path))
    sizes.sort()
    print(f"top-level modules: {sorted(p.name for p in root.glob('*.py'))}")
    print(f"feature packages with services.py: {len(list(root.glob('*/services.py')))}")
    print(f"functions: {len(sizes)}, median {statistics.median(sizes)} lines, p90 {sizes[int(len(sizes) * 0.9)]}")
    print(f"routes over 25 lines: {long_routes or 0}")
    print(f"SQL lines in interface modules: {sql or 0}")
    print(f"files that commit: {committers}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "carebank"))
