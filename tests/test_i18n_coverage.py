"""Every message a user reads goes through gettext: no error eo-drr raises on purpose and no
warning it logs carries a bare English literal.

Scans the source (``src/eo_drr`` and ``pipelines``) for ``raise <error>(<message>)``, where
``<error>`` is :class:`eo_drr.errors.EODRRError` or one of its subclasses (those of
``eo_drr.errors`` and those the modules define), and for ``log.warning(<message>)`` /
``log.error(<message>)``. A message that is a string literal, an f-string, or a concatenation
or ``%``/``.format`` of them, is untranslatable and fails the test; ``_("...")``,
``_("...").format(...)``, ``gettext(...)``/``ngettext(...)`` and messages built elsewhere (a
name, a call) pass. tests/test_i18n.py then proves that each ``_()`` text has its Spanish and
Portuguese translation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import eo_drr.errors as errors

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    *sorted((ROOT / "src" / "eo_drr").rglob("*.py")),
    *sorted((ROOT / "pipelines").rglob("*.py")),
]
#: the gettext functions (and their aliases in the code)
GETTEXT = {"_", "gettext", "ngettext", "pgettext", "N_"}
#: logger methods whose message a user reads on the terminal
LOG_METHODS = {"warning", "error", "critical"}
#: logger objects by name
LOGGERS = {"log", "logger", "_log", "LOG"}


def _error_names(trees: dict[Path, ast.Module]) -> set[str]:
    names = {
        name
        for name in dir(errors)
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), errors.EODRRError)
    }
    grew = True
    while grew:  # subclasses defined in the modules, to a fixed point
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {
                        b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                        for b in node.bases
                    }
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_literal_text(node: ast.expr) -> bool:
    """A message no catalogue can hold: a literal, an f-string, or text glued from them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):  # "a" + b, "a %s" % b
        return _is_literal_text(node.left) or (
            isinstance(node.op, ast.Add) and _is_literal_text(node.right)
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        # "...".format(...) and "...".join(...) on a literal; _("...").format(...) is fine
        return node.func.attr in {"format", "join"} and _is_literal_text(node.func.value)
    return False


def _passes_through(call: ast.Call) -> bool:
    """``log.warning("%s", text)``: the text is made (and translated) elsewhere."""
    first = call.args[0]
    return isinstance(first, ast.Constant) and first.value == "%s" and len(call.args) == 2


def _untranslated() -> list[str]:
    trees = {path: ast.parse(path.read_text(), filename=str(path)) for path in SOURCES}
    names = _error_names(trees)
    found = []
    for path, tree in trees.items():
        rel = path.relative_to(ROOT)
        for node in ast.walk(tree):
            call = None
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                if _callee(node.exc.func) in names:
                    call = node.exc
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_METHODS
                and _callee(node.func.value) in LOGGERS
            ):
                call = node
            if call is not None and call.args and _is_literal_text(call.args[0]):
                if _passes_through(call):
                    continue
                found.append(f"{rel}:{call.lineno}")
    return found


def test_the_scan_finds_an_untranslated_message():
    """The checker itself: a bare literal, an f-string and a glued message are caught, a
    translated one is not."""
    bad = [
        'raise InputError("x")',
        'raise InputError(f"x {y}")',
        'raise InputError("a" + b)',
        'log.warning("x %s", y)',
        'raise InputError("x {}".format(y))',
    ]
    good = [
        'raise InputError(_("x"))',
        'raise InputError(_("x {y}").format(y=y))',
        "raise InputError(message)",
        'log.warning(_("x {y}").format(y=y))',
    ]
    for src, expected in [(s, True) for s in bad] + [(s, False) for s in good]:
        stmt = ast.parse(src).body[0]
        call = stmt.exc if isinstance(stmt, ast.Raise) else stmt.value
        assert _is_literal_text(call.args[0]) is expected, src


def test_every_user_message_goes_through_gettext():
    found = _untranslated()
    assert not found, (
        f"{len(found)} user-visible messages are not translatable (wrap them in _() with a "
        "format string, then follow src/eo_drr/locale/README.md): " + ", ".join(found)
    )


def _binds_underscore(tree: ast.Module) -> list[int]:
    """Lines where a module that imports the gettext function ``_`` rebinds ``_`` (``a, _ =
    ...``, ``for _ in ...``): the next ``_("...")`` of that scope would call the value."""
    imports_it = any(
        isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("eo_drr")
        and any((a.asname or a.name) == "_" for a in node.names)
        for node in ast.walk(tree)
    )
    if not imports_it:
        return []
    in_comprehension = {  # a comprehension's variables live in its own scope: harmless
        id(name)
        for comp in ast.walk(tree)
        if isinstance(comp, ast.comprehension)
        for name in ast.walk(comp.target)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Name)
        and node.id == "_"
        and isinstance(node.ctx, ast.Store)
        and id(node) not in in_comprehension
    ]


def test_no_module_hides_the_gettext_function():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in SOURCES
        for line in _binds_underscore(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert not found, "these assign to _ and hide gettext's _(): " + ", ".join(found)
