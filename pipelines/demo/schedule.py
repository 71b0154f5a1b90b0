"""The publication schedule of the demo: contracts spread over a weighted working-day calendar,
each one's buyer, dates, modifications and republications drawn from cheap hashes of (seed,
contract number), without any random state, so that contract ``i`` is the same whatever the size
of the rest of the run."""

from __future__ import annotations

import bisect
from datetime import date, timedelta

from pipelines.demo.buyers import buyer_pool
from pipelines.demo.draws import GOLDEN, mix64

# Target shares by notification date: flat in 2024, a linear rise to mid-2026, then a slower one
# (a point or two a year) that stays well below the 30 % / 100 % targets whatever today is.
SOCIAL_2024, SOCIAL_MID_2026, SOCIAL_CEILING = 0.14, 0.22, 0.27
ENVIRONMENTAL_2024, ENVIRONMENTAL_MID_2026, ENVIRONMENTAL_CEILING = 0.18, 0.28, 0.36
SOCIAL_YEARLY_AFTER, ENVIRONMENTAL_YEARLY_AFTER = 0.015, 0.03
RAMP_START = date(2025, 1, 1).toordinal()
RAMP_END = date(2026, 6, 30).toordinal()
# Loi Climat et Résilience, art. 35: consultations launched from this day must carry an
# environmental consideration (and, above the EU thresholds, a social execution condition). The
# demo's buyers mostly comply: records.py raises the shares of the contracts it applies to.
OBLIGATIONS_ENTRY = date(2026, 8, 21).toordinal()
# Days from a consultation's launch to its notification, by procedure, in the demo (the pipeline
# does not know them: it estimates them, pipelines/indicators/obligations.toml); a contract's own
# lag is this plus or minus 20 days.
DEMO_LAUNCH_LAG = {
    "Procédure adaptée": 35,
    "Appel d'offres ouvert": 80,
    "Appel d'offres restreint": 105,
    "Procédure avec négociation": 95,
    "Dialogue compétitif": 180,
    "Marché passé sans publicité ni mise en concurrence préalable": 12,
}
DEMO_CONCESSION_LAG = 180
CONCESSION_RATE = 0.02
MODIFICATION_RATE = 0.10
REPUBLICATION_RATE = 0.08
# Some buyers publish late, past the two-month deadline, most of the time: a few in a hundred.
LATE_PUBLISHER_RATE = 0.05
# Some buyers stop publishing (a platform change, a merger, nobody in charge): from a day between
# March 2025 and mid-2026, their contracts go to the next buyer of the pool.
STOPPING_BUYER_RATE = 0.04
STOPPING_FROM = date(2025, 3, 1).toordinal()


class Schedule:
    """When each contract of a run is notified and published, by whom, and its target shares."""

    def __init__(self, size: int, seed: int, start: date, end: date, today: date) -> None:
        self.size, self.seed = size, seed
        self.today_ord = today.toordinal()  # nothing is published after it
        self.buyers, self.buyer_cum = buyer_pool(size, seed)
        self.buyer_total = self.buyer_cum[-1]
        self.key0 = (seed & 0xFFFFFFFF) << 32
        self.offset = (mix64(self.key0 ^ 0x5EED) >> 11) / float(1 << 53)
        self.start_ord = start.toordinal()
        cum, soc, env = [], [], []
        total = 0.0
        for k in range((end - start).days + 1):
            day = start + timedelta(days=k)
            wd = day.weekday()
            w = 1.0 if wd < 5 else 0.05 if wd == 5 else 0.015
            if day.month == 8:
                w *= 0.55
            elif day.month == 12:
                w *= 1.3 if day.day <= 20 else 0.4
            total += w
            cum.append(total)
            social, environmental = _base_shares(day.toordinal())
            soc.append(social)
            env.append(environmental)
        self.cal_cum, self.cal_total, self.soc_base, self.env_base = cum, total, soc, env
        self.iso_cache: dict[int, str] = {}
        self.counters: dict[int, list[int]] = {}

    def iso(self, ordinal: int) -> str:
        s = self.iso_cache.get(ordinal)
        if s is None:
            s = self.iso_cache[ordinal] = date.fromordinal(ordinal).isoformat()
        return s

    def plan(self, i: int) -> tuple:
        """Publication schedule of contract ``i``, from cheap hashes (no RNG seeding).

        (notification, first publication, buyer index, concession?, modification dates,
        day of the first file, republication days), all days as ordinals.
        """
        day_idx = bisect.bisect_left(self.cal_cum, (i + 0.5) * self.cal_total / self.size)
        notif = self.start_ord + day_idx
        frac = (self.offset + i * GOLDEN) % 1.0
        buyer = min(
            bisect.bisect_right(self.buyer_cum, frac * self.buyer_total), len(self.buyers) - 1
        )
        if notif >= self.stop_day(buyer):
            buyer = (buyer + 1) % len(self.buyers)
        k = (self.key0 + i) << 8  # salts 1-3 here, 10+ in ``unit``: separate hash domains
        h1, h2, h3 = mix64(k | 1), mix64(k | 2), mix64(k | 3)
        is_conc = (h1 & 0xFFFF) < CONCESSION_RATE * 65536
        u = ((h1 >> 16) & 0xFFFF) / 65536.0
        delay = (
            int(u / 0.45 * 8)
            if u < 0.45
            else 8 + int((u - 0.45) / 0.4 * 23)
            if u < 0.85
            else 31 + int((u - 0.85) / 0.15 * 30)
        )
        if (mix64(self.key0 ^ (buyer << 24) ^ 0x1A7E) & 0xFFFF) < LATE_PUBLISHER_RATE * 65536:
            if ((h3 >> 48) & 0xFFFF) < 0.7 * 65536:
                delay = 62 + ((h2 >> 8) & 0xFFFF) % 120
        # nothing is published after today: a late first publication is today's; modifications
        # and republications still to come are not there yet
        today = self.today_ord
        pub = min(notif + delay, max(notif, today))
        mods: tuple = ()
        if not is_conc and ((h1 >> 32) & 0xFFFF) < MODIFICATION_RATE * 65536:
            m1 = notif + 15 + (h2 & 0xFFFF) % 166
            p1 = m1 + ((h2 >> 16) & 0xFFFF) % 11
            if ((h1 >> 48) & 0xFFFF) < 0.3 * 65536:
                m2 = m1 + 15 + ((h2 >> 32) & 0xFFFF) % 106
                p2 = m2 + ((h2 >> 48) & 0xFFFF) % 11
                mods = ((m1, p1), (m2, p2))
            else:
                mods = ((m1, p1),)
            mods = tuple(m for m in mods if m[1] <= today)
        last = max([pub, *(p for _, p in mods)])
        repubs: tuple = ()
        if (h3 & 0xFFFF) < REPUBLICATION_RATE * 65536:
            r1 = last + 1 + ((h3 >> 16) & 0xFFFF) % 45
            if ((h3 >> 32) & 0xFFFF) < 0.15 * 65536:
                repubs = (r1, r1 + 1 + ((h3 >> 48) & 0xFFFF) % 45)
            else:
                repubs = (r1,)
            repubs = tuple(r for r in repubs if r <= today)
        return notif, pub, buyer, is_conc, mods, last, repubs

    def stop_day(self, buyer: int) -> float:
        """The day (ordinal) from which buyer ``buyer`` publishes nothing more (infinity for
        most buyers)."""
        h = mix64(self.key0 ^ (buyer << 24) ^ 0x5170)
        if (h & 0xFFFF) >= STOPPING_BUYER_RATE * 65536:
            return float("inf")
        return STOPPING_FROM + (h >> 16) % 480

    def launched_under_obligations(self, i: int, notif: int, procedure: str | None) -> bool:
        """Whether contract ``i``'s consultation (its true launch in the demo: notification minus
        its procedure's lag, give or take 20 days) came after the obligations' entry into force."""
        lag = DEMO_LAUNCH_LAG.get(procedure, DEMO_CONCESSION_LAG) if procedure else 60
        jitter = int(self.unit(i, 60) * 41) - 20
        return notif - max(0, lag + jitter) >= OBLIGATIONS_ENTRY

    def next_seq(self, buyer: int, year: int) -> int:
        c = self.counters.get(buyer)
        if c is None or c[0] != year:
            # Numbering does not always start at 1 (consultations without award, other series).
            start = (mix64(self.key0 ^ (buyer << 20) ^ year) % 40) if buyer % 3 else 0
            c = self.counters[buyer] = [year, start]
        c[1] += 1
        return c[1]

    def unit(self, i: int, salt: int) -> float:
        return (mix64(((self.key0 + i) << 8) | salt) >> 11) / float(1 << 53)


def _base_shares(day: int) -> tuple[float, float]:
    """The demo's social and environmental base rates on a notification day (ordinal)."""
    if day <= RAMP_END:
        t = max(0.0, (day - RAMP_START) / (RAMP_END - RAMP_START))
        return (
            SOCIAL_2024 + (SOCIAL_MID_2026 - SOCIAL_2024) * t,
            ENVIRONMENTAL_2024 + (ENVIRONMENTAL_MID_2026 - ENVIRONMENTAL_2024) * t,
        )
    years = (day - RAMP_END) / 365.25
    return (
        min(SOCIAL_CEILING, SOCIAL_MID_2026 + SOCIAL_YEARLY_AFTER * years),
        min(ENVIRONMENTAL_CEILING, ENVIRONMENTAL_MID_2026 + ENVIRONMENTAL_YEARLY_AFTER * years),
    )
