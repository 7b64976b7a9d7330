"""The environment variables a package reads, found statically in its source.

Three forms are recognised; between them they cover how the settings modules
name their variables:

1. a string literal that is a whole variable name: ``"KAFKA_BOOTSTRAP_SERVERS"``,
   ``"CPRBROKER_LOG_LEVEL"``;
2. a literal, or a module constant, looked up in an environment mapping:
   ``environ.get("JAVA_HOME", "")``, ``os.environ["X"]``, ``os.getenv(NAME)``;
3. a prefix (a constant such as ``ENV_PREFIX = "CPRBROKER_"``) joined to more
   text: ``ENV_PREFIX + "API_PORT"``, ``f"{ENV_PREFIX}INBOX_{suffix}"``. The
   parts after the prefix are worked out from string constants, local and
   module constants (also imported ones), loop variables over tables of names
   (``for name, attribute in (("API_PORT", "port"), ...)``), parameters of
   helper functions (followed to their call sites), ``.upper()`` and
   ``f.name`` for ``f`` in ``dataclasses.fields(SomeClass)`` (the class's
   field names).

A prefix composition whose variable name cannot be worked out is reported as
unresolved, so a new way of composing names fails loudly instead of going
unnoticed.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard

WHOLE_NAME = re.compile(r"CPRBROKER_[A-Z0-9_]*[A-Z0-9]|KAFKA_BOOTSTRAP_SERVERS")
PREFIX = re.compile(r"CPRBROKER_(?:[A-Z0-9_]*_)?")
VARIABLE = re.compile(r"[A-Z][A-Z0-9_]*")
_NAME_CHARS = re.compile(r"[A-Z0-9_]*")
_NOT_NAME_CHAR = re.compile(r"[^A-Z0-9_]")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_REPR_CONVERSIONS = (ord("r"), ord("a"))
_MARKERS = ("environ", "getenv", "CPRBROKER_", "KAFKA_BOOTSTRAP_SERVERS")


@dataclass
class Scan:
    """Variable name -> where it is read (``path:line``), and the compositions
    whose name could not be worked out."""

    names: dict[str, set[str]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)

    def add(self, name: str, where: str) -> None:
        """Record ``name`` as read at ``where``."""
        self.names.setdefault(name, set()).add(where)


@dataclass(frozen=True)
class _Fields:
    """What a loop over ``dataclasses.fields(cls)`` binds: the field names."""

    names: frozenset[str]


class _Module:
    """One source file, parsed when first needed (most never are)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    @functools.cached_property
    def tree(self) -> ast.Module:
        return ast.parse(self.text, filename=str(self.path))

    @functools.cached_property
    def imports(self) -> dict[str, tuple[str, str]]:
        """Local name -> (module, name) of its ``from ... import``."""
        return {
            alias.asname or alias.name: (node.module, alias.name)
            for node in self.tree.body
            if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
        }

    @functools.cached_property
    def constants(self) -> dict[str, list[ast.expr]]:
        """Module-level name -> the values assigned to it."""
        found: dict[str, list[ast.expr]] = {}
        for node in self.tree.body:
            for target, value in _assignments(node):
                found.setdefault(target, []).append(value)
        return found

    @functools.cached_property
    def classes(self) -> dict[str, ast.ClassDef]:
        return {node.name: node for node in self.tree.body if isinstance(node, ast.ClassDef)}

    @functools.cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        return {child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)}

    @functools.cached_property
    def calls(self) -> dict[str, list[ast.Call]]:
        """Every call in the module by the name called (``f(...)``, ``x.f(...)``)."""
        found: dict[str, list[ast.Call]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and (name := _called_name(node)) is not None:
                found.setdefault(name, []).append(node)
        return found

    def where(self, node: ast.AST) -> str:
        return f"{self.path}:{getattr(node, 'lineno', 0)}"

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while node in self.parents:
            node = self.parents[node]
            yield node


def _assignments(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value
    elif (
        isinstance(node, ast.AnnAssign | ast.NamedExpr)
        and node.value is not None
        and isinstance(node.target, ast.Name)
    ):
        yield node.target.id, node.value


def _local_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``function``'s body, not those of functions nested in it."""
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (*_FUNCTIONS, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))


def _target_path(target: ast.expr, name: str) -> tuple[int, ...] | None:
    """Where ``name`` sits in a loop target: () for the whole, (i, ...) in tuples."""
    if isinstance(target, ast.Name):
        return () if target.id == name else None
    if isinstance(target, ast.Tuple | ast.List):
        for index, element in enumerate(target.elts):
            if (inner := _target_path(element, name)) is not None:
                return (index, *inner)
    return None


class _Resolver:
    """The strings an expression can take, as far as the source says."""

    def __init__(self, modules: dict[str, _Module]) -> None:
        self.modules = modules
        self._following: set[tuple[int, int]] = set()

    def values(self, module: _Module, node: ast.AST) -> set[str] | None:
        if isinstance(node, ast.Constant):
            return {node.value} if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr) or _is_sum(node):
            parts = [self.values(module, piece) for piece in self.pieces(node)]
            if any(part is None for part in parts):
                return None
            joined = {""}
            for part in parts:
                joined = {left + right for left in joined for right in part or ()}
            return joined
        if isinstance(node, ast.FormattedValue):
            if node.conversion in _REPR_CONVERSIONS:
                return {"'"}  # repr() of a string starts with a quote
            return None if node.format_spec else self.values(module, node.value)
        if isinstance(node, ast.Name):
            bound = self.binding(module, node)
            return bound if not isinstance(bound, _Fields) else None
        if isinstance(node, ast.Attribute) and node.attr == "name":
            bound = self.binding(module, node.value) if isinstance(node.value, ast.Name) else None
            return set(bound.names) if isinstance(bound, _Fields) else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("upper", "lower", "strip")
            and not node.args
        ):
            inner = self.values(module, node.func.value)
            return None if inner is None else {getattr(text, node.func.attr)() for text in inner}
        return None

    @staticmethod
    def pieces(node: ast.AST) -> list[ast.AST]:
        """The parts joined by ``+`` or an f-string, left to right."""
        if _is_sum(node):
            return [*_Resolver.pieces(node.left), *_Resolver.pieces(node.right)]
        if isinstance(node, ast.JoinedStr):
            return list(node.values)
        return [node]

    def binding(self, module: _Module, name: ast.Name) -> set[str] | _Fields | None:
        """What ``name`` is bound to where it is used: the innermost loop,
        parameter or assignment binding it, else a module constant."""
        for scope in module.ancestors(name):
            if isinstance(scope, ast.For | ast.AsyncFor):
                if (path := _target_path(scope.target, name.id)) is not None:
                    return self.loop_values(module, scope.iter, path)
            elif isinstance(scope, _COMPREHENSIONS):
                for generator in scope.generators:
                    if (path := _target_path(generator.target, name.id)) is not None:
                        return self.loop_values(module, generator.iter, path)
            elif isinstance(scope, _FUNCTIONS):
                parameters = [a.arg for a in (*scope.args.posonlyargs, *scope.args.args)]
                if name.id in parameters:
                    return self.argument_values(module, scope, parameters.index(name.id))
                assigned = [
                    value
                    for node in _local_nodes(scope)
                    for target, value in _assignments(node)
                    if target == name.id
                ]
                if assigned:
                    return self.union(module, assigned)
        return self.module_constant(module, name.id)

    def module_constant(self, module: _Module, name: str) -> set[str] | None:
        if name in module.constants:
            return self.union(module, module.constants[name])
        if name in module.imports:
            source, original = module.imports[name]
            if source in self.modules:
                return self.module_constant(self.modules[source], original)
        return None

    def union(self, module: _Module, nodes: Iterable[ast.AST]) -> set[str] | None:
        result: set[str] = set()
        for node in nodes:
            if (values := self.values(module, node)) is None:
                return None
            result |= values
        return result

    def loop_values(
        self, module: _Module, iterable: ast.expr, path: tuple[int, ...]
    ) -> set[str] | _Fields | None:
        if isinstance(iterable, ast.Call) and _called_name(iterable) == "fields":
            one_class = len(iterable.args) == 1 and not path
            return self.fields_of(module, iterable.args[0]) if one_class else None
        found = self.table(module, iterable)
        if found is None:
            return None
        module, rows = found
        cells = []
        for row in rows:
            cell = row
            for index in path:
                if not isinstance(cell, ast.Tuple | ast.List) or index >= len(cell.elts):
                    return None
                cell = cell.elts[index]
            cells.append(cell)
        return self.union(module, cells)

    def table(self, module: _Module, node: ast.expr) -> tuple[_Module, list[ast.expr]] | None:
        """The rows of a literal tuple or list, also one named by a constant
        (maybe imported), with the module they are written in."""
        if isinstance(node, ast.Tuple | ast.List):
            return module, list(node.elts)
        if not isinstance(node, ast.Name):
            return None
        if len(module.constants.get(node.id, [])) == 1:
            return self.table(module, module.constants[node.id][0])
        source, original = module.imports.get(node.id, ("", ""))
        if source in self.modules:
            return self.table(self.modules[source], ast.Name(id=original))
        return None

    def fields_of(self, module: _Module, node: ast.expr) -> _Fields | None:
        if not isinstance(node, ast.Name):
            return None
        while node.id not in module.classes:
            if node.id not in module.imports or module.imports[node.id][0] not in self.modules:
                return None
            source, original = module.imports[node.id]
            module, node = self.modules[source], ast.Name(id=original)
        body = module.classes[node.id].body
        return _Fields(
            frozenset(
                statement.target.id
                for statement in body
                if isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and "ClassVar" not in ast.unparse(statement.annotation)
            )
        )

    def argument_values(
        self, module: _Module, function: ast.FunctionDef | ast.AsyncFunctionDef, index: int
    ) -> set[str] | None:
        """The values parameter ``index`` of ``function`` gets at its call sites
        (within the function enclosing it, or the module)."""
        key = (id(function), index)
        if key in self._following:
            return set()  # a recursive call adds nothing new
        self._following.add(key)
        try:
            method = isinstance(module.parents.get(function), ast.ClassDef)
            enclosing = next(
                (s for s in module.ancestors(function) if isinstance(s, _FUNCTIONS)), None
            )
            parameter = [*function.args.posonlyargs, *function.args.args][index].arg
            arguments: list[ast.expr] = []
            for call in module.calls.get(function.name, []):
                if enclosing is not None and enclosing not in module.ancestors(call):
                    continue  # a call of another function of that name
                position = index - 1 if method and isinstance(call.func, ast.Attribute) else index
                keywords = [k.value for k in call.keywords if k.arg == parameter]
                if 0 <= position < len(call.args):
                    arguments.append(call.args[position])
                elif keywords:
                    arguments.extend(keywords)
            return self.union(module, arguments) if arguments else None
        finally:
            self._following.discard(key)


def _is_sum(node: ast.AST) -> TypeGuard[ast.BinOp]:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _is_environ(node: ast.expr) -> bool:
    text = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return text.endswith("environ")


def _looked_up_key(node: ast.AST) -> ast.expr | None:
    """The key of ``environ.get(KEY)``, ``environ[KEY]`` or ``os.getenv(KEY)``."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
        if node.func.attr == "get" and _is_environ(node.func.value):
            return node.args[0]
        if node.func.attr == "getenv":
            return node.args[0]
    return None


def _scan_module(module: _Module, resolver: _Resolver, scan: Scan) -> None:
    nodes = list(ast.walk(module.tree))
    # Only the whole of a + chain: "a + b + c" is BinOp(BinOp(a, b), c).
    inner_sums = {id(node.left) for node in nodes if _is_sum(node)}
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if WHOLE_NAME.fullmatch(node.value):
                scan.add(node.value, module.where(node))
        elif (key := _looked_up_key(node)) is not None:
            if isinstance(key, ast.Name):
                keys = resolver.module_constant(module, key.id)
            else:
                keys = resolver.values(module, key) if isinstance(key, ast.Constant) else None
            for name in keys or ():
                if VARIABLE.fullmatch(name):
                    scan.add(name, module.where(node))
        elif isinstance(node, ast.JoinedStr) or (_is_sum(node) and id(node) not in inner_sums):
            _scan_composition(module, resolver, node, scan)


def _scan_composition(module: _Module, resolver: _Resolver, node: ast.AST, scan: Scan) -> None:
    pieces = resolver.pieces(node)
    if isinstance(pieces[0], ast.FormattedValue):
        pieces[0] = pieces[0].value
    # A prefix is a literal or a module constant, never worked out from calls.
    if isinstance(pieces[0], ast.Name):
        first = resolver.module_constant(module, pieces[0].id)
    else:
        first = resolver.values(module, pieces[0]) if isinstance(pieces[0], ast.Constant) else None
    if not first or not all(PREFIX.fullmatch(text) for text in first):
        return
    texts = set(first)
    for piece in pieces[1:]:
        growing = {text for text in texts if _NAME_CHARS.fullmatch(text)}
        if not growing:
            break
        values = resolver.values(module, piece)
        if values is None:
            scan.unresolved.append(f"{module.where(node)}: {ast.unparse(node)}")
            return
        texts = (texts - growing) | {text + value for text in growing for value in values}
    for text in texts:
        name = _NOT_NAME_CHAR.split(text, maxsplit=1)[0]
        if not PREFIX.fullmatch(name):
            scan.add(name, module.where(node))


def scan_sources(sources: dict[str, tuple[Path, str]]) -> Scan:
    """Scan modules given as dotted name -> (path, source text).

    Only modules that can name a variable are parsed and scanned: those that
    mention an environment or a variable-like literal, and those that mention
    a prefix constant one of them defines (``ENV_PREFIX``).
    """
    modules = {name: _Module(path, text) for name, (path, text) in sources.items()}
    resolver = _Resolver(modules)
    direct = [m for m in modules.values() if any(marker in m.text for marker in _MARKERS)]
    prefixes = {
        name
        for module in direct
        for name in module.constants
        if (values := resolver.module_constant(module, name))
        and all(PREFIX.fullmatch(value) for value in values)
    }
    mentions = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(prefixes))) + r")\b")
    scan = Scan()
    for module in modules.values():
        if module in direct or (prefixes and mentions.search(module.text)):
            _scan_module(module, resolver, scan)
    return scan


def scan_package(root: Path) -> Scan:
    """Scan every module of the package at ``root`` (its parent is the import root)."""
    sources = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        sources[name] = (path.relative_to(root.parent.parent), path.read_text(encoding="utf-8"))
    return scan_sources(sources)
