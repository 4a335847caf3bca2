# Execution, ExecutionLog, RecordError and RecordState, taken over from the syncs app
# (syncs 0006) on their tables as they are: only Django's state changes.

import uuid

import django.db.models.deletion
from django.db import migrations, models

ACTIVE = ('created', 'scheduled', 'queued', 'waiting', 'running', 'processing', 'canceling')
STATUSES = [
    ('created', 'Created'), ('scheduled', 'Scheduled'), ('queued', 'Queued'), ('waiting', 'Waiting'),
    ('running', 'Running'), ('processing', 'Processing'), ('canceling', 'Canceling'), ('canceled', 'Canceled'),
    ('completed', 'Completed'), ('failed', 'Failed'), ('interrupted', 'Interrupted'),
]


class Migration(migrations.Migration):

    dependencies = [
        ('engine', '0003_drop_run_identity'),
        ('syncs', '0006_run_models_to_engine'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='Execution',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('status', models.CharField(choices=STATUSES, default='created', max_length=20)),
                ('trigger', models.CharField(default='manual', max_length=20)),
                ('resync', models.BooleanField(default=False)),
                ('dry_run', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('completed_at', models.DateTimeField(blank=True, null=True)),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                ('queried', models.PositiveIntegerField(default=0)),
                ('invalid', models.PositiveIntegerField(default=0)),
                ('unchanged', models.PositiveIntegerField(default=0)),
                ('inserted', models.PositiveIntegerField(default=0)),
                ('updated', models.PositiveIntegerField(default=0)),
                ('removed', models.PositiveIntegerField(default=0)),
                ('errored', models.PositiveIntegerField(default=0)),
                ('error', models.TextField(blank=True, default='')),
                ('vanished', models.PositiveIntegerField(default=0)),
                ('plan', models.JSONField(blank=True, null=True)),
                ('identities', models.JSONField(blank=True, null=True)),
                ('allow_mass_removal', models.BooleanField(default=False)),
                ('attempt', models.PositiveSmallIntegerField(default=0)),
                ('claim', models.CharField(blank=True, default='', max_length=32)),
                ('worker', models.CharField(blank=True, default='', max_length=200)),
                ('retry_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                               related_name='retries', to='engine.execution')),
                ('sync', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='executions',
                                           to='syncs.sync')),
            ],
            options={
                'db_table': 'syncs_execution',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['sync', '-created_at'], name='syncs_execu_sync_id_02e6b1_idx')],
                'constraints': [models.UniqueConstraint(
                    condition=models.Q(('dry_run', False), ('status__in', ACTIVE)), fields=('sync',),
                    name='one_active_execution_per_sync')],
            },
        ),
        migrations.CreateModel(
            name='ExecutionLog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.CharField(default='info', max_length=10)),
                ('message', models.TextField()),
                ('payload', models.JSONField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('execution', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='logs',
                                                to='engine.execution')),
            ],
            options={'db_table': 'syncs_executionlog', 'ordering': ['id']},
        ),
        migrations.CreateModel(
            name='RecordError',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('identity', models.CharField(blank=True, default='', max_length=500)),
                ('kind', models.CharField(default='rejected', max_length=10)),
                ('action', models.CharField(blank=True, default='', max_length=10)),
                ('message', models.TextField()),
                ('payload', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('execution', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                related_name='record_errors', to='engine.execution')),
            ],
            options={
                'db_table': 'syncs_recorderror',
                'ordering': ['id'],
                'indexes': [
                    models.Index(fields=['execution', 'identity'], name='syncs_recor_executi_cf9c64_idx'),
                    models.Index(fields=['execution', 'created_at', 'id'], name='record_error_listing'),
                ],
            },
        ),
        migrations.CreateModel(
            name='RecordState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('identity', models.CharField(max_length=500)),
                ('fingerprint', models.CharField(max_length=32)),
                ('target_id', models.CharField(blank=True, default='', max_length=200)),
                ('last_execution_id', models.UUIDField(blank=True, null=True)),
                ('last_action', models.CharField(blank=True, default='', max_length=10)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('sync', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                           related_name='record_states', to='syncs.sync')),
            ],
            options={
                'db_table': 'syncs_recordstate',
                'constraints': [models.UniqueConstraint(fields=('sync', 'identity'), name='one_state_per_identity')],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])]
