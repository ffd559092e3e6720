"""Babel extraction for eo-drr (maintainers only; Babel is a test dependency): Babel's
Python extraction, plus the command line's help texts that no function call marks: the
``help=`` strings of options and arguments, and the docstrings of the functions decorated as
commands (``@app.command()``, ``@app.callback()``), which typer shows as their help.

Used through ``src/eo_drr/locale/babel.cfg``; ``src/eo_drr/locale/README.md`` has the
commands.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python

#: decorators (method names) whose function's docstring is a command's help
COMMAND_DECORATORS = ("command", "callback")


def _is_command(decorator: ast.expr) -> bool:
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(func, ast.Attribute) and func.attr in COMMAND_DECORATORS


def help_texts(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(line, text)`` of each literal ``help=`` and each command docstring in ``tree``."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "help"
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            yield node.value.lineno, node.value.value
        elif isinstance(node, ast.FunctionDef) and any(map(_is_command, node.decorator_list)):
            doc = ast.get_docstring(node)
            if doc:
                yield node.lineno, doc


def extract(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Any,
) -> Iterator[tuple[int, Any, Any, Any]]:
    """A Babel extraction method: :func:`babel.messages.extract.extract_python`'s messages,
    then the help texts of :func:`help_texts`."""
    yield from extract_python(fileobj, keywords, comment_tags, options)
    fileobj.seek(0)
    for line, text in help_texts(ast.parse(fileobj.read())):
        yield line, "", text, []
