"""Residuals (RULES.md §3): loaded residual schedules, exhibitions, writing credits, residual
runs (a run's kind) with their lines and postings; schedules, lines and postings are
append-only."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from core.append_only import append_only


class Migration(migrations.Migration):

    dependencies = [
        ('compensation', '0003_run_dispatch'),
        ('ledger', '0013_fund_payables'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Exhibition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('episode', models.CharField(blank=True, help_text='Television: the episode exhibited (as timecards name it).', max_length=40)),
                ('work_type', models.CharField(help_text="The schedule's work type of the work, e.g. episode or feature.", max_length=40)),
                ('running_minutes', models.PositiveSmallIntegerField()),
                ('market', models.CharField(choices=[('hbsvod', 'high-budget SVOD'), ('network_tv', 'network tv'), ('syndication', 'syndication'), ('basic_cable', 'basic cable'), ('supplemental_markets', 'supplemental markets')], max_length=30)),
                ('territory', models.CharField(choices=[('worldwide', 'worldwide'), ('domestic', 'domestic'), ('foreign', 'foreign')], help_text='High-budget SVOD: worldwide gives a domestic and a foreign line.', max_length=10)),
                ('period_from', models.DateField()),
                ('period_to', models.DateField()),
                ('service', models.CharField(blank=True, help_text='High-budget SVOD: the service.', max_length=200)),
                ('subscriber_tier', models.CharField(blank=True, help_text="High-budget SVOD: the service's subscriber tier.", max_length=40)),
                ('exhibition_year', models.PositiveSmallIntegerField(blank=True, help_text='High-budget SVOD: 1 for the first year of exhibition.', null=True)),
                ('views_first_90_days', models.DecimalField(blank=True, decimal_places=2, max_digits=20, null=True)),
                ('hours_streamed_first_90_days', models.DecimalField(blank=True, decimal_places=2, max_digits=20, null=True)),
                ('domestic_subscribers', models.BigIntegerField(blank=True, help_text="The service's domestic subscribers as of July 1.", null=True)),
                ('gross_receipts', models.DecimalField(blank=True, decimal_places=2, help_text="Revenue markets: the distributor's gross receipts.", max_digits=14, null=True)),
                ('broadcast_on', models.DateField(blank=True, null=True)),
                ('first_period', models.BooleanField(default=False, help_text='Supplemental markets: the first period in the market.')),
            ],
            options={
                'ordering': ['production_id', 'period_from', 'id'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalExhibition',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('episode', models.CharField(blank=True, help_text='Television: the episode exhibited (as timecards name it).', max_length=40)),
                ('work_type', models.CharField(help_text="The schedule's work type of the work, e.g. episode or feature.", max_length=40)),
                ('running_minutes', models.PositiveSmallIntegerField()),
                ('market', models.CharField(choices=[('hbsvod', 'high-budget SVOD'), ('network_tv', 'network tv'), ('syndication', 'syndication'), ('basic_cable', 'basic cable'), ('supplemental_markets', 'supplemental markets')], max_length=30)),
                ('territory', models.CharField(choices=[('worldwide', 'worldwide'), ('domestic', 'domestic'), ('foreign', 'foreign')], help_text='High-budget SVOD: worldwide gives a domestic and a foreign line.', max_length=10)),
                ('period_from', models.DateField()),
                ('period_to', models.DateField()),
                ('service', models.CharField(blank=True, help_text='High-budget SVOD: the service.', max_length=200)),
                ('subscriber_tier', models.CharField(blank=True, help_text="High-budget SVOD: the service's subscriber tier.", max_length=40)),
                ('exhibition_year', models.PositiveSmallIntegerField(blank=True, help_text='High-budget SVOD: 1 for the first year of exhibition.', null=True)),
                ('views_first_90_days', models.DecimalField(blank=True, decimal_places=2, max_digits=20, null=True)),
                ('hours_streamed_first_90_days', models.DecimalField(blank=True, decimal_places=2, max_digits=20, null=True)),
                ('domestic_subscribers', models.BigIntegerField(blank=True, help_text="The service's domestic subscribers as of July 1.", null=True)),
                ('gross_receipts', models.DecimalField(blank=True, decimal_places=2, help_text="Revenue markets: the distributor's gross receipts.", max_digits=14, null=True)),
                ('broadcast_on', models.DateField(blank=True, null=True)),
                ('first_period', models.BooleanField(default=False, help_text='Supplemental markets: the first period in the market.')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.TextField(null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
            ],
            options={
                'verbose_name': 'historical exhibition',
                'verbose_name_plural': 'historical exhibitions',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalWritingCredit',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('episode', models.CharField(blank=True, help_text='Television: the episode credited; empty: the whole work.', max_length=40)),
                ('credit', models.CharField(choices=[('written_by', 'written by'), ('story_by', 'story by'), ('screenplay_by', 'screenplay by'), ('teleplay_by', 'teleplay by'), ('adaptation_by', 'adaptation by')], max_length=20)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.TextField(null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
            ],
            options={
                'verbose_name': 'historical writing credit',
                'verbose_name_plural': 'historical writing credits',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='ResidualLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('fund', models.CharField(blank=True, help_text='The fund paid, if not a person.', max_length=60)),
                ('rule', models.CharField(max_length=60)),
                ('description', models.CharField(max_length=1000)),
                ('market', models.CharField(max_length=30)),
                ('territory', models.CharField(max_length=10)),
                ('date', models.DateField(help_text='The date the factors were read at.')),
                ('quantity', models.DecimalField(decimal_places=4, max_digits=20)),
                ('unit', models.CharField(max_length=60)),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14)),
                ('currency', models.CharField(choices=[('USD', 'US dollar'), ('CAD', 'Canadian dollar'), ('GBP', 'Pound sterling'), ('EUR', 'Euro'), ('AUD', 'Australian dollar'), ('NZD', 'New Zealand dollar')], default='USD', max_length=3)),
                ('due_date', models.DateField()),
                ('due_basis', models.CharField(max_length=200)),
                ('tier', models.CharField(blank=True, max_length=1)),
                ('flags', models.JSONField(blank=True, default=list)),
                ('factors', models.JSONField(blank=True, default=list, help_text='The factors multiplied, with schedule, tier and source.')),
            ],
            options={
                'ordering': ['run_id', 'exhibition_id', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ResidualPosting',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=2, help_text='The change posted (negative: a reduction).', max_digits=14)),
                ('currency', models.CharField(choices=[('USD', 'US dollar'), ('CAD', 'Canadian dollar'), ('GBP', 'Pound sterling'), ('EUR', 'Euro'), ('AUD', 'Australian dollar'), ('NZD', 'New Zealand dollar')], default='USD', max_length=3)),
            ],
            options={
                'ordering': ['run_id', 'payable_id'],
            },
        ),
        migrations.CreateModel(
            name='ResidualSchedule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='e.g. WGA HBSVOD residuals 2026.', max_length=120)),
                ('version', models.PositiveIntegerField(help_text='1 for the first schedule of this name, then 2…')),
                ('effective_from', models.DateField(help_text='In force for exhibitions from this date.')),
                ('source', models.TextField(help_text='Where the figures come from: title, date and address.')),
                ('tier', models.CharField(choices=[('P', 'P'), ('S', 'S'), ('T', 'T'), ('D', 'D')], default='P', max_length=1)),
                ('currency', models.CharField(choices=[('USD', 'US dollar'), ('CAD', 'Canadian dollar'), ('GBP', 'Pound sterling'), ('EUR', 'Euro'), ('AUD', 'Australian dollar'), ('NZD', 'New Zealand dollar')], default='USD', max_length=3)),
                ('due_rule', models.CharField(blank=True, choices=[('syndication', 'syndication'), ('basic_cable', 'basic cable'), ('supplemental_markets', 'supplemental markets')], help_text='The market whose due dates the HBSVOD residual follows (empty: supplemental markets).', max_length=30)),
                ('figures', models.JSONField(help_text="The schedule's figures as the residual rules read them.")),
                ('file_name', models.CharField(max_length=200)),
                ('file_format', models.CharField(choices=[('csv', 'Csv'), ('json', 'Json')], max_length=4)),
                ('content', models.TextField(help_text='The file as loaded.')),
                ('sha256', models.CharField(max_length=64)),
                ('loaded_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['-effective_from', '-id'],
            },
        ),
        migrations.CreateModel(
            name='WritingCredit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('episode', models.CharField(blank=True, help_text='Television: the episode credited; empty: the whole work.', max_length=40)),
                ('credit', models.CharField(choices=[('written_by', 'written by'), ('story_by', 'story by'), ('screenplay_by', 'screenplay by'), ('teleplay_by', 'teleplay by'), ('adaptation_by', 'adaptation by')], max_length=20)),
            ],
            options={
                'ordering': ['engagement_id', 'episode', 'id'],
            },
        ),
        migrations.RemoveIndex(
            model_name='compensationrun',
            name='compensatio_product_978663_idx',
        ),
        migrations.AddField(
            model_name='compensationrun',
            name='kind',
            field=models.CharField(choices=[('pay', 'Pay'), ('residuals', 'Residuals')], default='pay', max_length=10),
        ),
        migrations.AddField(
            model_name='historicalcompensationrun',
            name='kind',
            field=models.CharField(choices=[('pay', 'Pay'), ('residuals', 'Residuals')], default='pay', max_length=10),
        ),
        migrations.AddIndex(
            model_name='compensationrun',
            index=models.Index(fields=['production', 'kind', 'period_from', 'period_to'], name='compensatio_product_22a5ba_idx'),
        ),
        migrations.AddConstraint(
            model_name='compensationrun',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['pay', 'residuals'])), name='run_kind_valid'),
        ),
        migrations.AddField(
            model_name='exhibition',
            name='production',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='exhibitions', to='ledger.production'),
        ),
        migrations.AddField(
            model_name='historicalexhibition',
            name='history_user',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='historicalexhibition',
            name='production',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='ledger.production'),
        ),
        migrations.AddField(
            model_name='historicalwritingcredit',
            name='engagement',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='ledger.engagement'),
        ),
        migrations.AddField(
            model_name='historicalwritingcredit',
            name='history_user',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='residualline',
            name='engagement',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.engagement'),
        ),
        migrations.AddField(
            model_name='residualline',
            name='exhibition',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compensation.exhibition'),
        ),
        migrations.AddField(
            model_name='residualline',
            name='run',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='residual_lines', to='compensation.compensationrun'),
        ),
        migrations.AddField(
            model_name='residualposting',
            name='payable',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.payable'),
        ),
        migrations.AddField(
            model_name='residualposting',
            name='run',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='residual_postings', to='compensation.compensationrun'),
        ),
        migrations.AddField(
            model_name='residualposting',
            name='transaction',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.journaltransaction'),
        ),
        migrations.AddField(
            model_name='residualschedule',
            name='agreement',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='residual_schedules', to='ledger.agreement'),
        ),
        migrations.AddField(
            model_name='residualschedule',
            name='loaded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='residualline',
            name='schedule',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compensation.residualschedule'),
        ),
        migrations.AddField(
            model_name='writingcredit',
            name='engagement',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='writing_credits', to='ledger.engagement'),
        ),
        migrations.AddIndex(
            model_name='exhibition',
            index=models.Index(fields=['production', 'period_to'], name='compensatio_product_556b11_idx'),
        ),
        migrations.AddConstraint(
            model_name='exhibition',
            constraint=models.CheckConstraint(condition=models.Q(('period_to__gte', models.F('period_from'))), name='exhibition_period_ordered', violation_error_message='The period cannot end before it starts.'),
        ),
        migrations.AddConstraint(
            model_name='exhibition',
            constraint=models.CheckConstraint(condition=models.Q(('gross_receipts__isnull', True), ('gross_receipts__gte', 0), _connector='OR'), name='exhibition_receipts_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='exhibition',
            constraint=models.UniqueConstraint(fields=('production', 'episode', 'market', 'territory', 'service', 'period_from'), name='exhibition_unique', violation_error_message='This exhibition is already reported; correct it instead.'),
        ),
        migrations.AddConstraint(
            model_name='residualposting',
            constraint=models.UniqueConstraint(fields=('run', 'payable'), name='residual_posting_once'),
        ),
        migrations.AddConstraint(
            model_name='residualschedule',
            constraint=models.UniqueConstraint(fields=('agreement', 'name', 'version'), name='residual_schedule_version_unique'),
        ),
        migrations.AddIndex(
            model_name='residualline',
            index=models.Index(fields=['run', 'engagement'], name='compensatio_run_id_0b576d_idx'),
        ),
        migrations.AddConstraint(
            model_name='residualline',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='residual_line_amount_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='residualline',
            constraint=models.CheckConstraint(condition=models.Q(('engagement__isnull', False), models.Q(('fund', ''), _negated=True), _connector='OR'), name='residual_line_payee'),
        ),
        migrations.AddConstraint(
            model_name='writingcredit',
            constraint=models.UniqueConstraint(fields=('engagement', 'episode'), name='writing_credit_once', violation_error_message='This writer already has a credit on this work.'),
        ),
        append_only(
            "compensation_residualschedule",
            "compensation_residualline",
            "compensation_residualposting",
        ),
    ]
