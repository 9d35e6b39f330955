"""Rebuild this folder from the full official files (kept outside the repository).

    python reference/build_subset.py /path/to/shared/data

Every row written here is a row of the official file, serialised the way that file is
(same encoding, separators, quoting and line endings), so the project's importers read the
subset and the full files alike. Only the outlines are derived: the départements' vertices
are thinned, the communes' coordinates rounded, to keep the files small.
"""

import csv
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGION = "32"
DEPARTEMENTS = ("02", "59", "60", "62", "80")
# A few neighbours, so that the COG importer's filter on the region is exercised.
OTHER_DEPARTEMENTS = ("08", "51", "75", "76", "77", "95")
COMMUNES_PER_DEPARTEMENT = 16


def _codes(text: str) -> list[str]:
    return text.split()


# Current regions (the file also lists overseas collectivities: 975, 977, …).
REGIONS = ("01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75",
           "76", "84", "93", "94")

# Common jobs of every grand domaine; a v4 fiche is kept only with its v3 parent.
FICHES = _codes("""
A1101 A1102 A1203 A1414 A1416
B1301
C1102 C1206 C1401
D1101 D1102 D1106 D1214 D1301 D1401 D1402 D1403 D1501 D1505 D1507
E1205
F1201 F1503 F1602 F1603 F1606 F1703
G1602 G1603 G1605 G1609 G1703 G1803
H1404 H1502 H2102 H2105 H2206 H2402 H2909 H2913 H3201 H3302
I1304 I1401 I1604
J1102 J1202 J1301 J1501 J1506
K1207 K1302 K1303 K1304 K2106 K2111 K2204 K2304 K2503
L1203
M1203 M1301 M1302 M1501 M1507 M1601 M1602 M1604 M1605 M1607 M1705 M1801 M1802 M1805
N1101 N1103 N1105 N1110 N1301 N4101 N4103 N4105
""")
APPELLATIONS_PER_FICHE = 3
# Blocs of a fiche whose links name items (unix_composition_bloc: 5 « Compétences »,
# 6 « Contextes de travail »); blocs 1 and 2 name the fiche and its appellations.
ITEM_BLOCS = ("5", "6")

# Sous-classes frequent among the establishments of Hauts-de-France.
SOUS_CLASSES = _codes("""
01.11Z 01.50Z 10.13A 10.71C 10.89Z 13.92Z 14.13Z 16.23Z 17.21A 22.22Z 22.29A 24.10Z
25.11Z 25.62B 28.29B 29.10Z 29.32Z 30.20Z 31.09B 33.12Z 35.11Z 38.11Z 38.32Z 41.20A
41.20B 42.11Z 43.21A 43.22A 43.22B 43.31Z 43.32A 43.34Z 43.91B 43.99C 45.11Z 45.20A
46.39B 46.69B 46.90Z 47.11B 47.11D 47.11F 47.24Z 47.71Z 47.73Z 47.91B 49.31Z 49.32Z
49.41A 49.41B 52.10B 52.29A 53.20Z 55.10Z 56.10A 56.10C 56.30Z 62.01Z 62.02A 63.11Z
64.19Z 65.12Z 66.22Z 68.20A 68.31Z 69.10Z 69.20Z 70.10Z 70.22Z 71.12B 73.11Z 74.10Z
78.20Z 80.10Z 81.21Z 81.30Z 82.11Z 82.20Z 84.11Z 85.31Z 85.59A 86.10Z 86.21Z 86.90D
87.10A 88.10A 88.91A 94.99Z 96.02A
""")

GEOMETRY_STEP = 5  # keep one vertex in five
GEOMETRY_MIN_RING = 40  # smaller rings (enclaves, islands) are kept whole
# Commune outlines: 4 decimals of a degree is about 10 m, far below what a map or a centre
# used for distances in kilometres needs.
COMMUNE_DECIMALS = 4


def compact_json_lines(items):
    """regions.json and departements.json: one compact object per line."""
    body = ",\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in items)
    return f"[\n{body}\n]\n"


def build_cog(src: Path, dst: Path):
    dst.mkdir(parents=True, exist_ok=True)
    regions = json.loads((src / "regions.json").read_text("utf-8"))
    (dst / "regions.json").write_text(
        compact_json_lines([r for r in regions if r["code"] in REGIONS]), "utf-8"
    )
    departements = json.loads((src / "departements.json").read_text("utf-8"))
    kept_deps = set(DEPARTEMENTS + OTHER_DEPARTEMENTS)
    (dst / "departements.json").write_text(
        compact_json_lines([d for d in departements if d["code"] in kept_deps]), "utf-8"
    )

    communes = json.loads((src / "communes-hauts-de-france.json").read_text("utf-8"))
    current = [c for c in communes if c["type"] == "commune-actuelle"]
    kept = set()
    for dep in DEPARTEMENTS:
        largest = sorted(
            (c for c in current if c["departement"] == dep), key=lambda c: -c["population"]
        )
        kept.update(c["code"] for c in largest[:COMMUNES_PER_DEPARTEMENT])
    # Keep the file's order (by code), only the rows.
    (dst / "communes-hauts-de-france.json").write_bytes(
        json.dumps([c for c in communes if c["code"] in kept and c["type"] == "commune-actuelle"],
                   ensure_ascii=False).encode("utf-8")
    )

    epcis = json.loads((src / "epci-hauts-de-france.json").read_text("utf-8"))
    kept_epcis = []
    for epci in epcis:
        members = [m for m in epci["membres"] if m["code"] in kept]
        if members:
            kept_epcis.append({**epci, "membres": members})
    (dst / "epci-hauts-de-france.json").write_bytes(
        json.dumps(kept_epcis, ensure_ascii=False).encode("utf-8")
    )
    return len(kept), len(kept_epcis)


def thin_ring(ring):
    if len(ring) < GEOMETRY_MIN_RING:
        return ring
    thinned = ring[:-1:GEOMETRY_STEP]
    return [*thinned, thinned[0]]


def build_geometry(src: Path, dst: Path):
    dst.mkdir(parents=True, exist_ok=True)
    name = "departements-hauts-de-france.geojson"
    data = json.loads((src / name).read_text("utf-8"))
    for feature in data["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            geometry["coordinates"] = [thin_ring(r) for r in geometry["coordinates"]]
        else:
            geometry["coordinates"] = [[thin_ring(r) for r in p] for p in geometry["coordinates"]]
    (dst / name).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")


def round_ring(ring):
    """Coordinates rounded to COMMUNE_DECIMALS, the vertices that then repeat dropped; the
    ring stays closed and keeps at least four positions."""
    rounded = []
    for lon, lat in ((round(x, COMMUNE_DECIMALS), round(y, COMMUNE_DECIMALS)) for x, y, *_ in ring):
        if not rounded or rounded[-1] != [lon, lat]:
            rounded.append([lon, lat])
    if rounded[0] != rounded[-1]:
        rounded.append(rounded[0])
    return rounded if len(rounded) >= 4 else [[round(x, 6), round(y, 6)] for x, y, *_ in ring]


def build_communes_geometry(src: Path, dst: Path, cog: Path):
    """The outlines of the subset's communes (those of `cog`'s communes file), rounded."""
    dst.mkdir(parents=True, exist_ok=True)
    name = "communes-hauts-de-france.geojson"
    kept = {c["code"] for c in json.loads((cog / "communes-hauts-de-france.json").read_text("utf-8"))}
    data = json.loads((src / name).read_text("utf-8"))
    features = [f for f in data["features"] if f["properties"]["code"] in kept]
    for feature in features:
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            geometry["coordinates"] = [round_ring(r) for r in geometry["coordinates"]]
        else:
            geometry["coordinates"] = [[round_ring(r) for r in p] for p in geometry["coordinates"]]
    missing = kept - {f["properties"]["code"] for f in features}
    (dst / name).write_text(
        json.dumps({**data, "features": features}, ensure_ascii=False, separators=(",", ":")), "utf-8"
    )
    return len(features), sorted(missing)


def build_naf(src: Path, dst: Path):
    dst.mkdir(parents=True, exist_ok=True)
    name = "int_courts_naf_rev_2.csv"
    text = (src / name).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    wanted = set(SOUS_CLASSES)
    for code in SOUS_CLASSES:  # their classe and groupe
        wanted.update({code[:5], code[:4]})
    kept = [rows[0]]
    for row in rows[1:]:
        code = row[0]
        if code.startswith("SECTION ") or len(code) == 2 or code in wanted:
            kept.append(row)
    missing = set(SOUS_CLASSES) - {r[0] for r in kept}
    assert not missing, missing
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(kept)
    (dst / name).write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))


def filter_lines(src: Path, dst: Path, keep):
    """The ROME files hold one record per line, every field quoted: filter lines as they are."""
    lines = src.read_text("utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    kept = [lines[0]]
    for line in lines[1:]:
        row = dict(zip(header, next(csv.reader([line])), strict=True))
        if keep(row):
            kept.append(line)
    dst.write_text("".join(kept), "utf-8")
    return len(kept) - 1


def build_rome(src: Path, dst: Path):
    dst.mkdir(parents=True, exist_ok=True)
    fiches = set(FICHES)
    v = "v460_utf8.csv"
    rows = list(csv.DictReader((src / f"unix_referentiel_code_rome_{v}").open(encoding="utf-8")))
    by_code = {r["code_rome"]: r for r in rows}
    orphans = {c for c in fiches if by_code[c]["code_rome_parent"] not in fiches}
    assert not orphans, orphans
    filter_lines(src / f"unix_grand_domaine_{v}", dst / f"unix_grand_domaine_{v}", lambda r: True)
    domaines = {c[:3] for c in fiches}
    filter_lines(
        src / f"unix_domaine_professionnel_{v}",
        dst / f"unix_domaine_professionnel_{v}",
        lambda r: r["code_domaine_professionnel"] in domaines,
    )
    filter_lines(
        src / f"unix_referentiel_code_rome_{v}",
        dst / f"unix_referentiel_code_rome_{v}",
        lambda r: r["code_rome"] in fiches,
    )
    per_fiche: dict[str, int] = {}

    def appellation(row):
        code = row["code_rome"]
        if code not in fiches or row["peu_usite"] == "O":
            return False
        per_fiche[code] = per_fiche.get(code, 0) + 1
        return per_fiche[code] <= APPELLATIONS_PER_FICHE

    filter_lines(
        src / f"unix_referentiel_appellation_{v}", dst / f"unix_referentiel_appellation_{v}",
        appellation,
    )
    filter_lines(
        src / f"unix_rubrique_mobilite_{v}",
        dst / f"unix_rubrique_mobilite_{v}",
        lambda r: r["code_rome"] in fiches and r["code_rome_cible"] in fiches,
    )
    filter_lines(
        src / f"unix_arborescence_secteur_naf_{v}",
        dst / f"unix_arborescence_secteur_naf_{v}",
        lambda r: r["code_rome"] in fiches,
    )
    return build_rome_items(src, dst, fiches)


def build_rome_items(src: Path, dst: Path, fiches: set[str]):
    """The items that describe the fiches: their links of blocs 5 (compétences) and 6
    (contextes de travail), the coherence rows of those pairs, and the items and work
    contexts they name. Returns the number of links and of items kept."""
    v = "v460_utf8.csv"
    pairs: set[tuple[str, str]] = set()

    def item_link(row):
        if row["code_rome"] in fiches and row["code_compo_bloc"] in ITEM_BLOCS:
            pairs.add((row["code_rome"], row["code_ogr"]))
            return True
        return False

    links = filter_lines(
        src / f"unix_liens_rome_referentiels_{v}", dst / f"unix_liens_rome_referentiels_{v}", item_link
    )
    items = {item for _fiche, item in pairs}
    filter_lines(
        src / f"unix_coherence_item_{v}",
        dst / f"unix_coherence_item_{v}",
        lambda r: (r["code_rome"], r["code_ogr"]) in pairs,
    )
    filter_lines(src / f"unix_item_{v}", dst / f"unix_item_{v}", lambda r: r["code_ogr"] in items)
    filter_lines(
        src / f"unix_referentiel_contexte_travail_{v}",
        dst / f"unix_referentiel_contexte_travail_{v}",
        lambda r: r["code_ogr"] in items,
    )
    return links, len(items)


def main(shared: Path):
    communes, epcis = build_cog(shared / "cog-decoupage-administratif",
                                HERE / "cog-decoupage-administratif")
    build_geometry(shared / "france-geojson", HERE / "france-geojson")
    outlines, without = build_communes_geometry(
        shared / "france-geojson", HERE / "france-geojson", HERE / "cog-decoupage-administratif"
    )
    build_naf(shared / "naf-rev2", HERE / "naf-rev2")
    links, items = build_rome(shared / "rome4-francetravail", HERE / "rome4-francetravail")
    print(f"{communes} communes, {epcis} EPCI, {len(SOUS_CLASSES)} sous-classes, "
          f"{len(FICHES)} fiches, {links} liens vers {items} éléments du ROME, {outlines} contours de communes"
          + (f" (sans contour : {', '.join(without)})" if without else ""))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
