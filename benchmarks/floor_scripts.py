"""The baselines the end-to-end benchmark runs beside the project, each in its own process:

- ``floor``: DuckDB alone, reading the daily 2022-format JSON into a typed STRUCT, keeping the
  latest publication per uid, then one grouped query (national and per-département counts);
- ``pandas``: what an analyst would write with pandas (json.load, DataFrame, drop_duplicates,
  groupby);
- ``polars``: the same with polars (read_json with a schema, explode, unique, group_by).

Each prints one JSON line: {"national": {year: [contracts, social_yes, environmental_yes]},
"departements": {code: [...]}} over contracts notified from 2024-01-01 to today, platform test
records left out (the project's ``in_pnad_scope``). A contract is buyer id + contract id; its
kept version is the one with the latest ``datePublicationDonnees`` (the project's first rule).
A status is "yes" when a value names a clause, a critère or a réservé marché. The département is
the place of execution's (postal or département code): what the files say, no SIRENE. Buyer
ids lose their spaces (as the project's SIRETs do).

    python benchmarks/floor_scripts.py floor|pandas|polars FOLDER_OR_FILE...
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

TEST_BUYER = "44090956200033"
POSITIVE = r"(?i)clause|crit[eè]re|r[ée]serv"

# The fields the counts need, typed (the floor reads the JSON straight into this STRUCT)
MARCHE = (
    "STRUCT(id VARCHAR, acheteur STRUCT(id VARCHAR), objet VARCHAR, dateNotification VARCHAR, "
    "datePublicationDonnees VARCHAR, lieuExecution STRUCT(code VARCHAR), "
    "considerationsSociales STRUCT(considerationSociale VARCHAR[]), "
    "considerationsEnvironnementales STRUCT(considerationEnvironnementale VARCHAR[]))"
)
CONCESSION = MARCHE.replace("acheteur", "autoriteConcedante").replace(
    "dateNotification", "dateSignature"
)

FLOOR_SQL = f"""
with files as (
    select marches from read_json($files,
        columns = {{marches: 'STRUCT(marche {MARCHE}[], "contrat-concession" {CONCESSION}[])'}},
        format = 'auto', maximum_object_size = 268435456)
),
flat as (
    select regexp_replace(r.acheteur.id, '\s', '', 'g') as buyer, r.id as contract_id,
        r.objet as objet,
        try_cast(left(r.dateNotification, 10) as date) as notified,
        r.datePublicationDonnees as published, r.lieuExecution.code as place,
        r.considerationsSociales.considerationSociale as social,
        r.considerationsEnvironnementales.considerationEnvironnementale as environmental
    from (select unnest(marches.marche) as r from files)
    union all
    select regexp_replace(r.autoriteConcedante.id, '\s', '', 'g'), r.id, r.objet,
        try_cast(left(r.dateSignature, 10) as date),
        r.datePublicationDonnees, r.lieuExecution.code,
        r.considerationsSociales.considerationSociale,
        r.considerationsEnvironnementales.considerationEnvironnementale
    from (select unnest(marches."contrat-concession") as r from files)
),
kept as (
    select * from flat
    qualify row_number() over (partition by buyer, contract_id order by published desc) = 1
),
scoped as (
    select
        year(notified) as year,
        case when place like '97%' or place like '98%' then left(place, 3)
             when place like '20%' then case when place < '20200' then '2A' else '2B' end
             else left(place, 2) end as departement,
        list_bool_or([regexp_matches(v, $positive) for v in social]) is true as social_yes,
        list_bool_or([regexp_matches(v, $positive) for v in environmental]) is true as env_yes
    from kept
    where notified between date '2024-01-01' and current_date
      and buyer <> $test_buyer and coalesce(objet, '') not ilike '%testville%'
)
select grouping(departement) as national, year, departement, count(*),
       count(*) filter (where social_yes), count(*) filter (where env_yes)
from scoped
group by grouping sets ((year), (departement))
"""  # noqa: S608 - only the constant STRUCT types above are formatted in


def input_files(arguments: list[str]) -> list[Path]:
    files = []
    for given in map(Path, arguments):
        if given.is_dir():
            files += sorted(p for p in given.glob("*.json") if not p.name.startswith("_"))
        else:
            files.append(given)
    return files


def floor(files: list[Path]) -> dict:
    import duckdb

    rows = (
        duckdb.connect()
        .execute(
            FLOOR_SQL,
            {
                "files": [str(f) for f in files],
                "positive": POSITIVE,
                "test_buyer": TEST_BUYER,
            },
        )
        .fetchall()
    )
    result: dict = {"national": {}, "departements": {}}
    for national, year, departement, contracts, social, environmental in rows:
        if national:
            result["national"][str(year)] = [contracts, social, environmental]
        else:
            result["departements"][str(departement)] = [contracts, social, environmental]
    return result


def _records(files: list[Path]):
    """Each record of the files, flattened to the fields the counts need (pandas' way in)."""
    for file in files:
        lists = json.loads(file.read_text(encoding="utf-8")).get("marches") or {}
        for kind, buyer_key, date_key in (
            ("marche", "acheteur", "dateNotification"),
            ("contrat-concession", "autoriteConcedante", "dateSignature"),
        ):
            for r in lists.get(kind) or []:
                social = (r.get("considerationsSociales") or {}).get("considerationSociale")
                env = (r.get("considerationsEnvironnementales") or {}).get(
                    "considerationEnvironnementale"
                )
                yield (
                    (r.get(buyer_key) or {}).get("id"),
                    r.get("id"),
                    r.get("objet"),
                    r.get(date_key),
                    r.get("datePublicationDonnees"),
                    (r.get("lieuExecution") or {}).get("code"),
                    " | ".join(social) if isinstance(social, list) else None,
                    " | ".join(env) if isinstance(env, list) else None,
                )


COLUMNS = ["buyer", "contract_id", "objet", "notified", "published", "place", "social", "env"]


def pandas_counts(files: list[Path]) -> dict:
    import pandas as pd

    frame = pd.DataFrame.from_records(_records(files), columns=COLUMNS)
    frame["buyer"] = frame["buyer"].str.replace(r"\s", "", regex=True)
    frame = frame.sort_values("published", ascending=False, na_position="last")
    kept = frame.drop_duplicates(["buyer", "contract_id"])
    notified = pd.to_datetime(kept["notified"].str[:10], errors="coerce", format="%Y-%m-%d")
    scoped = kept[
        (notified >= "2024-01-01")
        & (notified <= pd.Timestamp(date.today()))
        & (kept["buyer"] != TEST_BUYER)
        & ~kept["objet"].fillna("").str.contains("testville", case=False)
    ].assign(
        year=notified.dt.year,
        social_yes=lambda f: f["social"].str.contains(POSITIVE, na=False),
        env_yes=lambda f: f["env"].str.contains(POSITIVE, na=False),
    )
    national = scoped.groupby("year").agg(
        n=("year", "size"), s=("social_yes", "sum"), e=("env_yes", "sum")
    )
    return {
        "national": {str(y): [int(v) for v in row] for y, row in national.iterrows()},
        "departements": {},
    }


def polars_counts(files: list[Path]) -> dict:
    import polars as pl

    text = pl.String

    def record(buyer_key: str, date_key: str):
        return pl.Struct(
            {
                "id": text,
                buyer_key: pl.Struct({"id": text}),
                "objet": text,
                date_key: text,
                "datePublicationDonnees": text,
                "considerationsSociales": pl.Struct({"considerationSociale": pl.List(text)}),
                "considerationsEnvironnementales": pl.Struct(
                    {"considerationEnvironnementale": pl.List(text)}
                ),
            }
        )

    kinds = {"marche": ("acheteur", "dateNotification")}
    kinds["contrat-concession"] = ("autoriteConcedante", "dateSignature")
    schema = {"marches": pl.Struct({k: pl.List(record(*v)) for k, v in kinds.items()})}
    files_frame = pl.concat([pl.read_json(file, schema=schema) for file in files])
    frame = pl.concat(
        [
            files_frame.select(pl.col("marches").struct.field(kind))
            .explode(kind)
            .unnest(kind)
            .select(
                pl.col(buyer_key).struct.field("id").str.replace_all(r"\s", "").alias("buyer"),
                pl.col("id").alias("contract_id"),
                "objet",
                pl.col(date_key).alias("notified"),
                pl.col("datePublicationDonnees").alias("published"),
                _joined(pl, "considerationsSociales", "considerationSociale", "social"),
                _joined(
                    pl, "considerationsEnvironnementales", "considerationEnvironnementale", "env"
                ),
            )
            for kind, (buyer_key, date_key) in kinds.items()
        ]
    ).filter(pl.col("contract_id").is_not_null())
    notified = pl.col("notified").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    national = (
        frame.sort("published", descending=True, nulls_last=True)
        .unique(["buyer", "contract_id"], keep="first")
        .with_columns(notified.alias("notified"))
        .filter(
            pl.col("notified").is_between(date(2024, 1, 1), date.today())
            & (pl.col("buyer") != TEST_BUYER)
            & ~pl.col("objet").fill_null("").str.to_lowercase().str.contains("testville")
        )
        .group_by(pl.col("notified").dt.year().alias("year"))
        .agg(
            pl.len().alias("n"),
            pl.col("social").str.contains(POSITIVE).fill_null(False).sum().alias("s"),
            pl.col("env").str.contains(POSITIVE).fill_null(False).sum().alias("e"),
        )
    )
    return {
        "national": {str(r[0]): [int(v) for v in r[1:]] for r in national.iter_rows()},
        "departements": {},
    }


def _joined(pl, field: str, inner: str, alias: str):
    """A consideration list as one string, as pandas gets it."""
    return pl.col(field).struct.field(inner).list.join(" | ").alias(alias)


TOOLS = {"floor": floor, "pandas": pandas_counts, "polars": polars_counts}


if __name__ == "__main__":
    print(json.dumps(TOOLS[sys.argv[1]](input_files(sys.argv[2:]))))
