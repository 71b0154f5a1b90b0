"""Jobs: the whole refresh, from raw files to the published database."""

import dagster as dg

pnad_refresh_job = dg.define_asset_job(
    name="pnad_refresh",
    selection=dg.AssetSelection.all(),
    description="Register new raw files, parse them, rebuild contracts and shares, write the "
    "dashboard and publish the analysts' database.",
)
