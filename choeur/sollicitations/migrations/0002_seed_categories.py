"""Seed the catégorie and sous-catégorie referential (choeur/sollicitations/referential.py)."""

from django.db import migrations

from choeur.sollicitations.referential import categories_seed


def seed(apps, schema_editor):
    categories_seed(
        apps.get_model("sollicitations", "SollicitationCategory"),
        apps.get_model("sollicitations", "SollicitationSubCategory"),
    )


class Migration(migrations.Migration):
    dependencies = [("sollicitations", "0001_sollicitations")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
