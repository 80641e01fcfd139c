"""Geography helpers: rough locations and distances, with no exact position ever kept."""

import math
from decimal import ROUND_HALF_UP, Decimal

EARTH_RADIUS_KM = 6371.0088

# Two decimal places of a degree of latitude are about 1.1 km: "roughly where", never "where".
ROUGH_PLACES = Decimal("0.01")


def round_to_rough(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(ROUGH_PLACES, rounding=ROUND_HALF_UP)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
