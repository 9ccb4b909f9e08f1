"""A payable is owed to a person or to a union fund (a fund's contribution is a payable of its
own, paid through the payroll API as a person's pay is); residuals are an expense of their own."""

import django.db.models.deletion
from django.db import migrations, models

from core.append_only import append_only_again


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0012_non_union_agreement_and_wga_2026_term'),
    ]

    operations = [
        migrations.AddField(
            model_name='payable',
            name='fund',
            field=models.CharField(blank=True, help_text='The union fund paid; empty when the payee is a person.', max_length=60),
        ),
        migrations.AlterField(
            model_name='account',
            name='purpose',
            field=models.CharField(choices=[('compensation_expense', 'Production compensation expense'), ('ai_use_expense', 'Production AI-use expense'), ('fringe_expense', 'Production fringe expense'), ('residual_expense', 'Production residual expense'), ('person_payable', 'Payable to a person'), ('union_fund_payable', 'Union fund payable'), ('payroll_clearing', 'Payroll clearing')], max_length=30),
        ),
        migrations.AlterField(
            model_name='payable',
            name='person',
            field=models.ForeignKey(blank=True, help_text='The person paid; empty when the payee is a fund.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payables', to='ledger.person'),
        ),
        migrations.AddConstraint(
            model_name='payable',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('fund', ''), ('person__isnull', False)), models.Q(('person__isnull', True), models.Q(('fund', ''), _negated=True)), _connector='OR'), name='payable_one_payee', violation_error_message='A payable is owed to a person or to a fund, not both.'),
        ),
        append_only_again("ledger_payable", "ledger_account"),
    ]
