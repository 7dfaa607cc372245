import django.core.validators
from django.db import migrations, models

import projects.models


def seed_is_the_scene_id(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Until seeds were a field, a scene's picture was made with its id as the seed:
    # keeping it means regenerating an existing scene gives back the same picture.
    Sentence = apps.get_model("projects", "Sentence")
    Sentence.objects.update(seed=models.F("id"))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sentence",
            name="seed",
            field=models.PositiveBigIntegerField(
                default=projects.models.new_seed,
                validators=[django.core.validators.MaxValueValidator(2147483647)],
            ),
        ),
        migrations.RunPython(seed_is_the_scene_id, migrations.RunPython.noop),
    ]
