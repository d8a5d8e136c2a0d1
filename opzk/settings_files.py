"""
Layered service settings: command-line overrides > environment > config file > defaults.

Introduction
------------
The node and the challenger read their settings the same way: a TOML (``.toml``) or JSON file whose
relative paths are taken from the file's directory, environment variables with a service prefix,
and a few command-line flags. :func:`read_config_file` reads the file, :func:`load_layered` builds
the settings object with the sources in that order, and :func:`describe_errors` turns a pydantic
error list into one line that never repeats the input values (they may be secrets).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import ValidationError
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource

from protocol.errors import OpzkError

S = TypeVar("S", bound=BaseSettings)


def read_config_file(
    path: Path, path_fields: Collection[str], error: type[OpzkError]
) -> dict[str, Any]:
    """
    The settings in a TOML (``.toml``) or JSON (any other suffix) file, with the relative paths of
    ``path_fields`` (a string or a list of strings each) resolved against the file's directory.

    Raises ``error`` if the file cannot be read, is not valid, or does not hold a table/object.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise error(f"cannot read the config file {path}: {exc.strerror}") from exc
    kind = "TOML" if path.suffix == ".toml" else "JSON"
    try:
        data: Any = tomllib.loads(text) if kind == "TOML" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path} is not valid {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{path} must hold a table/object of settings")
    base = path.resolve().parent
    for key in path_fields:
        value = data.get(key)
        if isinstance(value, str):
            data[key] = str(base / value)
        elif isinstance(value, list):
            data[key] = [str(base / v) if isinstance(v, str) else v for v in value]
    return data


def load_layered(
    settings_cls: type[S], file_data: Mapping[str, Any], overrides: Mapping[str, Any]
) -> S:
    """
    ``settings_cls`` built from ``overrides`` (``None`` values ignored) > environment >
    ``file_data`` > defaults. Raises pydantic's ``ValidationError`` naming every invalid field.
    """
    file_values = dict(file_data)

    class _Layered(settings_cls):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, file_values))

    layered = _Layered(**{k: v for k, v in overrides.items() if v is not None})
    # Validated above by the layered subclass; rebuilt as settings_cls itself, unvalidated again.
    return cast(S, settings_cls.model_construct(**dict(layered)))


def describe_errors(exc: ValidationError) -> str:
    """A pydantic error list as one line, ``field: message; …``, without the input values."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
    )
