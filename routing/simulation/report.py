"""The simulator's report: service level, speed of answer, occupancy, abandonment, with 95 % confidence
half-widths from batch means (consecutive calls split into batches, one figure per batch, Student's t
over the batch figures)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Two-sided 95 % Student's t quantiles by degrees of freedom.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 12: 2.179, 15: 2.131, 19: 2.093, 20: 2.086, 24: 2.064, 29: 2.045, 30: 2.042,
        39: 2.023, 40: 2.021, 49: 2.010, 60: 2.000, 99: 1.984, 120: 1.980}

ABANDONED = -1.0


def t95(degrees: int) -> float:
    """The 95 % two-sided t quantile (the nearest tabulated value at or below ``degrees``)."""
    if degrees <= 0:
        return math.inf
    best = max(d for d in _T95 if d <= degrees)
    return _T95[best] if degrees <= 120 else 1.96


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over batches and its 95 % confidence half-width."""

    value: float
    half_width: float

    @classmethod
    def of(cls, batch_values: Sequence[float]) -> Estimate:
        count = len(batch_values)
        mean = sum(batch_values) / count
        if count < 2:
            return cls(mean, math.inf)
        variance = sum((v - mean) ** 2 for v in batch_values) / (count - 1)
        return cls(mean, t95(count - 1) * math.sqrt(variance / count))


@dataclass(frozen=True, slots=True)
class Report:
    """Figures over the measured calls (warm-up excluded).

    ``service_level`` is the share of offered calls answered within ``threshold`` seconds (abandoned
    calls count as offered and not answered); ``asa`` is the mean wait of answered calls in seconds;
    ``occupancy`` is the share of staffed capacity busy between the first and last measured arrival."""

    calls: int
    answered: int
    abandoned: int
    threshold: float
    service_level: Estimate
    asa: Estimate
    abandonment: Estimate
    occupancy: float
    simulated_seconds: float

    def lines(self) -> list[str]:
        return [
            f"calls measured        {self.calls:,}",
            f"answered within {self.threshold:g} s  {self.service_level.value:7.2%} "
            f"± {self.service_level.half_width:.2%} (95 %)",
            f"average speed of answer {self.asa.value:7.1f} s ± {self.asa.half_width:.1f} s",
            f"abandoned             {self.abandonment.value:7.2%} ± {self.abandonment.half_width:.2%}",
            f"occupancy             {self.occupancy:7.2%}",
            f"simulated time        {self.simulated_seconds / 3600:,.1f} h",
        ]


def summarise(waits: Sequence[float], threshold: float, batches: int, busy_seconds: float,
              staffed_seconds: float, simulated_seconds: float) -> Report:
    """Build a report from the wait of each measured call in arrival order (:data:`ABANDONED` for
    abandoned calls)."""
    calls = len(waits)
    batches = max(1, min(batches, calls))
    size = calls // batches
    levels, speeds, abandonments = [], [], []
    answered = abandoned = 0
    for index in range(batches):
        batch = waits[index * size:(index + 1) * size]
        within = lost = 0
        total_wait = 0.0
        for wait in batch:
            if wait == ABANDONED:
                lost += 1
            else:
                total_wait += wait
                if wait <= threshold:
                    within += 1
        levels.append(within / len(batch))
        speeds.append(total_wait / max(1, len(batch) - lost))
        abandonments.append(lost / len(batch))
    for wait in waits:
        if wait == ABANDONED:
            abandoned += 1
        else:
            answered += 1
    return Report(calls, answered, abandoned, threshold, Estimate.of(levels), Estimate.of(speeds),
                  Estimate.of(abandonments), busy_seconds / staffed_seconds if staffed_seconds else 0.0,
                  simulated_seconds)
