"""What the matching engine reads and answers: plain values, no database."""

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Need:
    """One request to match, reduced to what matching needs.

    Bitmasks are the caller's: skill, language and availability bits mean whatever the caller
    numbered them as, as long as the volunteers in the index use the same numbering.
    """

    id: int
    latitude: float
    longitude: float
    radius_km: float
    skills: int = 0
    """Every one of these bits is required."""
    languages: int = 0
    """At least one of these must be shared; 0 means any language will do."""
    preferred_language: int = 0
    """A volunteer speaking this ranks higher (the requester's own language)."""
    preferred_skills: int = 0
    """Each of these a volunteer lacks ranks them lower."""
    window: int = 0
    """Availability bits: the volunteer must be free in at least one; 0 means any time."""

    def __post_init__(self) -> None:
        if not (abs(self.latitude) <= 90 and abs(self.longitude) <= 180):
            raise ValueError("A need's latitude must lie in [-90, 90] and longitude in [-180, 180]")
        if not self.radius_km >= 0:
            raise ValueError("A need's radius must not be negative")


class Reason(StrEnum):
    """Why a need was left without a volunteer, most fundamental first."""

    NOBODY_IN_RANGE = "nobody_in_range"
    NO_SKILL_OR_LANGUAGE = "no_skill_or_language"
    NOT_AVAILABLE = "not_available"
    AT_CAPACITY = "at_capacity"


@dataclass(frozen=True, slots=True)
class Candidate:
    volunteer_id: int
    distance_km: float
    score: float
    on_duty: bool
    recent_tasks: int
    speaks_preferred_language: bool
    missing_preferred_skills: int


@dataclass(frozen=True, slots=True)
class Match:
    need_id: int
    volunteer_id: int
    distance_km: float


@dataclass(slots=True)
class AssignResult:
    matches: list[Match] = field(default_factory=list)
    leftovers: dict[int, Reason] = field(default_factory=dict)

    @property
    def served(self) -> int:
        return len(self.matches)

    @property
    def total_distance_km(self) -> float:
        return float(sum(match.distance_km for match in self.matches))
