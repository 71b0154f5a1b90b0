"""DECP XML (2019 and 2022 regimes) read safely and streamed into the JSON shape the staging SQL
reads, so both formats go through one set of rules.

Parsing uses defusedxml: entity declarations (billion laughs), external entities and external DTDs
are refused, and the file is quarantined with that reason. Records are converted one at a time and
written out at once, so memory does not grow with the file.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

RECORD_TAGS = {"marche": "marche", "contrat-concession": "contrat-concession"}
# Containers of repeated objects: written as the 2022 JSON wraps them, [{"titulaire": {...}}, ...].
OBJECT_LISTS = {
    "titulaires": "titulaire",
    "modifications": "modification",
    "concessionnaires": "concessionnaire",
    "actesSousTraitance": "acteSousTraitance",
    "modificationsActesSousTraitance": "modificationActeSousTraitance",
    "donneesExecution": "donneesAnnuelles",
}


# What each refusal of defusedxml means, in words.
UNSAFE_XML = {
    "EntitiesForbidden": "le document déclare des entités (<!ENTITY ...>)",
    "DTDForbidden": "le document a une DTD (<!DOCTYPE ... [...]>)",
    "ExternalReferenceForbidden": "le document renvoie à une ressource externe",
    "NotSupportedError": "le document utilise une fonction XML refusée par sécurité",
}


# Levels of elements inside a record: a DECP record has fewer than ten; a document nested far
# deeper is junk (or an attack on the reader) and is refused before it is converted.
MAX_RECORD_DEPTH = 64


class XmlRejected(Exception):
    """The XML cannot be read safely or is not DECP (reason in the message)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _value(element: Element, depth: int = 0) -> object:
    """An element as JSON: text for a leaf, a dict for children (repeated tags become lists)."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    if depth > MAX_RECORD_DEPTH:
        raise XmlRejected(
            f"XML trop imbriqué : plus de {MAX_RECORD_DEPTH} niveaux dans un enregistrement"
        )
    converted: dict[str, object] = {}
    for child in children:
        key, value = _local(child.tag), _value(child, depth + 1)
        if key in converted:
            previous = converted[key]
            converted[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            converted[key] = value
    return converted


# A record's elements that some files repeat where the schema has one (an old record carrying
# each republication's date): the latest is kept, and the file's reading notes it.
LATEST_OF_REPEATED = ("datePublicationDonnees",)


@dataclass
class XmlConversion:
    """What converting one XML file gave: records written, and records with a repeated
    element of LATEST_OF_REPEATED (the latest value kept)."""

    records: int = 0
    repeated: dict[str, int] = field(default_factory=dict)

    def note(self) -> str | None:
        """The file's reading note (ingest_files.status_reason), or None."""
        return (
            "; ".join(
                f"{count} record(s) with {name} repeated: the latest kept"
                for name, count in self.repeated.items()
            )
            or None
        )


def _latest(values: list[object]) -> object:
    """The latest of repeated dates (ISO dates sort as text; a time-zone suffix is ignored)."""
    dates = [value for value in values if isinstance(value, str) and value]
    return max(dates, key=lambda value: value[:10]) if dates else ""


def record_from_element(element: Element, conversion: XmlConversion | None = None) -> dict:
    """One <marche> or <contrat-concession> as the dict a 2022-format JSON file would hold;
    a repeated element of LATEST_OF_REPEATED is counted in ``conversion``."""
    record = _value(element)
    if not isinstance(record, dict):
        return {}
    for name in LATEST_OF_REPEATED:
        if isinstance(record.get(name), list):
            record[name] = _latest(record[name])
            if conversion is not None:
                conversion.repeated[name] = conversion.repeated.get(name, 0) + 1
    for container, item in OBJECT_LISTS.items():
        if container not in record:
            continue
        value = record[container]
        inner = value.get(item, []) if isinstance(value, dict) else []
        items = inner if isinstance(inner, list) else [inner]
        # The XSD spells modificationActesSousTraitance where JSON has modificationActeSousTraitance
        if container == "modificationsActesSousTraitance" and isinstance(value, dict):
            alt = value.get("modificationActesSousTraitance", [])
            items += alt if isinstance(alt, list) else [alt]
        record[container] = [{item: entry} for entry in items if entry != ""]
    return record


def xml_to_decp_json(source: Path, target: Path) -> XmlConversion:
    """Convert a DECP XML file into a wrapped 2022-shape JSON document; returns the records
    written and the repeated elements met.

    Raises XmlRejected when the XML is unsafe, malformed or has no <marches> root.
    """
    parts = {
        "marche": target.with_name(target.name + ".marche"),
        "contrat-concession": target.with_name(target.name + ".concession"),
    }
    counts = dict.fromkeys(parts, 0)
    conversion = XmlConversion()
    handles = {kind: path.open("w", encoding="utf-8") for kind, path in parts.items()}
    with source.open("rb") as probe:
        opener = gzip.open if probe.read(2) == b"\x1f\x8b" else open  # .xml.gz too
    try:
        root = None
        with opener(source, "rb") as stream:
            for event, element in iterparse(stream, events=("start", "end")):
                if event == "start":
                    if root is None:
                        root = element
                        if _local(root.tag) != "marches" and _local(root.tag) not in RECORD_TAGS:
                            raise XmlRejected(
                                f"la racine XML est <{_local(root.tag)}>, pas <marches>"
                            )
                    continue
                kind = RECORD_TAGS.get(_local(element.tag))
                # a record is a child of <marches>, or the root itself in a one-record file
                if kind and (element is root or element in list(root)):
                    handles[kind].write(
                        ("," if counts[kind] else "")
                        + json.dumps(record_from_element(element, conversion), ensure_ascii=False)
                    )
                    counts[kind] += 1
                    if element is not root:
                        root.remove(element)  # keep memory flat on large files
        if root is None:
            raise XmlRejected("document XML vide")
    except DefusedXmlException as error:
        what = UNSAFE_XML.get(type(error).__name__, type(error).__name__)
        raise XmlRejected(
            f"XML refusé par sécurité : {what} (l'expansion d'entités et les références "
            "externes sont désactivées ; un fichier DECP n'en a pas besoin)"
        ) from error
    except (ParseError, OSError, EOFError) as error:
        raise XmlRejected(f"XML mal formé : {error}") from error
    finally:
        for handle in handles.values():
            handle.close()
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    with partial.open("w", encoding="utf-8") as out:
        out.write('{"marches": {"marche": [')
        with parts["marche"].open(encoding="utf-8") as part:
            for chunk in iter(lambda: part.read(1 << 20), ""):
                out.write(chunk)
        out.write('], "contrat-concession": [')
        with parts["contrat-concession"].open(encoding="utf-8") as part:
            for chunk in iter(lambda: part.read(1 << 20), ""):
                out.write(chunk)
        out.write("]}}")
    for path in parts.values():
        path.unlink(missing_ok=True)
    os.replace(partial, target)
    conversion.records = sum(counts.values())
    return conversion
