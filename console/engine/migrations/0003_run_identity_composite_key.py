# RunIdentity only holds the identities of runs in progress, so its table is recreated
# rather than altered: Django cannot move a table to a composite primary key.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("engine", "0002_staging_without_constraint"),
        ("syncs", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="RunIdentity"),
        migrations.CreateModel(
            name="RunIdentity",
            fields=[
                ("pk", models.CompositePrimaryKey("execution", "identity", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("execution", models.ForeignKey(db_constraint=False, db_index=False,
                                                on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                to="syncs.execution")),
                ("identity", models.CharField(max_length=500)),
            ],
        ),
    ]
