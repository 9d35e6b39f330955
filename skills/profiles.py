"""Reference task profiles of ROME occupations: built from each fiche's own ROME 4.0 items
(`reference_profiles`, below), with hand-set profiles per domaine as the last resort.

A task profile is the share of working time an occupation spends on each of the five task
categories of Autor, Levy & Murnane (2003) as split by Acemoglu & Autor (2011):

- ``rc``  routine cognitive: recording, checking, calculating by set procedures;
- ``rm``  routine manual: repeated, paced physical operations (machine feeding, packing);
- ``nra`` non-routine analytical: analysing, designing, deciding, diagnosing;
- ``nri`` non-routine interpersonal: advising, selling, teaching, caring, managing people;
- ``nrm`` non-routine manual: handling in changing surroundings (building sites, driving,
  cleaning, bedside care).

The grid (DESIGN.md, step 1) blends a reference profile with the profiles companies report.
The reference of a fiche is read from its classified savoir-faire (`reference_profiles`), or
imported by an analyst. The hand-set profiles below, one per ROME grand domaine (A…N) with
overrides for the domaines professionnels that differ from theirs, served as the reference of
every fiche before the ROME items were loaded (runs tagged `domain_defaults:v0`); they remain
only the prior of a fiche whose domaine and grand domaine have no classified item at all, which
never happens once `import_rome` has loaded the items, and the profile of the occasional test
database without them.

How those numbers were set (they predate the rule that published indices only validate the
method; they are not used when the ROME items are loaded). Each profile is a judgement on
the task content of the typical fiches of the domain, calibrated against the published
ISCO-08 task measures of Mihaylov & Tijdens (2019, « Measuring the routine and non-routine
task content of 427 four-digit ISCO-08 occupations », Tinbergen Institute DP 2019-035):
shares of each occupation's ISCO task statements coded RC / RM / NRA / NRI / NRM. For
instance they give secretaries (4120) and accounting clerks (4311) 100 % RC, cashiers (5230)
88 % RC, food machine operators (8160) 100 % RM, welders (7212) 75 % RM, bricklayers (7112)
and cleaners (9112) 100 % NRM, software developers (2512) 56 % NRA / 44 % NRI, nurses (2221)
55 % NRA / 36 % NRI, home care workers (5322) 55 % NRM / 27 % NRI. Those measures count task
statements, not time, and sit at the extremes; the defaults below pull them towards a mixed
profile, because every job also holds some time of every kind (an accountant talks to
clients, a welder reads a drawing). Every share is at least 0.02 so that the routine task
intensity `ln(RC+RM) − ln(NRA+NRI) − ln(NRM)` stays finite and a Dirichlet draw around a
profile is defined.

These are assumptions, to be refined by imported occupation-level profiles and by the field
data of the company diagnostics (which the shrinkage of step 1 weighs against them).
"""

import numpy as np
import pandas as pd

from skills.classification.contexts import CONTEXT_RULES

from .categories import CATEGORIES

# (rc, rm, nra, nri, nrm) for each of the 14 grands domaines of ROME 4.0.
GRAND_DOMAINE_PROFILES: dict[str, tuple[float, ...]] = {
    # Farming, forestry, green spaces: outdoor handling of living things, some machine work.
    "A": (0.05, 0.20, 0.10, 0.10, 0.55),
    # Crafts (ceramics, jewellery, upholstery): skilled hand work on one-off pieces.
    "B": (0.05, 0.20, 0.20, 0.10, 0.45),
    # Banking, insurance, real estate: files and contracts processed by procedure, plus advice.
    "C": (0.40, 0.02, 0.25, 0.28, 0.05),
    # Trade and retail: selling and serving customers, till and shelf work.
    "D": (0.25, 0.15, 0.10, 0.35, 0.15),
    # Communication, media: writing, designing, producing content.
    "E": (0.15, 0.05, 0.45, 0.25, 0.10),
    # Construction: non-routine handling on changing sites (ISCO 71: mostly NRM).
    "F": (0.05, 0.20, 0.10, 0.05, 0.60),
    # Hospitality, tourism, leisure: serving guests, cooking, housekeeping.
    "G": (0.10, 0.20, 0.05, 0.30, 0.35),
    # Industry: operating and feeding production lines (ISCO 81–82: mostly routine).
    "H": (0.15, 0.50, 0.10, 0.05, 0.20),
    # Installation and maintenance: diagnosis and repair on varied equipment.
    "I": (0.10, 0.20, 0.20, 0.05, 0.45),
    # Health: care at the bedside, diagnosis, patient relations.
    "J": (0.10, 0.05, 0.25, 0.30, 0.30),
    # Personal and community services: care, teaching, social work, cleaning, security.
    "K": (0.10, 0.10, 0.15, 0.40, 0.25),
    # Performing arts: interpretation and technical crews.
    "L": (0.05, 0.05, 0.25, 0.35, 0.30),
    # Business support: administration, accounting, management, IT.
    "M": (0.40, 0.02, 0.33, 0.20, 0.05),
    # Transport and logistics: driving (NRM), warehouse handling (RM), dispatch (RC).
    "N": (0.20, 0.35, 0.05, 0.05, 0.35),
}

# Domaines professionnels whose jobs differ from their grand domaine.
DOMAINE_PROFILES: dict[str, tuple[float, ...]] = {
    # A11 drivers of farm and forestry machines: the machine paces part of the work.
    "A11": (0.05, 0.30, 0.05, 0.03, 0.57),
    # A13 agronomy studies and technical advice.
    "A13": (0.15, 0.02, 0.50, 0.23, 0.10),
    # A15 animal care.
    "A15": (0.05, 0.10, 0.10, 0.15, 0.60),
    # B18 fabric and leather crafts: sewing and cutting repeat more than other crafts.
    "B18": (0.05, 0.30, 0.15, 0.05, 0.45),
    # C11 insurance and C12 banking: advisers, between procedure and sales (ISCO 3321, 3322).
    "C11": (0.35, 0.02, 0.23, 0.35, 0.05),
    "C12": (0.35, 0.02, 0.25, 0.35, 0.03),
    # C13 finance: analysis (ISCO 2413 financial analysts).
    "C13": (0.25, 0.02, 0.55, 0.15, 0.03),
    # C14 back-office of banks and insurers: clerks (ISCO 4312: 100 % RC).
    "C14": (0.65, 0.02, 0.15, 0.15, 0.03),
    # C15 real estate: negotiation and visits.
    "C15": (0.20, 0.02, 0.20, 0.50, 0.08),
    # D11 butchers, bakers, fishmongers: craft food preparation (ISCO 7511, 7512) and sales.
    "D11": (0.08, 0.35, 0.05, 0.20, 0.32),
    # D13 shop managers.
    "D13": (0.20, 0.05, 0.30, 0.40, 0.05),
    # D14 sales forces: relationship selling (ISCO 3322: 75 % NRI).
    "D14": (0.15, 0.02, 0.23, 0.55, 0.05),
    # D15 supermarkets: cashiers (ISCO 5230: 88 % RC) and shelf stackers (9334).
    "D15": (0.35, 0.30, 0.05, 0.20, 0.10),
    # E11 publishing and communication, E14 advertising: writing and campaigns.
    "E11": (0.15, 0.02, 0.50, 0.30, 0.03),
    "E14": (0.10, 0.02, 0.55, 0.30, 0.03),
    # E12 image and sound: production crews handle equipment on location.
    "E12": (0.10, 0.10, 0.45, 0.15, 0.20),
    # E13 printing: press and finishing operators.
    "E13": (0.20, 0.40, 0.15, 0.05, 0.20),
    # F11 design and studies (architects, estimators, surveyors).
    "F11": (0.15, 0.02, 0.60, 0.18, 0.05),
    # F12 site management: planning, coordinating crews and clients.
    "F12": (0.10, 0.05, 0.35, 0.35, 0.15),
    # F13 earth-moving machine drivers.
    "F13": (0.05, 0.40, 0.05, 0.03, 0.47),
    # F16 finishing trades (electricians, plumbers, painters: ISCO 7411, 7126, 7131).
    "F16": (0.05, 0.20, 0.12, 0.05, 0.58),
    # F17 structural work (bricklayers, formworkers: ISCO 7112 100 % NRM).
    "F17": (0.03, 0.25, 0.05, 0.05, 0.62),
    # G13 selling travel: bookings by procedure and customer advice.
    "G13": (0.35, 0.02, 0.20, 0.40, 0.03),
    # G14 managing hotels and restaurants.
    "G14": (0.15, 0.05, 0.35, 0.40, 0.05),
    # G15 room attendants: cleaning (ISCO 9112, 5151).
    "G15": (0.05, 0.30, 0.02, 0.08, 0.55),
    # G16 cooking: recipes repeated at pace, and hand work (ISCO 5120, 9412).
    "G16": (0.10, 0.35, 0.08, 0.07, 0.40),
    # G17 hotel reception: bookings and check-in by procedure (ISCO 4224: 78 % RC).
    "G17": (0.45, 0.02, 0.05, 0.43, 0.05),
    # G18 waiting staff (ISCO 5131: 71 % NRM, 14 % NRI).
    "G18": (0.10, 0.15, 0.02, 0.38, 0.35),
    # H11 technical sales and customer support in industry.
    "H11": (0.15, 0.02, 0.40, 0.38, 0.05),
    # H12 engineering design and R&D (ISCO 2144, 3119: analytical).
    "H12": (0.10, 0.02, 0.70, 0.13, 0.05),
    # H13 health, safety and environment.
    "H13": (0.15, 0.02, 0.50, 0.25, 0.08),
    # H14 methods and production planning (ISCO 4322 production clerks: 57 % RC).
    "H14": (0.25, 0.05, 0.50, 0.15, 0.05),
    # H15 quality and laboratory analyses: sampling and tests by protocol.
    "H15": (0.30, 0.10, 0.40, 0.12, 0.08),
    # H21 food industry lines (ISCO 8160: 100 % RM).
    "H21": (0.10, 0.65, 0.03, 0.02, 0.20),
    # H25 production management.
    "H25": (0.15, 0.10, 0.35, 0.35, 0.05),
    # H29 metalworking (ISCO 7212 welders 75 % RM, 8211 assemblers).
    "H29": (0.15, 0.55, 0.07, 0.03, 0.20),
    # H33 packing and conditioning (ISCO 9321: routine manual).
    "H33": (0.10, 0.72, 0.02, 0.02, 0.14),
    # I11 maintenance supervisors.
    "I11": (0.10, 0.05, 0.40, 0.35, 0.10),
    # I14 household appliances and IT equipment repair.
    "I14": (0.15, 0.10, 0.30, 0.15, 0.30),
    # J11 physicians (ISCO 2211: 44 % NRA, 44 % NRI).
    "J11": (0.10, 0.02, 0.48, 0.35, 0.05),
    # J12 pharmacists and other medico-technical practitioners.
    "J12": (0.20, 0.05, 0.40, 0.30, 0.05),
    # J13 medico-technical staff and hospital service agents: protocols and handling.
    "J13": (0.20, 0.25, 0.15, 0.15, 0.25),
    # J15 nurses and care assistants (ISCO 2221, 5321: bedside care and patient relations).
    "J15": (0.10, 0.05, 0.20, 0.30, 0.35),
    # K11 counselling and psychology.
    "K11": (0.05, 0.02, 0.25, 0.63, 0.05),
    # K12 social work (ISCO 2635, 3412: 58–80 % NRI).
    "K12": (0.10, 0.02, 0.25, 0.58, 0.05),
    # K13 home help and childcare (ISCO 5322: 55 % NRM, 27 % NRI).
    "K13": (0.05, 0.10, 0.05, 0.40, 0.40),
    # K14 public policy, K15 public inspection: files and analysis.
    "K14": (0.25, 0.02, 0.40, 0.28, 0.05),
    "K15": (0.30, 0.02, 0.40, 0.23, 0.05),
    # K16 libraries and archives: cataloguing by rules.
    "K16": (0.35, 0.05, 0.35, 0.20, 0.05),
    # K17 defence, police, rescue: interventions in changing situations.
    "K17": (0.10, 0.05, 0.15, 0.30, 0.40),
    # K19 law.
    "K19": (0.20, 0.02, 0.50, 0.25, 0.03),
    # K21 teaching and training (ISCO 2330, 2341: NRA and NRI).
    "K21": (0.08, 0.02, 0.40, 0.47, 0.03),
    # K22 cleaning (ISCO 9112: 100 % NRM), K23 waste collection and street cleaning (9611).
    "K22": (0.03, 0.35, 0.02, 0.05, 0.55),
    "K23": (0.05, 0.35, 0.03, 0.05, 0.52),
    # K24 research.
    "K24": (0.05, 0.02, 0.75, 0.15, 0.03),
    # K25 private security (ISCO 5414: 100 % NRM); rounds and monitoring.
    "K25": (0.20, 0.05, 0.05, 0.25, 0.45),
    # L15 stage technicians.
    "L15": (0.10, 0.20, 0.25, 0.10, 0.35),
    # M11 purchasing.
    "M11": (0.30, 0.02, 0.35, 0.30, 0.03),
    # M12 accounting and management control (ISCO 4311: 100 % RC; 2411: 55 % NRA).
    "M12": (0.55, 0.02, 0.30, 0.10, 0.03),
    # M13 company directors (ISCO 1120: 62 % NRA, 38 % NRI).
    "M13": (0.05, 0.02, 0.50, 0.40, 0.03),
    # M14 organisation, studies, surveys.
    "M14": (0.15, 0.02, 0.60, 0.20, 0.03),
    # M15 human resources: payroll and administration by rules, and recruitment interviews.
    "M15": (0.35, 0.02, 0.25, 0.35, 0.03),
    # M16 secretarial work and reception (ISCO 4110: 75 % RC; 4120: 100 % RC).
    "M16": (0.65, 0.03, 0.10, 0.18, 0.04),
    # M17 marketing and sales strategy (ISCO 2431: 64 % NRA).
    "M17": (0.12, 0.02, 0.50, 0.33, 0.03),
    # M18 information systems (ISCO 2511, 2512: analytical; 3512 support: 40 % RC).
    "M18": (0.20, 0.02, 0.60, 0.13, 0.05),
    # N11 warehouse and handling: order picking, forklifts, loading (ISCO 9333, 8344, 4321).
    "N11": (0.15, 0.55, 0.02, 0.03, 0.25),
    # N12 organising freight flows (chartering, customs declarations): clerical (ISCO 4323).
    "N12": (0.55, 0.02, 0.20, 0.20, 0.03),
    # N13 logistics managers (ISCO 1324: 64 % NRA).
    "N13": (0.20, 0.05, 0.40, 0.30, 0.05),
    # N41 road drivers (ISCO 8332: 57 % RC for logs and checks, 43 % NRM).
    "N41": (0.10, 0.35, 0.02, 0.08, 0.45),
    # N43 train drivers and on-board staff.
    "N43": (0.15, 0.40, 0.05, 0.10, 0.30),
    # N44 railway station and network staff: traffic control by procedure.
    "N44": (0.35, 0.15, 0.15, 0.15, 0.20),
}

# Where each default comes from, for the methodology page and the occupation page.
DEFAULT_PROFILE_SOURCES: dict[str, str] = {
    **dict.fromkeys(GRAND_DOMAINE_PROFILES, "grand_domaine"),
    **dict.fromkeys(DOMAINE_PROFILES, "domaine"),
}


def profile_key(code: str) -> str:
    """The entry `default_profile` uses for a ROME code: its domaine (`M16`) when it has an
    override, else its grand domaine (`M`). Raises ValueError for a code outside A…N."""
    code = (code or "").strip().upper()
    if code[:3] in DOMAINE_PROFILES:
        return code[:3]
    if code[:1] in GRAND_DOMAINE_PROFILES:
        return code[:1]
    raise ValueError(f"« {code} » n'est pas un code ROME (grand domaine A à N).")


def default_profile(code: str) -> dict[str, float]:
    """The default task profile of a ROME fiche, domaine or grand domaine, as shares summing
    to 1. An unknown code raises ValueError rather than getting a made-up profile: it is
    almost always a code of another system (ISCO, FAP) passed by mistake."""
    key = profile_key(code)
    shares = DOMAINE_PROFILES.get(key) or GRAND_DOMAINE_PROFILES[key]
    total = sum(shares)
    # Renormalise so that float rounding in the table never shows up as a sum of 0.99999….
    return {category: share / total for category, share in zip(CATEGORIES, shares, strict=True)}


# --- Reference profiles from ROME 4.0's own description of each fiche ---------------------

# The source of a fiche's reference profile, recorded per fiche and (with the method's version
# and a digest of the profiles) by each grid run.
ROME_ITEMS = "rome_items"
DOMAIN_DEFAULTS = "domain_defaults"
IMPORTED = "imported"
PROFILE_METHOD_VERSION = {ROME_ITEMS: "v1", DOMAIN_DEFAULTS: "v0", IMPORTED: "v1"}
PROFILE_SOURCE_LABELS = {
    ROME_ITEMS: "compétences de la fiche ROME 4.0",
    DOMAIN_DEFAULTS: "profil par défaut du domaine",
    IMPORTED: "profil importé",
}

DEFAULT_PROFILE_PARAMS = {
    "core_weight": 2.0,
    "emerging_weight": 1.0,
    "other_weight": 1.0,
    "shrinkage": 8.0,
    "context_shift": 0.04,
}


def item_weights(core, params: dict):
    """Weight of each link from its `core` flag ("principale", "emergente" or "")."""
    core = np.asarray(core, dtype=object)
    return np.select(
        [core == "principale", core == "emergente"],
        [params["core_weight"], params["emerging_weight"]],
        default=params["other_weight"],
    ).astype(float)


def reference_profiles(skills, contexts, fiches, *, params: dict | None = None, context_rules=None):
    """The reference task profile of every fiche, from its classified savoir-faire.

    `skills`: one row per (fiche, savoir-faire) link with columns `occupation`, `core`
    ("principale", "emergente" or "") and `rc`…`nrm` (the item's shares, NaN when no rule
    and no person classified it: such a link is no evidence). `contexts`: one row per
    (fiche, context rule) with columns `occupation`, `rule` (contexts without a rule
    dropped beforehand or left with ""). `fiches`: every fiche code to profile.

    For a fiche o with classified links i, each of weight w_i (core, emerging or other item,
    methodology parameters) and shares s_i:

        raw(o)      = Σ w_i s_i / Σ w_i          evidence e(o) = Σ w_i
        prior(d)    = the same pooled over every link of the fiches of o's domaine d
                      (its grand domaine when d has no evidence, the hand-set default of
                      DOMAINE_PROFILES / GRAND_DOMAINE_PROFILES when neither has)
        shrunk(o)   = (e(o)·raw(o) + k·prior(d)) / (e(o) + k)        k = `shrinkage`
        profile(o)  = normalise(shrunk(o) + c · Σ_r δ_r)             c = `context_shift`

    where δ_r are the category weights of each context rule the fiche matches (each rule
    once). A fiche with little evidence thus stays near its domaine; one with thirty core
    items is read from them.

    Returns a frame indexed by `occupation` with `rc`…`nrm` (summing to 1), `evidence`,
    `items` (classified links) and `source` (ROME_ITEMS, or DOMAIN_DEFAULTS for a fiche with
    neither items nor domaine evidence).
    """
    params = {**DEFAULT_PROFILE_PARAMS, **(params or {})}
    rules = CONTEXT_RULES if context_rules is None else context_rules
    cats = list(CATEGORIES)
    fiches = pd.Index(sorted(set(fiches)), name="occupation")

    known = skills.dropna(subset=cats)
    weights = item_weights(known["core"].to_numpy(), params)
    weighted = pd.DataFrame(known[cats].to_numpy() * weights[:, None], columns=cats)
    weighted["evidence"] = weights
    weighted["items"] = 1
    weighted["occupation"] = known["occupation"].to_numpy()
    sums = weighted.groupby("occupation").sum().reindex(fiches, fill_value=0.0)

    def pooled(keys: pd.Series) -> pd.DataFrame:
        totals = sums.groupby(keys.to_numpy()).sum()
        return totals[cats].div(totals["evidence"].where(totals["evidence"] > 0), axis=0)

    codes = pd.Series(fiches, index=fiches)
    by_domaine = pooled(codes.str[:3]).reindex(codes.str[:3]).set_axis(fiches)
    by_grand = pooled(codes.str[:1]).reindex(codes.str[:1]).set_axis(fiches)
    handset = pd.DataFrame([default_profile(code) for code in fiches], index=fiches, columns=cats)
    prior = by_domaine.fillna(by_grand).fillna(handset)
    no_evidence_anywhere = by_domaine.isna().all(axis=1) & by_grand.isna().all(axis=1) & (sums["evidence"] == 0)

    evidence = sums["evidence"].to_numpy()[:, None]
    shrunk = (sums[cats].to_numpy() + params["shrinkage"] * prior.to_numpy()) / (evidence + params["shrinkage"])
    shrunk = np.where(evidence + params["shrinkage"] > 0, shrunk, prior.to_numpy())

    shift = np.zeros_like(shrunk)
    if not contexts.empty and params["context_shift"]:
        matched = contexts[contexts["rule"].isin(list(rules))].drop_duplicates(["occupation", "rule"])
        deltas = pd.DataFrame([[rules[rule][1].get(c, 0.0) for c in cats] for rule in matched["rule"]], columns=cats)
        deltas["occupation"] = matched["occupation"].to_numpy()
        shift = deltas.groupby("occupation").sum().reindex(fiches, fill_value=0.0)[cats].to_numpy()
    profile = shrunk + params["context_shift"] * shift
    profile = profile / profile.sum(axis=1, keepdims=True)

    frame = pd.DataFrame(profile, index=fiches, columns=cats)
    frame["evidence"] = sums["evidence"].to_numpy()
    frame["items"] = sums["items"].to_numpy().astype(int)
    frame["source"] = np.where(no_evidence_anywhere, DOMAIN_DEFAULTS, ROME_ITEMS)
    return frame
