"""Large DECP JSON documents split, streaming, into parts that DuckDB reads one at a time.

DuckDB reads a JSON document whole, so its memory would follow the largest file: a multi-GB
{"marches": {"marche": [...]}} is cut here into documents of the same shape holding a slice of
each list. Only the standard library is used: each record is found with the json module's decoder
and copied as it is written in the file (never re-serialised), so DuckDB reads exactly the records
the whole file holds.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

CHUNK_CHARS = 1 << 20  # text read from the file at a time
LIST_KEYS = ("marche", "contrat-concession")  # the lists of the 2022 wrapped shape, in order
_NON_SPACE = re.compile(r"[^ \t\n\r]")


_DECODER = json.JSONDecoder()  # NaN and Infinity accepted, as DuckDB's reader accepts them


def _first_wins(pairs: list[tuple[str, object]]) -> dict:
    """An object's members, a key given twice keeping its first value (as DuckDB's reader)."""
    members: dict = {}
    for key, value in pairs:
        members.setdefault(key, value)
    return members


# Repairing: control characters inside strings accepted (a raw NUL byte in an objet), a key
# given twice kept once.
_LENIENT = json.JSONDecoder(strict=False, object_pairs_hook=_first_wins)


# A record longer than this is not a DECP record (the longest real ones are a few hundred KB): it
# is refused before memory follows it (a 3 GB string in a 3 MB gzip file).
MAX_RECORD_CHARS = 64 * 1024 * 1024


_TOO_LARGE = (
    f"une valeur du document dépasse {MAX_RECORD_CHARS // (1 << 20)} Mo : "
    "pas un enregistrement DECP"
)


class RecordTooLarge(Exception):
    """A value of the document is longer than MAX_RECORD_CHARS (French message)."""


class NotSplittable(Exception):
    """Not a single JSON object with a "marches" key: the file is read whole instead."""


class InvalidJson(Exception):
    """The document is not valid JSON (where and why in the message)."""


@dataclass(frozen=True)
class Part:
    """One part written: its records are those of ``list_key`` ("marche", "contrat-concession",
    None for an array root) from index ``first_index`` (0-based) on."""

    path: Path
    list_key: str | None
    first_index: int
    records: int


@dataclass
class SplitDocument:
    parts: list[Part] = field(default_factory=list)
    records: dict[str | None, int] = field(default_factory=dict)  # per list
    repaired: int = 0  # records written again as valid JSON (split_document's repair)

    def position_base(self, part: Part) -> int:
        """Records of the file before the part's first one: marchés come first, then concessions
        (as the whole file is numbered, whatever the order of the lists in the file)."""
        if part.list_key == "contrat-concession":
            return self.records.get("marche", 0) + part.first_index
        return part.first_index


class _Text:
    """The document's text, read in chunks into a window the decoder scans."""

    def __init__(
        self,
        handle: TextIO,
        on_progress: Callable[[int], None] | None,
        decoder: json.JSONDecoder = _DECODER,
    ) -> None:
        self.handle, self.on_progress, self.decoder = handle, on_progress, decoder
        self.window, self.pos, self.ended, self.chars_read = "", 0, False, 0

    def _read_more(self, ahead: int) -> None:
        """At least ``ahead`` characters after pos in the window, unless the text ends first."""
        while not self.ended and len(self.window) - self.pos < ahead:
            chunk = self.handle.read(max(CHUNK_CHARS, ahead))
            if not chunk:
                self.ended = True
                break
            self.window = self.window[self.pos :] + chunk
            self.pos = 0
            self.chars_read += len(chunk)
            if self.on_progress:
                self.on_progress(self.chars_read)

    def peek(self) -> str:
        """The next character that is not a space ('' at the end of the text); pos on it."""
        while True:
            found = _NON_SPACE.search(self.window, self.pos)
            if found:
                self.pos = found.start()
                return self.window[self.pos]
            self.pos = len(self.window)
            if self.ended:
                return ""
            self._read_more(1)

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise InvalidJson(f"expected {char!r} at character {self.chars_read}")
        self.pos += 1

    def value(self) -> str:
        """The text of the JSON value that comes next, exactly as written; pos after it."""
        self.peek()
        ahead = CHUNK_CHARS
        while True:
            self._read_more(ahead)
            try:
                _, end = self.decoder.raw_decode(self.window, self.pos)
            except (json.JSONDecodeError, ValueError) as error:
                if self.ended:
                    raise InvalidJson(str(error)) from error
                if len(self.window) - self.pos > MAX_RECORD_CHARS:
                    raise RecordTooLarge(_TOO_LARGE) from error
                # a value longer than the window: read more of the text (never more than a
                # record may hold) and try again
                ahead = min(2 * max(ahead, len(self.window) - self.pos), MAX_RECORD_CHARS + 1)
                continue
            if end - self.pos > MAX_RECORD_CHARS:
                raise RecordTooLarge(_TOO_LARGE)
            if end == len(self.window) and not self.ended:
                ahead = 2 * max(ahead, len(self.window) - self.pos)  # a number may go on
                continue
            text = self.window[self.pos : end]
            self.pos = end
            return text

    def key(self) -> str:
        text = self.value()
        if not text.startswith('"'):
            raise InvalidJson(f"expected a key at character {self.chars_read}")
        return json.loads(text)

    def members(self) -> Iterator[str]:
        """The keys of the object that comes next, one by one: after each, pos is on its value,
        which the caller reads (``value``, ``records``...) before asking for the next key."""
        self.take("{")
        first = True
        while self.peek() != "}":
            if not first:
                self.take(",")
            first = False
            name = self.key()
            self.take(":")
            yield name
        self.pos += 1


class _Parts:
    """Writes the records into part files of about ``part_chars`` characters each."""

    def __init__(self, directory: Path, part_chars: int, repair: bool = False) -> None:
        self.directory, self.part_chars, self.repair = directory, part_chars, repair
        self.repaired = 0
        self.result = SplitDocument()
        self.handle: TextIO | None = None

    def whole(self, text: str) -> None:
        """A document written as it is (a "marches" value that holds no list, or none)."""
        path = self.directory / f"part-{len(self.result.parts) + 1:05d}.json"
        path.write_text(text, encoding="utf-8")
        self.result.parts.append(Part(path, "whole", 0, 0))

    def records(self, text: _Text, list_key: str | None) -> None:
        """Copy the records of the array that comes next into parts."""
        text.take("[")
        index = 0
        if text.peek() == "]":
            text.pos += 1
            return
        while True:
            self._add(list_key, index, text.value())
            index += 1
            following = text.peek()
            text.pos += 1
            if following == "]":
                break
            if following != ",":
                raise InvalidJson(f"expected ',' or ']' at character {text.chars_read}")
        self._close()
        self.result.records[list_key] = index

    def _add(self, list_key: str | None, index: int, record: str) -> None:
        if self.handle is None:
            path = self.directory / f"part-{len(self.result.parts) + 1:05d}.json"
            self.handle = path.open("w", encoding="utf-8")
            self.handle.write(
                '{"marches": [' if list_key is None else f'{{"marches": {{"{list_key}": ['
            )
            self.list_key, self.first_index, self.count, self.chars = list_key, index, 0, 0
            self.path = path
        else:
            self.handle.write(",\n")
        if self.repair:
            record = self._repaired(record)
        self.handle.write(record)
        self.count += 1
        self.chars += len(record)
        if self.chars >= self.part_chars:
            self._close()

    def _repaired(self, record: str) -> str:
        """The record written again as valid JSON (control characters escaped, a key given
        twice kept once: its first value, as DuckDB keeps it)."""
        try:
            clean = json.dumps(_LENIENT.decode(record), ensure_ascii=False)
            clean.encode("utf-8")  # a lone surrogate (\ud800) is valid JSON, not UTF-8 text
        except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeEncodeError
            # not a record any reader can use: a text that the staging SQL rejects, with why
            excerpt = record[:200].encode("utf-8", "replace").decode("utf-8")
            clean = json.dumps(f"enregistrement illisible ({error}) : {excerpt}")
        self.repaired += clean != record
        return clean

    def _close(self) -> None:
        if self.handle is None:
            return
        self.handle.write("]}" if self.list_key is None else "]}}")
        self.handle.close()
        self.handle = None
        self.result.parts.append(Part(self.path, self.list_key, self.first_index, self.count))


def split_document(
    source: Path,
    directory: Path,
    part_chars: int,
    on_progress: Callable[[int], None] | None = None,
    repair: bool = False,
) -> SplitDocument:
    """Split a DECP JSON document into parts under ``directory``, each read like a small file.

    Raises NotSplittable when the file is not one JSON object with a "marches" key whose value
    is read through lists, and InvalidJson when the json module finds it invalid: the caller then
    reads it whole, and DuckDB's reader says what it makes of it. ``on_progress`` receives the
    characters read so far. With ``repair``, each record is written again as valid JSON (a
    file DuckDB refused for one record: that record is rejected, the others are read), and
    ``repaired`` on the result counts the records written differently. Raises RecordTooLarge
    for a value longer than MAX_RECORD_CHARS.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as probe:
        opener = gzip.open if probe.read(2) == b"\x1f\x8b" else open
    parts = _Parts(directory, part_chars, repair)
    try:
        with opener(source, "rt", encoding="utf-8-sig", newline="") as handle:
            text = _Text(handle, on_progress, _LENIENT if repair else _DECODER)
            if text.peek() != "{":
                raise NotSplittable("the document is not a JSON object")
            seen_marches = False
            for name in text.members():
                if name != "marches":
                    text.value()  # the whole-file read ignores other keys too
                    continue
                if seen_marches:
                    raise NotSplittable('two "marches" keys')
                seen_marches = True
                if text.peek() == "[":
                    parts.records(text, None)
                elif text.peek() == "{":
                    _wrapped_lists(text, parts)
                else:
                    parts.whole(f'{{"marches": {text.value()}}}')  # null, text...: no list
            if text.peek() != "":
                raise NotSplittable("more than one document in the file")
            if not seen_marches:
                parts.whole("{}")
    except UnicodeDecodeError as error:
        raise InvalidJson(f"not UTF-8 text ({error})") from error
    finally:
        if parts.handle is not None:
            parts.handle.close()
    parts.result.repaired = parts.repaired
    return parts.result


def _wrapped_lists(text: _Text, parts: _Parts) -> None:
    """The lists of {"marche": [...], "contrat-concession": [...]}, as a path '$.marche[*]' reads
    them: the first key of each name, an array (anything else holds no record)."""
    seen: set[str] = set()
    for name in text.members():
        if name in LIST_KEYS and name not in seen and text.peek() == "[":
            seen.add(name)
            parts.records(text, name)
        else:
            seen.add(name)
            text.value()
