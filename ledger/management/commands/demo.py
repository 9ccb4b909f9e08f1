"""Demo data: two studios, their productions, people across the three guilds, and a login for
each role. Running it again changes nothing."""

from datetime import date
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from core.audit import acting_as, system_user
from ledger.journal import services as journal_services
from ledger.models import (
    Agreement,
    Engagement,
    Guild,
    GuildStaff,
    Payable,
    Person,
    Production,
    Studio,
    StudioStaff,
)
from ledger.registry import services

DEMO_PASSWORD = "guild-ledger-demo"

STUDIOS = [("Meridian Pictures", "meridian"), ("Northgate Studios", "northgate")]

PRODUCTIONS = [
    # studio, title, kind, episode minutes, budget tier, start, agreements
    (
        "meridian",
        "The Long Light",
        "theatrical",
        None,
        "high",
        date(2025, 6, 2),
        ["sag-tvth-2023", "wga-mba-2023", "iatse-basic-2024"],
    ),
    (
        "meridian",
        "Harbor Nights",
        "television",
        60,
        "",
        date(2026, 7, 6),
        ["sag-tvth-2026", "wga-mba-2026", "iatse-basic-2024", "non-union"],
    ),
    (
        "northgate",
        "Static Season",
        "theatrical",
        None,
        "low",
        date(2025, 9, 15),
        ["sag-tvth-2023", "iatse-basic-2024"],
    ),
]

# legal name, professional name, guild, member number, payroll ref
PEOPLE = [
    ("Ava Delgado", "Ava Del", "sag-aftra", "SAG-100201", "MP-0001"),
    ("Marcus Bell", "", "sag-aftra", "SAG-100202", "MP-0002"),
    ("Lena Okafor", "", "sag-aftra", "SAG-100203", "MP-0003"),
    ("Theo Hart", "", "sag-aftra", "SAG-100204", "MP-0004"),
    ("Priya Raman", "", "sag-aftra", "SAG-100205", "MP-0005"),
    ("Jonah Reyes", "", "sag-aftra", "SAG-100206", "MP-0006"),
    ("Nadia Voss", "", "sag-aftra", "SAG-100207", "MP-0007"),
    ("Caleb Stone", "", "sag-aftra", "SAG-100208", "MP-0008"),
    ("Rosa Lin", "", "wga", "WGA-20301", "MP-0101"),
    ("Samuel Adeyemi", "Sam Adeyemi", "wga", "WGA-20302", "MP-0102"),
    ("Hannah Wirth", "", "wga", "WGA-20303", "MP-0103"),
    ("Diego Marín", "", "iatse", "IA600-5501", "MP-0201"),
    ("Grace Park", "", "iatse", "IA700-5502", "MP-0202"),
    ("Owen Fitch", "", "iatse", "IA44-5503", "MP-0203"),
    ("Mei Tanaka", "", "iatse", "IA80-5504", "MP-0204"),
    ("Luis Ortega", "", "iatse", "IA728-5505", "MP-0205"),
    ("Imani Brooks", "", "sag-aftra", "SAG-100209", "MP-0009"),
    ("Felix Gruber", "", "sag-aftra", "SAG-100210", "MP-0010"),
    ("Ruth Adler", "", "wga", "WGA-20304", "MP-0104"),
    ("Ken Watanabe-Ross", "", "iatse", "IA600-5506", "MP-0206"),
]

CLASSIFICATION_BY_GUILD = {
    "sag-aftra": ["day_performer", "weekly_performer", "background_actor", "stand_in"],
    "wga": ["writer"],
    "iatse": ["crew_hourly", "crew_weekly"],
}
RATES = {
    "day_performer": ("1500.00", "day"),
    "weekly_performer": ("5200.00", "week"),
    "background_actor": ("224.00", "day"),
    "stand_in": ("262.00", "day"),
    "writer": ("45000.00", "flat"),
    "crew_hourly": ("62.50", "hour"),
    "crew_weekly": ("3100.00", "week"),
}

# A performer no guild covers, engaged on the 2026 series under no collective agreement: her
# consents answer to the general rules and California law (RULES.md §1 `non-union`, §2 `law.*`).
NON_UNION_PERFORMER = ("June Calloway", "MP-0301", "day_performer")

USERS = [
    # username, first, last, studio slug, guild code
    ("meridian", "Maya", "Chen (Meridian Pictures)", "meridian", None),
    ("northgate", "Noah", "Patel (Northgate Studios)", "northgate", None),
    ("sag", "Sofia", "Alvarez (SAG-AFTRA)", None, "sag-aftra"),
    ("wga", "William", "Grant (WGA)", None, "wga"),
]


class Command(BaseCommand):
    help = "Load demo studios, productions, people and logins (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        actor = system_user()
        with acting_as(actor):
            studios = {slug: self._studio(name, slug, actor) for name, slug in STUDIOS}
            productions = [self._production(studios, row, actor) for row in PRODUCTIONS]
            people = [self._person(studios["meridian"], row, actor) for row in PEOPLE]
            self._engage(productions[0], people, actor)
            self._engage(productions[1], people[::2], actor)
            self._engage_northgate(studios["northgate"], productions[2], actor)
            self._engage_non_union(studios["meridian"], productions[1], actor)
            self._payables(productions[0], actor)
            self._users(studios)
            # Apps above the registry add their own demo records (AppConfig.load_demo), in
            # INSTALLED_APPS order; the registry imports none of them.
            # An app may return lines to print after the logins (links to try).
            printed: list[str] = []
            for config in apps.get_app_configs():
                if config.name != "ledger" and hasattr(config, "load_demo"):
                    printed += config.load_demo(actor=actor) or []
        self._print_logins()
        for line in printed:
            self.stdout.write(line)

    def _studio(self, name, slug, actor):
        return Studio.objects.filter(slug=slug).first() or services.studio_create(
            actor=actor, name=name, slug=slug
        )

    def _production(self, studios, row, actor):
        slug, title, kind, minutes, tier, start, codes = row
        production = Production.objects.filter(studio=studios[slug], title=title).first()
        if production is None:
            production = services.production_create(
                actor=actor,
                studio=studios[slug],
                title=title,
                kind=kind,
                episode_minutes=minutes,
                budget_tier=tier,
                start_date=start,
                status=Production.Status.PRINCIPAL_PHOTOGRAPHY,
            )
        for code in codes:
            services.production_attach(
                actor=actor, production=production, agreement=Agreement.objects.get(code=code)
            )
        return production

    def _person(self, studio, row, actor):
        legal, professional, guild, number, payroll_ref = row
        person = Person.objects.filter(memberships__member_number=number).first()
        if person is None:
            person = services.person_create(
                actor=actor,
                legal_name=legal,
                professional_name=professional,
                payroll_ref=payroll_ref,
                registered_by=studio,
                memberships=[{"guild": Guild.objects.get(code=guild), "member_number": number}],
            )
        return person

    def _engage(self, production, people, actor):
        for index, person in enumerate(people):
            guild = person.memberships.get().guild
            agreement = production.agreements.get(guild=guild)
            options = CLASSIFICATION_BY_GUILD[guild.code]
            classification = options[index % len(options)]
            self._engagement(production, person, agreement, classification, actor)

    def _engage_northgate(self, studio, production, actor):
        cast = [
            ("Elena Frost", "sag-aftra", "SAG-100301", "NG-0001", "day_performer"),
            ("Ray Mendes", "sag-aftra", "SAG-100302", "NG-0002", "background_actor"),
            ("Tom Okoro", "iatse", "IA600-5601", "NG-0101", "crew_hourly"),
        ]
        for legal, guild, number, ref, classification in cast:
            person = self._person(studio, (legal, "", guild, number, ref), actor)
            agreement = production.agreements.get(guild__code=guild)
            self._engagement(production, person, agreement, classification, actor)

    def _engage_non_union(self, studio, production, actor):
        legal, payroll_ref, classification = NON_UNION_PERFORMER
        person = Person.objects.filter(payroll_ref=payroll_ref).first() or services.person_create(
            actor=actor, legal_name=legal, payroll_ref=payroll_ref, registered_by=studio
        )
        agreement = production.agreements.get(code="non-union")
        self._engagement(production, person, agreement, classification, actor)

    def _engagement(self, production, person, agreement, classification, actor):
        if Engagement.objects.filter(production=production, person=person).exists():
            return
        amount, unit = RATES[classification]
        services.engagement_create(
            actor=actor,
            person=person,
            production=production,
            agreement=agreement,
            classification=classification,
            rate_amount=Decimal(amount),
            rate_unit=unit,
            start_date=production.start_date,
        )

    def _payables(self, production, actor):
        """One shooting day owed to each day performer of the film, with SAG-AFTRA P&H at 21%
        (RULES.md sag.pay.day, sag.ph); the first is paid in part."""
        day = date(2025, 8, 1)
        engagements = production.engagements.filter(classification="day_performer").order_by("id")
        for engagement in engagements:
            if Payable.objects.filter(source_type="demo", source_id=str(engagement.pk)).exists():
                continue
            journal_services.payable_create(
                actor=actor,
                production=production,
                person=engagement.person,
                engagement=engagement,
                rule="sag.pay.day",
                # No names: the description is hashed into the journal and could never be
                # erased (privacy.services); the payable names the person by id.
                description=f"Day pay {day}, engagement #{engagement.pk}",
                amount=engagement.rate_amount,
                currency=engagement.rate_currency,
                period_from=day,
                period_to=day,
                due_date=date(2025, 8, 8),
                source_type="demo",
                source_id=str(engagement.pk),
                fringes=[
                    journal_services.Fringe(
                        "sag-aftra-ph", "sag.ph", engagement.rate_amount * Decimal("0.21")
                    )
                ],
            )

    def _users(self, studios):
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        for username, first, last, studio, guild in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "is_staff": True},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if studio:
                StudioStaff.objects.get_or_create(user=user, studio=studios[studio])
            if guild:
                GuildStaff.objects.get_or_create(user=user, guild=Guild.objects.get(code=guild))

    def _print_logins(self):
        self.stdout.write("\nGuild Ledger demo is loaded. Sign in at http://127.0.0.1:8000/admin/")
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        rows = [("admin", "administrator: everything")] + [
            (u, f"studio staff, {s}" if s else f"guild staff, {g}") for u, _, _, s, g in USERS
        ]
        for username, what in rows:
            self.stdout.write(f"  {username:<10} {what}")
        self.stdout.write("API docs: http://127.0.0.1:8000/api/docs/\n")
