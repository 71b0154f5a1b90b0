"""The SIREN-prefix rule for local public bodies, checked on the real buyers of the sample
files against the INSEE commune table (a commune's SIREN embeds its commune code)."""

from __future__ import annotations

from tests.conftest import sample_data_dir
from tests.test_real_files import real  # noqa: F401 - the real sample warehouse fixture


def test_commune_buyers_land_in_their_communes_departement(real):  # noqa: F811
    _, con, _ = real
    cog = sample_data_dir() / "ref" / "cog_communes_departements_regions_2025.csv"
    rows = con.execute(
        """
        with communes as (
            select commune_code, departement_code
            from read_csv($cog, header = true, all_varchar = true)
        ),
        buyers as (
            select distinct buyer_siret, siren_departement_code(buyer_siret) as by_rule,
                buyer_siret[3:7] as commune_code
            from contracts
            where buyer_siret like '21%' and siren_departement_code(buyer_siret) is not null
        )
        select buyers.buyer_siret, buyers.by_rule, communes.departement_code
        from buyers left join communes using (commune_code)
        """,
        {"cog": str(cog)},
    ).fetchall()
    # 216 commune buyers; 172 carry a current commune code (the others are communes merged
    # since, whose old code is no longer in the COG: their département digits still hold)
    found = [(siret, rule, dep) for siret, rule, dep in rows if dep is not None]
    assert len(rows) >= 200 and len(found) >= 170
    assert [(siret, rule, dep) for siret, rule, dep in found if rule != dep] == []
