"""A new version of each lens whose exposure classes fit the profiles built from ROME 4.0.

With every fiche profiled from its own savoir-faire, the exposure of the 1,584 fiches spans
about 0.27–0.69 (default), 0.21–0.76 (IA générative) and 0.11–0.57 (automatisation): the
OECD thresholds 0.7 / 0.5 left « exposition forte » almost empty. The thresholds below are
the 90th and 65th percentiles of each lens's exposure over the fiches of ROME 4.0 (full
v460 export, default profile parameters), rounded to the hundredth: « exposition forte »
names the most exposed tenth of occupations, « changement significatif » the next quarter.
"""

from django.db import migrations

THRESHOLDS = {"default": (0.48, 0.44), "genai": (0.55, 0.49), "automation": (0.42, 0.32)}
NOTE = (
    "Seuils de classe ajustés à la distribution de l'exposition des 1 584 fiches ROME 4.0 "
    "(90e et 65e centiles) une fois chaque fiche décrite par ses propres compétences."
)
COPIED = (
    "alpha_rc", "alpha_rm", "alpha_nra", "alpha_nri", "alpha_nrm", "prior_strength",
    "secrecy_min_companies", "secrecy_dominance", "core_item_weight", "emerging_item_weight",
    "other_item_weight", "profile_shrinkage", "context_shift", "transition_margin",
)


def new_versions(apps, schema_editor):
    Methodology = apps.get_model("observatory", "Methodology")
    for lens, (high, medium) in THRESHOLDS.items():
        previous = Methodology.objects.filter(lens=lens).order_by("-version").first()
        if previous is None or previous.notes == NOTE:
            continue  # no lens yet, or this migration's version already there
        Methodology.objects.create(
            lens=lens,
            version=previous.version + 1,
            high_threshold=high,
            medium_threshold=medium,
            notes=NOTE,
            **{name: getattr(previous, name) for name in COPIED},
        )


class Migration(migrations.Migration):
    dependencies = [("observatory", "0006_gridrun_profile_source_methodology_context_shift_and_more")]
    operations = [migrations.RunPython(new_versions, migrations.RunPython.noop)]
