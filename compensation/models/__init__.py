"""The compensation app's tables: pay (`pay.py`: rate sheets, work records, runs and their lines)
and residuals (`residuals.py`: residual schedules, exhibitions, writing credits, residual lines)."""

from .pay import (
    CompensationLine,
    CompensationRun,
    EngagementTerms,
    EvidenceTier,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    RunPosting,
    RunStatus,
    Timecard,
    WgaDelivery,
    parameter_value_field,
)
from .residuals import (
    Exhibition,
    ResidualLine,
    ResidualPosting,
    ResidualRun,
    ResidualSchedule,
    WritingCredit,
)

__all__ = [
    "CompensationLine",
    "CompensationRun",
    "EngagementTerms",
    "EvidenceTier",
    "Exhibition",
    "HoldResolution",
    "RateSheet",
    "RateSheetValue",
    "ResidualLine",
    "ResidualPosting",
    "ResidualRun",
    "ResidualSchedule",
    "RunPosting",
    "RunStatus",
    "Timecard",
    "WgaDelivery",
    "WritingCredit",
    "parameter_value_field",
]
