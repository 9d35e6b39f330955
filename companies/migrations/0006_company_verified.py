import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

# companies.demo.DEMO_SIREN_PREFIX, written out: a migration does not import the app's code.
DEMO_SIREN_PREFIX = "000"


def verify_demo_companies(apps, schema_editor):
    """The demo companies stand for the observatory's own survey (seed_demo now verifies
    them): a database seeded before this migration keeps its demo as it was. Every other
    company waits for a curator, whatever it submitted before."""
    Company = apps.get_model("companies", "Company")
    Company.objects.filter(siren__startswith=DEMO_SIREN_PREFIX, verified_at__isnull=True).update(
        verified_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0005_catalogue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="company",
            name="verified_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="vérifiée le"),
        ),
        migrations.AddField(
            model_name="company",
            name="verified_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="vérifiée par",
            ),
        ),
        migrations.RunPython(verify_demo_companies, migrations.RunPython.noop),
    ]
