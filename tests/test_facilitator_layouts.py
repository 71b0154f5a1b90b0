"""Facilitators' exports shaped like real ones the project had not met: the facilitator named in
the title block, Excel's UTF-16 « Texte Unicode » export, an overseas département."""

from __future__ import annotations

import pytest

from pipelines.common import warehouse
from pipelines.facilitators import loading, reading
from tests.test_facilitator import ABC_LINES, TAB_EXPORT_ROWS, write_abc_export

TITLE = [
    "Export suivi des clauses d'insertion",
    "Facilitateur : PLIE Est Hérault",
    "Édité le 15/01/2025",
]


def export_text(delimiter: str) -> str:
    """An export naming its facilitator in its title block only (no « Facilitateur » column),
    as the real one does: title line, empty line, header, three lines of hours."""
    lines = [TITLE, [], *TAB_EXPORT_ROWS]
    return "\r\n".join(delimiter.join(cells) for cells in lines)


def loaded_export(pnad_paths, path) -> dict:
    with warehouse.connect(pnad_paths) as con:
        return loading.load_export(con, pnad_paths, path)


def assert_loaded_as_plie(report: dict, query) -> None:
    """The export's three lines loaded as PLIE Est Hérault's, names and accents as written."""
    assert (report["facilitator"], report["loaded"], report["rejected"]) == (
        "PLIE Est Hérault",
        3,
        0,
    )
    assert query("select distinct facilitator, marche_object from facilitator_marches") == [
        ("PLIE Est Hérault", "Voirie")
    ]
    assert query(
        "select count(distinct participant_key), sum(hours_worked) from facilitator_hours_worked"
    ) == [(2, pytest.approx(330.5))]
    assert query(
        "select modality, count(*) from facilitator_work_contracts group by 1 order by 1"
    ) == [("embauche_directe", 1), ("etti", 1)]  # Jeanne Dupontel: one contract, two months


def test_the_facilitator_named_in_the_title_block_is_the_files(pnad_paths, tmp_path, query):
    # before, refused: "the file does not say which facilitator sent it"
    path = tmp_path / "suivi.csv"
    path.write_bytes(export_text(";").encode("cp1252"))
    assert_loaded_as_plie(loaded_export(pnad_paths, path), query)


def test_an_excel_unicode_text_export_is_read(pnad_paths, tmp_path, query):
    # Excel's « Texte Unicode » (.txt): UTF-16 little-endian with its byte-order mark, tabs
    path = tmp_path / "suivi.txt"
    path.write_bytes(export_text("\t").encode("utf-16"))
    assert path.read_bytes()[:2] == b"\xff\xfe"
    assert reading.looks_like_export(path)
    assert_loaded_as_plie(loaded_export(pnad_paths, path), query)


def test_a_big_endian_utf16_export_is_read_too(tmp_path):
    path = tmp_path / "suivi.txt"
    path.write_bytes(b"\xfe\xff" + export_text("\t").encode("utf-16-be"))
    ((_, grid),) = reading.read_grids(path)
    assert grid[0] == TITLE
    assert grid[2] == TAB_EXPORT_ROWS[0]


@pytest.mark.parametrize(
    ("title", "facilitator"),
    [
        (["Facilitatrice :", "", "MDE Sud"], "MDE Sud"),  # the name in a cell of its own
        (["FACILITATEUR", "PLIE du Genevois"], "PLIE du Genevois"),
        (["Facilitateurs du département de l'Hérault"], None),  # not a facilitator's name
        (["Export ABC Clauses - suivi des participants"], None),
    ],
)
def test_title_facilitator(title, facilitator):
    assert reading.title_facilitator([title]) == facilitator


@pytest.mark.parametrize(("written", "departement"), [("974", "974"), ("971 Guadeloupe", "971")])
def test_an_overseas_departement_keeps_its_three_digits(
    pnad_paths, tmp_path, query, written, departement
):
    # the operation's « Département » was padded with lpad(code, 2), which cut 974 to 97
    line = ABC_LINES[0].replace(";Commune;74;", f";Commune;{written};")
    with warehouse.connect(pnad_paths) as con:
        loading.load_export(con, pnad_paths, write_abc_export(tmp_path, [line]))
    assert query("select departement_code from facilitator_operations") == [(departement,)]
