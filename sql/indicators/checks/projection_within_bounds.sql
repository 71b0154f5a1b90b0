-- Validity of pnad_share_projection (for a blocking check): every projected share lies in its
-- 90 % interval, the interval within 0-100 %, and the observed share within 0-100 %.
-- Grain: one row per projection out of bounds; an empty result passes.
select level, territory_code, consideration, observed_share, projected_low, projected_share,
    projected_high
from pnad_share_projection
where not (0 <= projected_low and projected_low <= projected_share + 1e-12
           and projected_share <= projected_high + 1e-12 and projected_high <= 1
           and observed_share between 0 and 1);
