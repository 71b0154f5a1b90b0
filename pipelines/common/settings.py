"""Configuration files (TOML) read into typed models: a file shipped with the project, overridden
key by key by the same file under ``$PNAD_HOME``, validated by pydantic, and any mistake told in
French with the file and the key (``reports.toml : regional_reports.pdf : doit valoir true ou
false (reçu : "oui")``)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

# pydantic's error types, said in French (a custom check raises ValueError with its own French).
MESSAGES_FR = {
    "missing": "clé manquante",
    "extra_forbidden": "clé inconnue",
    "bool_type": "doit valoir true ou false",
    "bool_parsing": "doit valoir true ou false",
    "string_type": "doit être un texte entre guillemets",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "float_type": "doit être un nombre",
    "float_parsing": "doit être un nombre",
    "list_type": 'doit être une liste, par exemple ["84", "27"]',
    "dict_type": "doit être une table [...]",
    "literal_error": "valeur non permise",
    "greater_than": "trop petit",
    "greater_than_equal": "trop petit",
    "less_than_equal": "trop grand",
}


class SettingsError(ValueError):
    """A configuration file that cannot be used, said in French with the file and the key."""


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; a syntax error said in French with the file and the line."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        # tomllib says where, in English: keep the place (line, column), in French
        place = re.search(r"line (\d+), column (\d+)", str(error))
        where = f" ligne {place[1]}, colonne {place[2]}" if place else ""
        raise SettingsError(f"{path} : syntaxe TOML incorrecte{where}") from error
    except UnicodeDecodeError as error:
        raise SettingsError(f"{path} : le fichier n'est pas en UTF-8") from error


def validate(model: type[Model], data: dict, where: str, section: str) -> Model:
    """``data`` (the ``section`` of a file) as ``model``, or a SettingsError naming every key
    that is wrong and why."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            key = ".".join(part for part in [section, *map(str, item["loc"])] if part)
            if item["type"] == "value_error":
                reason = str(item.get("ctx", {}).get("error", item["msg"]))
            else:
                reason = MESSAGES_FR.get(item["type"], item["msg"])
            received = "" if item["type"] == "missing" else f" (reçu : {item['input']!r})"
            problems.append(f"{key} : {reason}{received}")
        raise SettingsError(f"{where} : " + " ; ".join(problems)) from None


def load_settings(model: type[Model], shipped: Path, override: Path | None, section: str) -> Model:
    """The ``[section]`` of the shipped file, each key replaced by the override's when the
    override file exists, validated as ``model``."""
    data = dict(read_toml(shipped).get(section, {}))
    where = shipped.name
    if override is not None and override.is_file():
        data |= read_toml(override).get(section, {})
        where = str(override)
    return validate(model, data, where, section)
