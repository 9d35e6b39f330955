"""The five task categories (Autor, Levy & Murnane 2003; Acemoglu & Autor 2011)."""

from django.db import migrations

CATEGORIES = [
    (
        "RC",
        "Routinier cognitif",
        "Tâches intellectuelles répétitives qui suivent des règles explicites : saisie, "
        "contrôle de conformité, calculs, tenue de registres, traitement de dossiers types.",
        "Saisie de factures, rapprochement bancaire, planification de tournées standard.",
    ),
    (
        "RM",
        "Routinier manuel",
        "Tâches physiques répétitives, dans un environnement prévisible : conduite de machine, "
        "assemblage, tri, conditionnement, contrôle visuel en série.",
        "Conduite de ligne, préparation de commandes, emballage.",
    ),
    (
        "NRA",
        "Non routinier analytique",
        "Tâches intellectuelles qui demandent de résoudre des problèmes nouveaux : analyse, "
        "conception, recherche, diagnostic, rédaction, décision.",
        "Étude de marché, conception d'un produit, diagnostic d'une panne inhabituelle.",
    ),
    (
        "NRI",
        "Non routinier interpersonnel",
        "Tâches de relation : encadrer, négocier, conseiller, enseigner, soigner, convaincre.",
        "Management d'équipe, conseil client, formation, accompagnement social.",
    ),
    (
        "NRM",
        "Non routinier manuel",
        "Tâches physiques qui demandent de s'adapter à des situations variées : interventions "
        "sur site, soins, conduite en milieu ouvert, artisanat.",
        "Dépannage à domicile, soins aux personnes, travaux du bâtiment.",
    ),
]


def create_categories(apps, schema_editor):
    TaskCategory = apps.get_model("skills", "TaskCategory")
    for position, (code, label, definition, examples) in enumerate(CATEGORIES, start=1):
        TaskCategory.objects.update_or_create(
            code=code,
            defaults={"label": label, "definition": definition, "examples": examples, "position": position},
        )


class Migration(migrations.Migration):
    dependencies = [("skills", "0001_initial")]
    operations = [migrations.RunPython(create_categories, migrations.RunPython.noop)]
