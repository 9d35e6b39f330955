"""Reads of the skills app that feed computations: the classified items of every fiche and the
reference task profiles built from them (DESIGN.md, step 1)."""

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Case, CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from skills.models import Appellation, ItemOverride, Occupation, OccupationItem, OccupationTaskProfile, RomeItem
from skills.profiles import (
    CATEGORIES,
    DOMAIN_DEFAULTS,
    IMPORTED,
    PROFILE_METHOD_VERSION,
    ROME_ITEMS,
    default_profile,
    reference_profiles,
)
from skills.text import accent_insensitive_pattern, fold

LINK_COLUMNS = ["occupation", "item", "kind", "core", "label", "rule", *CATEGORIES, "overridden"]


def item_overrides_frame() -> pd.DataFrame:
    """The decision in force for each overridden item (its newest override row): `item`,
    `rc`…`nrm` (NaN when the decision hands the item back to the lexicon)."""
    rows = ItemOverride.objects.order_by("item_id", "-created_at", "-pk").values_list("item_id", *CATEGORIES)
    frame = pd.DataFrame.from_records(rows, columns=["item", *CATEGORIES])
    return frame.drop_duplicates("item").set_index("item")


def item_links_frame(occupations=None, *, labels: bool = True) -> pd.DataFrame:
    """Every (fiche, item) link with the item's classification in force: a person's override
    where one applies, else the lexicon's. Columns: LINK_COLUMNS (`overridden` True where a
    person's shares replaced the lexicon's). `occupations`, when given, limits the fiches;
    `labels=False` leaves `label` empty, for computations over the whole ROME that never show
    an item (its 100,000 links' labels are most of what the query would carry)."""
    links = OccupationItem.objects.all()
    if occupations is not None:
        links = links.filter(occupation_id__in=list(occupations))
    label = "item__label" if labels else Value("", output_field=CharField())
    fields = ["occupation_id", "item_id", "item__kind", "core", label, "item__rule"]
    fields += [f"item__{c}" for c in CATEGORIES]
    frame = pd.DataFrame.from_records(links.order_by().values_list(*fields), columns=LINK_COLUMNS[:-1])
    frame[list(CATEGORIES)] = frame[list(CATEGORIES)].astype(float)
    overrides = item_overrides_frame()
    applied = overrides.dropna(subset=list(CATEGORIES))
    frame["overridden"] = frame["item"].isin(applied.index)
    if frame["overridden"].any():
        rows = frame["overridden"].to_numpy()
        frame.loc[rows, list(CATEGORIES)] = applied.loc[frame.loc[rows, "item"], list(CATEGORIES)].to_numpy()
    return frame


def reference_profiles_frame(params: dict | None = None) -> pd.DataFrame:
    """The reference task profile of every fiche, indexed by ROME code: `rc`…`nrm` (fractions
    of 1), `evidence`, `items` and `source`.

    An imported profile (`import_task_profiles`) takes precedence; otherwise the profile is
    built from the fiche's classified ROME items (skills.profiles.reference_profiles with the
    methodology's `params`); where no item of the ROME is loaded at all, the hand-set
    default of the fiche's domaine.
    """
    fiches = list(Occupation.objects.fiches().values_list("code", flat=True))
    links = item_links_frame(labels=False)
    if links.empty:
        frame = pd.DataFrame([default_profile(code) for code in fiches], index=fiches, columns=list(CATEGORIES))
        frame["evidence"], frame["items"], frame["source"] = 0.0, 0, DOMAIN_DEFAULTS
    else:
        skills = links[links["kind"] == RomeItem.Kind.SKILL]
        contexts = links.loc[(links["kind"] == RomeItem.Kind.CONTEXT) & (links["rule"] != ""), ["occupation", "rule"]]
        frame = reference_profiles(skills, contexts, fiches, params=params)
    imported = pd.DataFrame.from_records(
        OccupationTaskProfile.objects.values_list("occupation_id", *CATEGORIES), columns=["occupation", *CATEGORIES]
    ).set_index("occupation")
    rows = imported.index.intersection(frame.index)
    if len(rows):
        frame.loc[rows, list(CATEGORIES)] = imported.loc[rows, list(CATEGORIES)].to_numpy(dtype=float)
        frame.loc[rows, "source"] = IMPORTED
    frame.index.name = "occupation"
    return frame


def profile_source_tag(frame: pd.DataFrame) -> str:
    """What a run records of the profiles it used: the main source, its method version, the
    number of imported profiles, and a digest of the shares (two runs with the same tag used
    the same profiles). E.g. `rome_items:v1+3 importés:5f1c2a9b`."""
    sources = frame["source"].value_counts()
    main = ROME_ITEMS if sources.get(ROME_ITEMS, 0) else DOMAIN_DEFAULTS
    tag = f"{main}:{PROFILE_METHOD_VERSION[main]}"
    if sources.get(IMPORTED, 0):
        tag += f"+{sources[IMPORTED]} importés"
    shares = np.round(frame.sort_index()[list(CATEGORIES)].to_numpy(dtype=float), 6)
    digest = hashlib.sha256(shares.tobytes() + "|".join(frame.index.sort_values()).encode()).hexdigest()[:8]
    return f"{tag}:{digest}"


# --- The classification of savoir-faire as people read it: the method page, the corrections ---

# Where a savoir-faire stands: a person's shares in force win over the lexicon; otherwise the
# lexicon either matched a task rule, matched a rule of conduct (no shares), or nothing.
CLASSIFIED, OVERRIDDEN, NON_TASK, UNMATCHED = "classe", "corrige", "hors_tache", "non_classe"
ITEM_STATUS_LABELS = {
    CLASSIFIED: "Classé par le lexique",
    OVERRIDDEN: "Corrigé par une personne",
    NON_TASK: "Hors tâche",
    UNMATCHED: "Non classé",
}
# The rule the lexicon writes for an item that opens with a verb of conduct (skills/classification).
NON_TASK_RULE_PREFIX = "hors_tache:"


def with_item_status(items: QuerySet) -> QuerySet:
    """`items` (RomeItem) annotated with `status` (a key of ITEM_STATUS_LABELS) and `links`
    (number of fiches the item is linked to). An item is corrected when its newest override
    carries shares, as `item_links_frame` applies them; one handed back to the lexicon is read
    from its rule again."""
    newest = ItemOverride.objects.filter(item=OuterRef("pk")).order_by("-created_at", "-pk")
    links = (
        OccupationItem.objects.filter(item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return items.annotate(
        override_rc=Subquery(newest.values("rc")[:1]),
        links=Coalesce(Subquery(links, output_field=IntegerField()), 0),
        status=Case(
            When(override_rc__isnull=False, then=Value(OVERRIDDEN)),
            When(rule="", then=Value(UNMATCHED)),
            When(rule__startswith=NON_TASK_RULE_PREFIX, then=Value(NON_TASK)),
            default=Value(CLASSIFIED),
            output_field=CharField(),
        ),
    )


def skill_items(*, query: str = "", status: str = "") -> QuerySet:
    """Savoir-faire items for the corrections page, most-linked first: `query` searches the
    label whatever its accents and case, `status` keeps one ITEM_STATUS_LABELS key."""
    items = with_item_status(RomeItem.objects.filter(kind=RomeItem.Kind.SKILL))
    if query.strip():
        items = items.filter(label__iregex=accent_insensitive_pattern(query.strip()))
    if status in ITEM_STATUS_LABELS:
        items = items.filter(status=status)
    return items.order_by("-links", "label", "code")


def item_classification_counts() -> pd.DataFrame:
    """How the savoir-faire of the ROME are classified, in one query: indexed by status (every
    key of ITEM_STATUS_LABELS, in its order), columns `items` (savoir-faire), `links` (their
    fiche–item links) and `link_share` (fraction of all savoir-faire links, 0 when none)."""
    rows = (
        with_item_status(RomeItem.objects.filter(kind=RomeItem.Kind.SKILL))
        .order_by()
        .values("status")
        .annotate(items=Count("pk"), total_links=Sum("links"))
        .values_list("status", "items", "total_links")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["status", "items", "links"]).set_index("status")
    frame = frame.reindex(list(ITEM_STATUS_LABELS), fill_value=0).fillna(0).astype(int)
    total = frame["links"].sum()
    frame["link_share"] = frame["links"] / total if total else 0.0
    return frame


def item_override_history(item: RomeItem) -> QuerySet:
    """The decisions on one item, newest first (the first one applies), with who took them."""
    return item.overrides.select_related("created_by").order_by("-created_at", "-pk")


def item_fiches(item: RomeItem, limit: int = 50) -> QuerySet:
    """The fiches an item describes (core items first), with their labels."""
    return (
        OccupationItem.objects.filter(item=item)
        .select_related("occupation")
        .order_by("-core", "occupation_id")[:limit]
    )


# --- Finding a job by its title: the one suggestion selector of the site ---------------------
# The search boxes of the explorer, the observatory, the diagnostic and the catalogue name a
# fiche by what people call their job: a ROME appellation (« Secrétaire comptable »), a fiche
# label or a code. People type without accents, shorten words (« compta ») and make typos
# (« secretiare »): every title is folded (skills.text.fold) and matched word by word.

SUGGESTION_LIMIT = 10
# What a search box accepts: longer text is cut, a query holding a control character is
# refused (the middleware already answers 400 to one in a URL; this guards other callers).
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 8
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WORD = re.compile(r"[a-z0-9]+")
_ROME_CODE_START = re.compile(r"[a-n]\d{0,4}")

# How well a typed word matches a word of a title: the same word, its start (« compta » →
# « comptable »), a typo, or a part of a longer word (« informatique » in « téléinformatique »).
EXACT, PREFIX, TYPO, INSIDE = 3.0, 2.5, 1.8, 1.5


def clean_query(query) -> str:
    """The text of a search box as the selectors read it: stripped and cut to
    MAX_QUERY_LENGTH characters; "" when it holds a control character."""
    query = str(query or "")
    if _CONTROL.search(query):
        return ""
    return query.strip()[:MAX_QUERY_LENGTH].strip()


def typo_distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance between `a` and `b` (insertions, deletions,
    substitutions and swaps of two neighbours count 1), or limit + 1 as soon as it exceeds
    `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True)
class TitleIndex:
    """Every title a job can be found by: one entry per fiche and per appellation of a fiche.

    `entries`: columns code (the fiche's ROME code), label (the fiche's), appellation (None
    for the fiche itself), rarely_used, folded (the title folded); `postings`: folded word →
    array of entry positions; `by_initial`: first letter → the words starting with it.
    """

    entries: pd.DataFrame
    postings: dict
    by_initial: dict


def _build_title_index(fiches: list[tuple], appellations: list[tuple]) -> TitleIndex:
    rows = [(code, label, None, False) for code, label in fiches]
    labels = dict(fiches)
    # An appellation spelt as its fiche (« Comptable » of M1203) would repeat it.
    folded_fiches = {(code, fold(label)) for code, label in fiches}
    rows += [
        (code, labels[code], title, rarely_used)
        for code, title, rarely_used in appellations
        if code in labels and (code, fold(title)) not in folded_fiches
    ]
    entries = pd.DataFrame.from_records(rows, columns=["code", "label", "appellation", "rarely_used"])
    titles = entries["appellation"].where(entries["appellation"].notna(), entries["label"])
    entries["folded"] = [fold(title) for title in titles]
    postings: dict[str, list[int]] = {}
    for position, folded in enumerate(entries["folded"]):
        for word in set(_WORD.findall(folded)):
            postings.setdefault(word, []).append(position)
    by_initial: dict[str, list[str]] = {}
    for word in postings:
        by_initial.setdefault(word[0], []).append(word)
    return TitleIndex(entries, {word: np.array(rows) for word, rows in postings.items()}, by_initial)


_title_index_memo: dict = {}


def title_index() -> TitleIndex:
    """The TitleIndex of the ROME loaded, built once per process and rebuilt when the fiches
    or appellations change (an import adds, removes or renames titles: their counts, last
    codes and total label lengths move). Two queries when it is up to date, four otherwise."""
    from django.db.models import Max
    from django.db.models.functions import Length

    fiche_titles = Occupation.objects.fiches()
    appellation_titles = Appellation.objects.filter(occupation__level=Occupation.Level.FICHE)
    state = fiche_titles.aggregate(fiches=Count("code"), fiche_chars=Sum(Length("label")), last_fiche=Max("code"))
    state |= appellation_titles.aggregate(
        appellations=Count("code"),
        appellation_chars=Sum(Length("label")),
        last_appellation=Max("code"),
        rare=Count("code", filter=Q(rarely_used=True)),
    )
    key = tuple(sorted(state.items()))
    if _title_index_memo.get("key") != key:
        fiches = list(fiche_titles.order_by("code").values_list("code", "label"))
        appellations = list(
            appellation_titles.order_by("occupation_id", "code").values_list("occupation_id", "label", "rarely_used")
        )
        _title_index_memo.update(key=key, index=_build_title_index(fiches, appellations))
    return _title_index_memo["index"]


def _word_matches(index: TitleIndex, typed: str) -> dict[str, float]:
    """The words of the titles a typed (folded) word may stand for, with how well it matches:
    the word itself, the words it starts or sits inside; only when there is none, the words
    a typo away (a word spelt right never brings its near neighbours: « secretaire » does not
    find « secrétariat »)."""
    found = {}
    for word in index.by_initial.get(typed[0], ()):
        if word == typed:
            found[word] = EXACT
        elif word.startswith(typed):
            found[word] = PREFIX
    if len(typed) < 4:
        return found
    for word in index.postings:
        if word not in found and len(word) > len(typed) and typed in word:
            found[word] = INSIDE
    if found:
        return found
    limit = 1 if len(typed) <= 6 else 2
    # A typo rarely hits the first letter; a swap of the first two is looked up too.
    candidates = set(index.by_initial.get(typed[0], ())) | set(index.by_initial.get(typed[1], ()))
    for word in candidates:
        if len(word) < len(typed) - limit:
            continue
        # The whole word (« secretiare ») or its start (« comptabel » for « comptabilité »).
        distance = min(
            typo_distance(typed, word, limit),
            typo_distance(typed, word[: len(typed)], limit) if len(word) > len(typed) else limit + 1,
        )
        if distance <= limit:
            found[word] = TYPO - 0.3 * (distance - 1)
    return found


def occupation_suggestions(query: str, limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """The fiches and appellations a job title typed by a person names, best first, at most
    `limit`: [{code, label, appellation, value}], `label` the fiche's, `appellation` the
    title matched (None when it is the fiche's own label), `value` the text a form field
    takes back (« Secrétaire comptable (M1608) »).

    Accent-, case- and typo-tolerant: every word typed must match a word of the title (or as
    many of them as any title matches): as itself, as its start or inside a longer word,
    or, when it matches none of those, with a typo (one letter off up to 6 letters, two
    beyond); a ROME code, or its start, finds the fiches it names. Titles are ranked by how
    well their words match, then those starting with the query, fiches before appellations,
    the usual ones before the rarely used, the shorter first. Two queries once the index is
    built (title_index).
    """
    query = clean_query(query)
    folded = fold(query)
    typed = list(dict.fromkeys(_WORD.findall(folded)))[:MAX_QUERY_WORDS]
    if not typed or limit <= 0:
        return []
    index = title_index()
    entries = index.entries
    if _ROME_CODE_START.fullmatch(folded):
        hits = entries[entries["appellation"].isna() & entries["code"].str.lower().str.startswith(folded)]
        rows = hits.sort_values("code").head(limit)
        return [_suggestion(row) for row in rows.itertuples()]

    score, words_found = np.zeros(len(entries)), np.zeros(len(entries), dtype=int)
    for word in typed:
        word_score = np.zeros(len(entries))
        for title_word, quality in _word_matches(index, word).items():
            positions = index.postings[title_word]
            word_score[positions] = np.maximum(word_score[positions], quality)
        score += word_score
        words_found += word_score > 0
    if not words_found.any():
        return []
    # Titles holding every word typed; where none does, those holding the most of them.
    matched = entries.assign(score=score)[words_found == words_found.max()]
    matched = matched.assign(
        starts=~matched["folded"].str.startswith(folded),
        length=matched["folded"].str.len(),
        is_appellation=matched["appellation"].notna(),
    ).sort_values(
        ["score", "starts", "is_appellation", "rarely_used", "length", "folded", "code"],
        ascending=[False, True, True, True, True, True, True],
        kind="stable",
    )
    return [_suggestion(row) for row in matched.head(limit).itertuples()]


def _suggestion(row) -> dict:
    appellation = row.appellation if isinstance(row.appellation, str) else None
    return {
        "code": row.code,
        "label": row.label,
        "appellation": appellation,
        "value": f"{appellation or row.label} ({row.code})",
    }
