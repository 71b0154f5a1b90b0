"""``decp-2022_YYYY-MM.xml``: the 2022 XML, repeated children for lists, booleans spelt in the
three ways platforms write them."""

from __future__ import annotations

from xml.sax.saxutils import escape

from pipelines.demo.writers.base import Sink


class XmlSink(Sink):
    """decp-2022_YYYY-MM.xml: 2022 XML, repeated children for lists, mixed boolean spellings."""

    _BOOLS = (("true", "false"), ("oui", "non"), ("1", "0"))

    def _start(self, key: str) -> None:
        self._open(f"decp-2022_{key}.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<marches>')

    def add(self, day_iso: str, rec: dict, ctx: dict, final: bool) -> bool:
        self._switch(day_iso[:7])
        style = ctx["buyer"].id_style
        bools = self._BOOLS[0 if style < 3 else 1 if style == 3 else 2]
        out: list[str] = []
        xml_element(out, "marche" if "acheteur" in rec else "contrat-concession", rec, bools)
        self.handle.write("\n" + "".join(out))
        return True

    def _finish(self) -> None:
        self.handle.write("\n</marches>\n")


def xml_element(out: list[str], key: str, value, bools) -> None:
    if isinstance(value, dict):
        out.append(f"<{key}>")
        for k, v in value.items():
            xml_element(out, k, v, bools)
        out.append(f"</{key}>")
    elif isinstance(value, list):
        if all(isinstance(item, dict) for item in value):
            out.append(f"<{key}>")
            for item in value:
                for k, v in item.items():
                    xml_element(out, k, v, bools)
            out.append(f"</{key}>")
        else:
            for item in value:
                out.append(f"<{key}>{escape(str(item))}</{key}>")
    elif value is None:
        return
    elif value is True or value is False:
        out.append(f"<{key}>{bools[0] if value else bools[1]}</{key}>")
    else:
        out.append(f"<{key}>{escape(str(value))}</{key}>")
