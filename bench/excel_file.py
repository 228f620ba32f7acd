#!/usr/bin/env python3
"""A large incidents file as Swedish Excel saves "CSV (semikolonavgränsad)":
Windows-1252, semicolons, decimal commas, CRLF, Swedish column and category
names, local times without an offset, place names with å/ä/ö and no id
column. `--plain` writes the same rows as comma-separated UTF-8 with
Trygg's own category names and decimal points (what the importer read
before it read Excel files), so the two can be timed against each other.

    python3 bench/excel_file.py 100000 > kommun-100k.csv
    python3 bench/excel_file.py 100000 --plain > kommun-100k-plain.csv
    trygg import --kind incidents --format csv kommun-100k.csv
"""
import argparse
import random
import sys

CATEGORIES = [
    ("Stöld", "theft"), ("Inbrott", "burglary"), ("Skadegörelse", "vandalism"),
    ("Misshandel", "assault"), ("Narkotikabrott", "drugs"), ("Bedrägeri", "fraud"),
    ("Bilstöld", "vehicle_theft"), ("Rån", "robbery"), ("Ordningsstörning", "disturbance"),
    ("Trafikolycka", "traffic"),
]
PLACES = ["Ågatan", "Stora torget", "Trädgårdstorget", "Skäggetorps centrum", "Hunnebergsgatan",
          "Järntorget", "Ryds centrum", "Lambohov", "Östra Valla", "Tannefors"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rows", type=int)
    p.add_argument("--plain", action="store_true")
    p.add_argument("--seed", type=int, default=12)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    out = sys.stdout.buffer
    sep, nl, enc = (",", "\n", "utf-8") if a.plain else (";", "\r\n", "cp1252")
    header = ["lon", "lat", "tid", "kategori", "plats"] if a.plain else ["Östlig", "Nordlig", "Datum", "Brottstyp", "Plats"]
    out.write((sep.join(header) + nl).encode(enc))
    for _ in range(a.rows):
        lon = 15.62 + rnd.gauss(0, 0.03)
        lat = 58.41 + rnd.gauss(0, 0.015)
        day = rnd.randrange(1, 29)
        month = rnd.randrange(1, 13)
        t = f"2024-{month:02d}-{day:02d} {rnd.randrange(24)}:{rnd.randrange(60):02d}"
        sv, en = rnd.choice(CATEGORIES)
        place = rnd.choice(PLACES)
        if a.plain:
            row = [f"{lon:.6f}", f"{lat:.6f}", t, en, place]
        else:
            row = [f"{lon:.6f}".replace(".", ","), f"{lat:.6f}".replace(".", ","), t, sv, place]
        out.write((sep.join(row) + nl).encode(enc))


if __name__ == "__main__":
    main()
