"""Version 1 of each lens, with the susceptibilities of DESIGN.md (step 2)."""

from django.db import migrations

PRESETS = {
    "default": ({"rc": 0.85, "rm": 0.55, "nra": 0.45, "nri": 0.20, "nrm": 0.10},
                "Valeurs par défaut, à mi-chemin des deux lectures publiées."),
    "genai": ({"rc": 0.90, "rm": 0.10, "nra": 0.60, "nri": 0.25, "nrm": 0.05},
              "Classe les professions CITP comme l'indice OIT 2025 de l'IA générative (Spearman 0,82)."),
    "automation": ({"rc": 0.80, "rm": 0.90, "nra": 0.10, "nri": 0.05, "nrm": 0.20},
                   "Classe les professions comme Frey–Osborne (0,66) et l'intensité routinière (0,94)."),
}


def create_presets(apps, schema_editor):
    Methodology = apps.get_model("observatory", "Methodology")
    for lens, (alpha, notes) in PRESETS.items():
        Methodology.objects.get_or_create(
            lens=lens,
            version=1,
            defaults={f"alpha_{c}": v for c, v in alpha.items()} | {"notes": notes},
        )


class Migration(migrations.Migration):
    dependencies = [("observatory", "0001_initial")]
    operations = [migrations.RunPython(create_presets, migrations.RunPython.noop)]
