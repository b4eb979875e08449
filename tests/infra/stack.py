"""Readers for the Terraform stack (python-hcl2) and for the code it must match (ast, no imports).

The code side is read with ``ast`` so these checks run without google libraries and without
executing anything from ``functions/``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
FUNCTIONS = ROOT / "functions"
MAIN_PY = FUNCTIONS / "main.py"
SETTINGS_PY = FUNCTIONS / "hilft" / "settings.py"
FIRESTORE_STORE_PY = FUNCTIONS / "hilft" / "adapters" / "firestore_store.py"
PORTS_PY = FUNCTIONS / "hilft" / "service" / "ports.py"  # collection names and TTL_COLLECTIONS
FUNCTION_SPEC = INFRA / "functions.json"  # the entry-point table Terraform and the local stack read

_BOOKKEEPING_KEYS = {"__is_block__", "__comments__", "__inline_comments__", "__start_line__", "__end_line__"}


def unquote(value: Any) -> Any:
    """python-hcl2 8.x keeps string literals quoted ('"x"') and expressions as '${...}'; drop the quotes.

    Older python-hcl2 versions return bare strings, which pass through unchanged.
    """
    if isinstance(value, str):
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            return json.loads(value) if "\\" in value else value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(item) for item in value]
    if isinstance(value, dict):
        return {unquote(key): unquote(item) for key, item in value.items() if key not in _BOOKKEEPING_KEYS}
    return value


def expression(value: Any) -> str | None:
    """The HCL expression inside '${...}', or None for a literal."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return None


def only_block(value: Any) -> dict[str, Any]:
    """A nested block (python-hcl2 returns a list of one dict per block occurrence)."""
    assert isinstance(value, list) and len(value) == 1, f"expected exactly one block, got {value!r}"
    return value[0]


@dataclass
class Stack:
    """Every block of infra/*.tf, merged across files, names unquoted."""

    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    variable_order: list[tuple[str, str]] = field(default_factory=list)  # (file, name) in file order
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # file name -> text

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: body for (rtype, name), body in self.resources.items() if rtype == resource_type}


@cache
def function_spec() -> dict[str, Any]:
    """infra/functions.json: {"secrets": {NAME: meaning}, "functions": {entry_point: {...}}}."""
    return json.loads(FUNCTION_SPEC.read_text())  # type: ignore[no-any-return]


@cache
def load_stack() -> Stack:
    stack = Stack()
    for path in sorted(INFRA.glob("*.tf")):
        text = path.read_text()
        stack.sources[path.name] = text
        parsed = unquote(hcl2.loads(text))
        for block in parsed.get("variable", []):
            for name, body in block.items():
                stack.variables[name] = body
                stack.variable_order.append((path.name, name))
        for block in parsed.get("locals", []):
            for name, value in block.items():
                assert name not in stack.locals, f"local.{name} defined twice"
                stack.locals[name] = value
        for kind, target in (("resource", stack.resources), ("data", stack.data)):
            for block in parsed.get(kind, []):
                for rtype, by_name in block.items():
                    for name, body in by_name.items():
                        target[(rtype, name)] = body
        for block in parsed.get("output", []):
            stack.outputs.update(block)
    return stack


# -- the code side -------------------------------------------------------------------------------

def _evaluate(node: ast.AST, names: dict[str, Any]) -> Any:
    """ast.literal_eval that also resolves module-level constants (MENTIONS = "mentions")."""
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ValueError(f"unresolved name {node.id}")
        return names[node.id]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_evaluate(item, names) for item in node.elts]
    if isinstance(node, ast.Dict):
        return {_evaluate(k, names): _evaluate(v, names) for k, v in zip(node.keys, node.values, strict=True)
                if k is not None}
    return ast.literal_eval(node)


def module_constants(path: Path, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Top-level ``NAME = <literal>`` assignments of a module, without importing it (``known``:
    names it imports, e.g. the collection names from the ports)."""
    names: dict[str, Any] = dict(known or {})
    for node in ast.parse(path.read_text()).body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                try:
                    names[target.id] = _evaluate(value, names)
                except (ValueError, TypeError, SyntaxError):
                    continue
    return names


def http_entry_points(path: Path = MAIN_PY) -> set[str]:
    """Top-level functions decorated with ``@functions_framework.http``."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if ast.unparse(decorator) in {"functions_framework.http", "http"}:
                    found.add(node.name)
    return found


ENV_NAME = re.compile(r"^(HILFT_|X_|META_|THREADS_|BLUESKY_|MASTODON_|SLACK_|GOOGLE_|PAGERDUTY_|ALERT_)[A-Z0-9_]+$")


def settings_env_names(path: Path = SETTINGS_PY) -> set[str]:
    """Every environment-variable-looking string literal in the settings module."""
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.match(node.value)
    }


def settings_defaults(path: Path = SETTINGS_PY) -> dict[str, Any]:
    """Environment variable -> its default, from the ``name: T = env("NAME", default)`` fields of
    ``Settings`` (defaults that are not literals or module constants are left out)."""
    constants = module_constants(path)
    found: dict[str, Any] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call)):
            continue
        call = node.value
        if not (isinstance(call.func, ast.Name) and call.func.id == "env" and call.args):
            continue
        name = _evaluate(call.args[0], constants)
        default = call.args[1] if len(call.args) > 1 else next(
            (k.value for k in call.keywords if k.arg == "default"), ast.Constant(None))
        if any(k.arg == "default_factory" for k in call.keywords):
            found[name] = []  # default_factory=frozenset: an empty set
            continue
        try:
            found[name] = _evaluate(default, constants)
        except (ValueError, TypeError, SyntaxError):
            continue
    return found


def queried_fields(package: Path = FUNCTIONS / "hilft") -> set[str]:
    """Field paths the code filters or orders on (FieldFilter("f", ...), .where("f", ...), .order_by("f"))."""
    fields = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            first = node.args[0]
            if name in {"FieldFilter", "where", "order_by"} and isinstance(first, ast.Constant):
                if isinstance(first.value, str):
                    fields.add(first.value)
    return fields
