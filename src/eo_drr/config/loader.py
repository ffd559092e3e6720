"""Reading a job file: safe YAML (no user string is evaluated; an impossible date or an alias
bomb is an error at its place) validated into a :class:`~eo_drr.config.job.JobConfig`, every
error naming the file and the dotted key (or the line and column)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from eo_drr.config.job import JobConfig
from eo_drr.errors import ConfigError
from eo_drr.i18n import gettext as _


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or _("(top level)")


def _format_validation_error(path: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if x not in ("function-after",))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = _("unknown key (check the spelling; see configs/demo.yaml for the known keys)")

        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
            named = re.match(r"^([a-z][a-z0-9_]*): (.*)$", msg, re.S)  # a validator naming its key
            if named:
                loc, msg = (*loc, named.group(1)), named.group(2)
        lines.append(f"{path}: {_format_loc(loc)}: {msg}")
    return "\n".join(lines)


def parse_config(data: Any, *, source: str = "<config>", base_dir: Path | None = None) -> JobConfig:
    """Validate an already-parsed mapping into a :class:`JobConfig`."""
    if not isinstance(data, dict):
        if data is None:
            msg = _("{source}: a job file must be a mapping of keys, but it is empty")
        else:
            msg = _("{source}: a job file must be a mapping of keys, but it is a {kind}")
        raise ConfigError(msg.format(source=source, kind=type(data).__name__))
    try:
        cfg = JobConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None
    if base_dir is not None:
        cfg = cfg.model_copy(update={"base_dir": base_dir})
    return cfg


#: most values (scalars, lists, mappings) a job file may expand to once its aliases are
#: followed: a real job holds a few hundred; a "billion laughs" alias bomb holds 9**9
MAX_YAML_VALUES = 100_000


class _TooManyValues(yaml.YAMLError):
    """The document's anchors and aliases expand beyond :data:`MAX_YAML_VALUES` values."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _check_expansion(root: yaml.Node) -> None:
    """Count the values ``root`` expands to, an alias counting its anchor's whole subtree
    (iteratively, each node once); raise :class:`_TooManyValues` past the bound or on an
    alias inside its own anchor."""
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            open_nodes.discard(key)
            size[key] = min(1 + sum(size[id(c)] for c in _children(node)), MAX_YAML_VALUES + 1)
            if size[key] > MAX_YAML_VALUES:
                raise _TooManyValues(
                    _(
                        "its anchors (&) and aliases (*) expand to more than {n:,} values "
                        "(an alias bomb?): write the values out"
                    ).format(n=MAX_YAML_VALUES)
                )
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise _TooManyValues(_("an alias (*) refers to the anchor (&) it is inside of"))
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


class _JobLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with an impossible date (``2024-11-31``) as a YAML error at its
    line and column instead of a ValueError from deep inside, and a bound on what anchors and
    aliases expand to (:data:`MAX_YAML_VALUES`), checked before any value is built."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_expansion(node)
        return super().construct_document(node)


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            _("{value!r} is not a date ({why})").format(value=node.value, why=exc),
            node.start_mark,
        ) from None


_JobLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load_config(path: str | Path) -> JobConfig:
    """Read and validate a YAML job file. Raises :class:`ConfigError` naming file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(_("{path}: no such job file").format(path=path)) from None
    except IsADirectoryError:
        raise ConfigError(_("{path}: is a folder, not a job file").format(path=path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            _("{path}: cannot read the job file ({exc})").format(path=path, exc=exc)
        ) from None
    try:
        data = yaml.load(text, Loader=_JobLoader)  # a SafeLoader: no user string is evaluated
    except _TooManyValues as exc:
        raise ConfigError(_("{path}: {error}").format(path=path, error=exc)) from None

    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            _("{path}{where}: malformed YAML: {problem}").format(
                path=path, where=where, problem=problem
            )
        ) from None
    return parse_config(data, source=str(path), base_dir=path.resolve().parent)
