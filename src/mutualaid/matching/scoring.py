"""How candidates are ranked. Lower scores come first.

A volunteer's score is the distance to the request in kilometres plus penalties, each also in
kilometres, so that a dispatcher can read it as "how far away this volunteer effectively is":

- ``RECENT_TASK_KM`` for each task they took in the last weeks (at most ``RECENT_TASKS_COUNTED``
  count), so that work is shared rather than falling on the same few people;
- ``LANGUAGE_KM`` when they do not speak the requester's own language (they share another);
- ``SKILL_KM`` for each helpful but not required skill they lack.

Volunteers on duty come before everyone else; ties go to the lower volunteer id. Every
penalty is zero or more, so a score is never below the distance: the search relies on that to
stop early once no farther volunteer could rank higher.
"""

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0088

RECENT_TASK_KM = 0.5
RECENT_TASKS_COUNTED = 10
LANGUAGE_KM = 2.0
SKILL_KM = 1.0


def distances_km(
    latitude: float,
    longitude: float,
    latitudes: NDArray[np.float64],
    longitudes: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle (haversine) distances from one point to many, in kilometres."""
    phi = np.radians(latitude)
    phis = np.radians(latitudes)
    half_dphi = (phis - phi) * 0.5
    half_dlambda = np.radians(longitudes - longitude) * 0.5
    a = np.sin(half_dphi) ** 2 + np.cos(phi) * np.cos(phis) * np.sin(half_dlambda) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def scores(
    distance: NDArray[np.float64],
    recent_tasks: NDArray[np.integer],
    lacks_language: NDArray[np.bool_],
    missing_skills: NDArray[np.integer],
) -> NDArray[np.float64]:
    return (
        distance
        + RECENT_TASK_KM * np.minimum(recent_tasks, RECENT_TASKS_COUNTED)
        + LANGUAGE_KM * lacks_language
        + SKILL_KM * missing_skills
    )
