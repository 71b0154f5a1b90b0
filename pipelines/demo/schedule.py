"""The publication schedule of the demo: contracts spread over a weighted working-day calendar,
each one's buyer, dates, modifications and republications drawn from cheap hashes of (seed,
contract number), without any random state, so that contract ``i`` is the same whatever the size
of the rest of the run."""

from __future__ import annotations

import bisect
from datetime import date, timedelta

from pipelines.demo.buyers import buyer_pool
from pipelines.demo.draws import GOLDEN, mix64

# Target shares by notification date: flat in 2024, then a linear rise to mid-2026.
SOCIAL_2024, SOCIAL_MID_2026 = 0.14, 0.22
ENVIRONMENTAL_2024, ENVIRONMENTAL_MID_2026 = 0.18, 0.28
RAMP_START = date(2025, 1, 1).toordinal()
RAMP_END = date(2026, 6, 30).toordinal()
CONCESSION_RATE = 0.02
MODIFICATION_RATE = 0.10
REPUBLICATION_RATE = 0.08


class Schedule:
    """When each contract of a run is notified and published, by whom, and its target shares."""

    def __init__(self, size: int, seed: int, start: date, end: date) -> None:
        self.size, self.seed = size, seed
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
            t = max(0.0, (day.toordinal() - RAMP_START) / (RAMP_END - RAMP_START))
            soc.append(min(0.6, SOCIAL_2024 + (SOCIAL_MID_2026 - SOCIAL_2024) * t))
            env.append(
                min(0.8, ENVIRONMENTAL_2024 + (ENVIRONMENTAL_MID_2026 - ENVIRONMENTAL_2024) * t)
            )
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
        pub = notif + delay
        mods: tuple = ()
        last = pub
        if not is_conc and ((h1 >> 32) & 0xFFFF) < MODIFICATION_RATE * 65536:
            m1 = notif + 15 + (h2 & 0xFFFF) % 166
            p1 = m1 + ((h2 >> 16) & 0xFFFF) % 11
            if ((h1 >> 48) & 0xFFFF) < 0.3 * 65536:
                m2 = m1 + 15 + ((h2 >> 32) & 0xFFFF) % 106
                p2 = m2 + ((h2 >> 48) & 0xFFFF) % 11
                mods = ((m1, p1), (m2, p2))
                last = max(pub, p2)
            else:
                mods = ((m1, p1),)
                last = max(pub, p1)
        repubs: tuple = ()
        if (h3 & 0xFFFF) < REPUBLICATION_RATE * 65536:
            r1 = last + 1 + ((h3 >> 16) & 0xFFFF) % 45
            if ((h3 >> 32) & 0xFFFF) < 0.15 * 65536:
                repubs = (r1, r1 + 1 + ((h3 >> 48) & 0xFFFF) % 45)
            else:
                repubs = (r1,)
        return notif, pub, buyer, is_conc, mods, last, repubs

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
