# Execution, ExecutionLog, RecordError and RecordState move to the engine app
# (engine 0004). Only Django's state changes: the tables stay as they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('syncs', '0005_record_error_listing_index'),
        ('engine', '0003_drop_run_identity'),  # its first migrations name syncs.execution
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ExecutionLog'),
                migrations.DeleteModel(name='RecordError'),
                migrations.DeleteModel(name='RecordState'),
                migrations.DeleteModel(name='Execution'),
            ],
            database_operations=[],
        ),
    ]
