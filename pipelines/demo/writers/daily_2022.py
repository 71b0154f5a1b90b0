"""``decp-2022_YYYY-MM-DD.json``: the daily publications in the 2022 wrapped shape."""

from __future__ import annotations

from pipelines.demo.writers.base import ENCODE, Sink


class Daily2022Sink(Sink):
    """decp-2022_YYYY-MM-DD.json: the wrapped 2022 shape of the daily publications."""

    def _start(self, key: str) -> None:
        self._open(f"decp-2022_{key}.json", '{"marches":{"marche":[')
        self.concessions: list[str] = []  # bounded by one day's concessions

    def add(self, day_iso: str, rec: dict, ctx: dict, final: bool) -> bool:
        self._switch(day_iso)
        if "acheteur" in rec:
            self._write_item(ENCODE(rec))
        else:
            self.concessions.append(ENCODE(rec))
        return True

    def _finish(self) -> None:
        h = self.handle
        h.write('\n],"contrat-concession":[')
        if self.concessions:
            h.write("\n" + ",\n".join(self.concessions))
        h.write("\n]}}\n")
