"""argparse in French: its own labels and messages ("usage:", "options", "the following
arguments are required", "invalid choice"…) translated through the gettext hook it calls.

argparse looks its strings up through the module-level names ``_`` and ``ngettext`` (imported
from gettext) at the moment it builds a parser or reports an error; the ``pnad`` command points
them at this catalogue once, before building its parser. A message missing from the catalogue
stays as argparse wrote it (a test lists the ones ``pnad`` can reach).
"""

from __future__ import annotations

import argparse
from datetime import date

CATALOGUE = {
    "usage: ": "usage : ",
    # section headings: argparse adds the colon, French puts a space before it
    "options": "options ",
    "positional arguments": "arguments ",
    "show this help message and exit": "affiche cette aide et quitte",
    "show program's version number and exit": "affiche la version et quitte",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix non valide : %(value)r (choix possibles : %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "valeur non valide (%(type)s attendu) : %(value)r",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "au plus une valeur est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "valeur %r ignorée",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "unexpected option string: %s": "option inattendue : %s",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "commande inconnue %(parser_name)r (choix possibles : %(choices)s)"
    ),
}

PLURALS = {
    "expected %s argument": ("%s valeur attendue", "%s valeurs attendues"),
}


def french(message: str) -> str:
    return CATALOGUE.get(message, message)


def french_plural(singular: str, plural: str, count: int) -> str:
    forms = PLURALS.get(singular)
    if forms is None:
        return singular if count == 1 else plural
    # French uses the singular for 0 and 1
    return forms[0] if count < 2 else forms[1]


def install() -> None:
    """Point argparse's gettext lookups at the French catalogue (idempotent)."""
    argparse._ = french  # type: ignore[attr-defined]
    argparse.ngettext = french_plural  # type: ignore[attr-defined]


# The value an option takes, as its help shows it ("--year ANNÉE"), by argparse's dest.
METAVARS = {
    "year": "ANNÉE",
    "level": "NIVEAU",
    "scope": "CHAMP",
    "size": "TAILLE",
    "seed": "GRAINE",
    "fault_rate": "TAUX",
    "facilitator": "NOM",
    "period": "PÉRIODE",
    "month": "AAAA-MM",
    "region": "CODE",
    "departement": "CODE",
    "port": "PORT",
    "withdraw": "ID",
    "start": "AAAA-MM-JJ",
    "end": "AAAA-MM-JJ",
}


class FrenchHelpFormatter(argparse.HelpFormatter):
    """Help whose placeholders are French words (``--year ANNÉE``, not ``--year YEAR``)."""

    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        return METAVARS.get(action.dest, action.dest.upper())

    def _get_default_metavar_for_positional(self, action: argparse.Action) -> str:
        return METAVARS.get(action.dest, action.dest.upper())


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser with the French help formatter; its sub-commands' parsers are of the
    same class (argparse builds them with the parent's class)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        super().__init__(*args, **kwargs)


def whole_number(text: str) -> int:
    return int(text)


whole_number.__name__ = "nombre entier"  # argparse names the type in "valeur non valide"


def decimal_number(text: str) -> float:
    return float(text.replace(",", "."))


decimal_number.__name__ = "nombre"


def iso_date(text: str) -> date:
    return date.fromisoformat(text)


iso_date.__name__ = "date AAAA-MM-JJ"
