"""Jobs: the refresh of what is landed, and the update that downloads the sources first."""

import dagster as dg

pnad_refresh_job = dg.define_asset_job(
    name="pnad_refresh",
    # no network: neither the downloads nor the SIRENE lookups
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets(
        "decp_downloads", "reference_downloads", "buyer_sirene_lookup", "regional_report"
    ),
    description="Process the files under PNAD_HOME/raw/ (no network): register, parse, rebuild "
    "contracts and shares, write the dashboard, publish the analysts' database.",
)

pnad_update_job = dg.define_asset_job(
    name="pnad_update",
    # the reports have their own partitioned job and monthly schedule
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("regional_report"),
    description="Download the enabled sources of sources.toml, look buyers up in SIRENE, then "
    "everything pnad_refresh does.",
)
