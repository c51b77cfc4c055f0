"""Reliability metrics as pure functions: durations, distributions, trends, on-call load,
knowledge silos, response cost, SLOs and SLAs.

Every figure states its definition (`METRICS`, `DEFINITIONS`), shows its distribution
(`Distribution`: median, p90, max, count, missing; the mean only on request), flags small
samples (fewer than 10 values), and never counts a missing milestone as zero. Gameday and
maintenance incidents are excluded unless asked for.

Modules: `stats` (percentiles), `definitions`, `durations` and `trends` (the shapes of the
figures), `arrays` (many incidents as numpy columns), `figures` (`ArrayMetrics`: every
duration figure, trend, count, recurrence and SLA compliance, computed once, over arrays),
`filters` (which incidents a figure covers), `instants`, `oncall`, `silos`, `response`,
`slo`, `sla`. Only the standard library and numpy (array math) are imported here; no
storage, no I/O. The names below are the supported API; import them from
`afteraction.core.metrics`.
"""

from __future__ import annotations

from afteraction.core.analysis.involvement import Page, pages_from_log
from afteraction.core.metrics.arrays import IncidentArrays, Links, Listed, Values
from afteraction.core.metrics.definitions import DEFINITIONS, METRICS, MetricDefinition
from afteraction.core.metrics.durations import (
    GroupBy,
    IncidentFacts,
    MetricGroup,
    MetricReport,
    OutOfOrder,
)
from afteraction.core.metrics.figures import ArrayMetrics
from afteraction.core.metrics.filters import InsightFilters
from afteraction.core.metrics.instants import from_micros, to_micros
from afteraction.core.metrics.oncall import (
    FatigueWarning,
    Involvement,
    Load,
    LoadRules,
    OffCallWork,
    Thresholds,
    fatigue_warnings,
    is_night,
    is_off_hours,
    off_call_work,
    oncall_load,
    pages_before,
    team_load,
)
from afteraction.core.metrics.response import (
    ResponseCost,
    RoleAssignment,
    count_handoffs,
    incident_breadth,
    person_time_in_incident,
    response_cost,
)
from afteraction.core.metrics.silos import (
    FormerMember,
    Participation,
    RepeatHelper,
    SiloIndex,
    former_members_pulled_in,
    repeat_helpers,
    silo_index,
)
from afteraction.core.metrics.sla import Breach, SLAResult, SLATarget
from afteraction.core.metrics.slo import (
    DEFAULT_BURN_RULES,
    DEFAULT_WINDOWS,
    SLO,
    BurnAlert,
    BurnRule,
    CountSample,
    ErrorBudget,
    IncidentBudget,
    budget_consumed_by_incidents,
    budget_consumed_during,
    burn_alerts,
    burn_rate,
    burn_rates,
    burn_threshold,
    error_budget,
    validate_counts,
)
from afteraction.core.metrics.stats import (
    SMALL_SAMPLE_SIZE,
    Distribution,
    percentile,
    summarize,
)
from afteraction.core.metrics.trends import CountBucket, CountSeries, Recurrence, Trend

__all__ = [
    "DEFAULT_BURN_RULES",
    "DEFAULT_WINDOWS",
    "DEFINITIONS",
    "METRICS",
    "SLO",
    "SMALL_SAMPLE_SIZE",
    "ArrayMetrics",
    "Breach",
    "BurnAlert",
    "BurnRule",
    "CountBucket",
    "CountSample",
    "CountSeries",
    "Distribution",
    "ErrorBudget",
    "FatigueWarning",
    "FormerMember",
    "GroupBy",
    "IncidentArrays",
    "IncidentBudget",
    "IncidentFacts",
    "InsightFilters",
    "Involvement",
    "Links",
    "Listed",
    "Load",
    "LoadRules",
    "MetricDefinition",
    "MetricGroup",
    "MetricReport",
    "OffCallWork",
    "OutOfOrder",
    "Page",
    "Participation",
    "Recurrence",
    "RepeatHelper",
    "ResponseCost",
    "RoleAssignment",
    "SLAResult",
    "SLATarget",
    "SiloIndex",
    "Thresholds",
    "Trend",
    "Values",
    "budget_consumed_by_incidents",
    "budget_consumed_during",
    "burn_alerts",
    "burn_rate",
    "burn_rates",
    "burn_threshold",
    "count_handoffs",
    "error_budget",
    "fatigue_warnings",
    "former_members_pulled_in",
    "from_micros",
    "incident_breadth",
    "is_night",
    "is_off_hours",
    "off_call_work",
    "oncall_load",
    "pages_before",
    "pages_from_log",
    "percentile",
    "person_time_in_incident",
    "repeat_helpers",
    "response_cost",
    "silo_index",
    "summarize",
    "team_load",
    "to_micros",
    "validate_counts",
]
