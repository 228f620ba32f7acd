#!/usr/bin/env python3
"""Seeded synthetic incidents "clustered like a city", the recipe the peers
were measured on (shared/bench/README.md): 40 Gaussian hot spots around
58.41 N 15.62 E, 15 % uniform background, 24 months with an upward trend,
evening-weighted hours, ten categories.

    python3 bench/generate.py 1000000 > incidents-1m.csv
"""
import math
import random
import sys
from datetime import datetime, timedelta, timezone

LON0, LAT0 = 15.62, 58.41
BOX = (15.49, 58.34, 15.75, 58.48)
HOUR_W = [5, 4, 3, 2, 2, 2, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 7, 7, 8, 8, 7, 6]
CATS = ["theft", "burglary", "vandalism", "assault", "drugs", "fraud", "vehicle_theft", "robbery", "disturbance", "traffic"]
CAT_W = [24, 9, 13, 8, 10, 7, 6, 3, 12, 8]
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
DAYS = 731
M_LAT = 110_540.0
M_LON = 111_320.0 * math.cos(math.radians(LAT0))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(20240101)
    spots = []
    for _ in range(40):
        cx = LON0 + rng.gauss(0, 3000) / M_LON
        cy = LAT0 + rng.gauss(0, 3000) / M_LAT
        spots.append((cx, cy, rng.uniform(80, 700)))
    weights = [1 / (rank + 1) ** 0.8 for rank in range(40)]
    out = sys.stdout
    out.write("id,lon,lat,ts,category\n")
    i = 0
    while i < n:
        if rng.random() < 0.15:
            x, y = rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])
        else:
            cx, cy, sigma = rng.choices(spots, weights)[0]
            x = cx + rng.gauss(0, sigma) / M_LON
            y = cy + rng.gauss(0, sigma) / M_LAT
        if not (BOX[0] <= x <= BOX[2] and BOX[1] <= y <= BOX[3]):
            continue
        while True:
            day = rng.random() * DAYS
            if rng.random() * 1.3 < 1 + 0.3 * day / DAYS:
                break
        hour = rng.choices(range(24), HOUR_W)[0]
        t = START + timedelta(days=int(day), hours=hour, seconds=rng.randrange(3600))
        out.write(f"b{i},{x:.6f},{y:.6f},{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{rng.choices(CATS, CAT_W)[0]}\n")
        i += 1


if __name__ == "__main__":
    main()
