"""The matching engine: which volunteers fit a request, and who takes which when many come at once.

Plain Python on NumPy and SciPy with no Django import, so it can be tested, benchmarked and
reasoned about on its own. The product feeds it from the database (`mutualaid.dispatch`).

- `VolunteerIndex` holds every volunteer as columns of arrays, with incremental upsert and
  remove, and answers `candidates(need, k)`: the k best eligible volunteers, ranked by `score`.
- `assign(needs, index)` serves as many needs as possible, then keeps total distance least,
  within each volunteer's free capacity, and says for each need left over why.
"""

from mutualaid.matching.assign import assign
from mutualaid.matching.index import VolunteerIndex
from mutualaid.matching.scoring import (
    LANGUAGE_KM,
    RECENT_TASK_KM,
    RECENT_TASKS_COUNTED,
    SKILL_KM,
)
from mutualaid.matching.types import AssignResult, Candidate, Match, Need, Reason

__all__ = [
    "LANGUAGE_KM",
    "RECENT_TASKS_COUNTED",
    "RECENT_TASK_KM",
    "SKILL_KM",
    "AssignResult",
    "Candidate",
    "Match",
    "Need",
    "Reason",
    "VolunteerIndex",
    "assign",
]
