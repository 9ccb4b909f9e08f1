"""The staff admin for the registry, scoped exactly like the API (ledger.access).

Every page, filter, choice list and history view shows only what the signed-in user's scope
allows; an object outside it is a 404. Changes are saved through the model form (full_clean and
the database constraints) and recorded in history with the signed-in user. A production's
agreements and the engagement CSV import are guided pages of their own (workflows).
"""

from typing import cast

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.shortcuts import redirect
from django.urls import reverse

from core.admin import display
from core.admin.base import ServiceForm
from ledger import access
from ledger.access import request_scope
from ledger.access.admin import ScopedAdmin, SuperuserOnlyAdmin
from ledger.models import (
    Agreement,
    Engagement,
    Guild,
    GuildStaff,
    Membership,
    Person,
    Production,
    Studio,
    StudioStaff,
)
from ledger.registry import services, workflows

admin.site.site_header = "Guild Ledger"
admin.site.site_title = "Guild Ledger"
admin.site.index_title = "Consent, compensation and payment records"


class RegistryServiceAdmin(ScopedAdmin):
    """A registry admin that writes through the same services as the API (`create_service`,
    `update_service`: names in ledger.registry.services), so the same rules hold; the fields the API
    fixes after creation (`fixed_after_create`) are read-only on the change form. A refusal is
    a form error."""

    create_service = ""
    update_service = ""
    instance_kwarg = ""
    fixed_after_create: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in self.fixed_after_create if name not in fields]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = RegistryServiceForm
        # A subclass of RegistryServiceForm (modelform_factory of the form given above).
        form = cast(
            type[RegistryServiceForm], super().get_form(request, obj, change=change, **kwargs)
        )
        form.request = request
        form.model_admin = self
        return form

    def save_model(self, request, obj, form, change):
        pass  # written by the form's clean() through the service

    def save_related(self, request, form, formsets, change):
        pass


class ReferenceDataAdmin(ScopedAdmin):
    """Guilds and agreements: every staff user reads them; nobody changes them here. Their source
    is the agreement catalogue (ledger/registry/agreements.json): a new agreement version is an
    entry there and a data migration that adds its row, so the rows and the catalogue the rules
    read never disagree."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Guild)
class GuildAdmin(ReferenceDataAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Agreement)
class AgreementAdmin(ReferenceDataAdmin):
    list_display = ["code", "name", "guild", "effective_from", "effective_to", "tier"]
    list_filter = ["guild", "tier"]
    search_fields = ["code", "name"]
    list_select_related = ["guild"]


@admin.register(Studio)
class StudioAdmin(RegistryServiceAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    scope_queryset = staticmethod(access.studios)
    create_service = "studio_create"
    update_service = "studio_update"
    instance_kwarg = "studio"

    def has_add_permission(self, request, obj=None):
        return request_scope(request).superuser


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = []

    def has_add_permission(self, request, obj=None):
        return obj is None or access.person_writable(request_scope(request), obj)

    def has_change_permission(self, request, obj=None):
        return obj is None or access.person_writable(request_scope(request), obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    list_display = [
        "legal_name",
        "professional_name",
        "payroll_ref",
        "registered_by",
        "is_deceased",
    ]
    list_filter = [("registered_by", admin.RelatedOnlyFieldListFilter), "is_deceased"]
    search_fields = ["legal_name", "professional_name", "payroll_ref", "memberships__member_number"]
    list_select_related = ["registered_by"]
    inlines = [MembershipInline]
    scope_queryset = staticmethod(lambda scope, qs: access.people(scope, qs).distinct())

    def writable(self, scope, obj):
        return access.person_writable(scope, obj)

    def save_model(self, request, obj, form, change):
        # Through the services, as the API; the form has validated the person already, and
        # the memberships are the inline's (saved next, against the same row).
        if change:
            saved = services.person_update(actor=request.user, person=obj, **form.cleaned_data)
        else:
            saved = services.person_create(actor=request.user, **form.cleaned_data)
        obj.pk, obj._state.adding = saved.pk, False

    def save_related(self, request, form, formsets, change):
        # The inline's rows become the person's memberships through the service, as the API
        # sets them; an inline the user may only view leaves them as they are.
        for formset in formsets:
            if not isinstance(formset.instance, Person) or formset.model is not Membership:
                continue
            if not access.person_writable(request_scope(request), form.instance):
                continue
            memberships = [
                {"guild": row["guild"], "member_number": row["member_number"]}
                for row in formset.cleaned_data
                if row and not row.get("DELETE")
            ]
            services.person_update(
                actor=request.user, person=form.instance, memberships=memberships
            )
            # The admin's change message reads what formset.save() would have listed; the
            # service's history row is the record of what changed.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "registered_by" and not request_scope(request).superuser:
            kwargs["queryset"] = Studio.objects.filter(id__in=request_scope(request).studio_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Production)
class ProductionAdmin(RegistryServiceAdmin):
    list_display = ["title", "studio", "kind", "status", "start_date", "end_date"]
    list_filter = [("studio", admin.RelatedOnlyFieldListFilter), "kind", "status"]
    search_fields = ["title"]
    list_select_related = ["studio"]
    date_hierarchy = None
    scope_queryset = staticmethod(lambda scope, qs: access.productions(scope, qs).distinct())
    create_service = "production_create"
    update_service = "production_update"
    instance_kwarg = "production"
    fixed_after_create = services.PRODUCTION_FIXED

    def writable(self, scope, obj):
        return scope.can_write_studio(obj.studio_id)

    # Agreements are attached and detached in the change page's Agreements section, through
    # production_attach / production_detach (admin_workflows), not edited as inline rows.
    def get_urls(self):
        return [*workflows.production_agreement_urls(self), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {
            **workflows.agreements_context(self, request, object_id),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def response_add(self, request, obj, post_url_continue=None):
        # A new production needs its agreements next: open its page, where they are attached.
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{obj} was added. Attach its agreements below.")
        return redirect(reverse("admin:ledger_production_change", args=[obj.pk]) + "#agreements")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "studio" and not request_scope(request).superuser:
            kwargs["queryset"] = Studio.objects.filter(id__in=request_scope(request).studio_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Engagement)
class EngagementAdmin(RegistryServiceAdmin):
    list_display = [
        "person",
        "production",
        "agreement",
        "classification",
        "rate_shown",
        "rate_unit",
        "start_date",
    ]
    list_filter = [
        ("production", admin.RelatedOnlyFieldListFilter),
        "agreement",
        "classification",
        "rate_unit",
    ]
    search_fields = ["person__legal_name", "person__professional_name", "production__title"]
    list_select_related = ["person", "production", "agreement"]
    scope_queryset = staticmethod(access.engagements)
    create_service = "engagement_create"
    update_service = "engagement_update"
    instance_kwarg = "engagement"
    fixed_after_create = services.ENGAGEMENT_FIXED
    rate_shown = display.money_column("rate_amount", currency="rate_currency", description="rate")

    def writable(self, scope, obj):
        return scope.can_write_studio(obj.production.studio_id)

    def get_urls(self):
        return [*workflows.engagement_import_urls(self), *super().get_urls()]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("agreement")
        if isinstance(field, workflows.AgreementChoiceField):
            workflows.offer_agreements_for_engagement(field, request_scope(request), obj)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = request_scope(request)
        if db_field.name == "agreement":
            kwargs["form_class"] = workflows.AgreementChoiceField
        if not scope.superuser:
            if db_field.name == "production":
                kwargs["queryset"] = Production.objects.filter(studio_id__in=scope.studio_ids)
            elif db_field.name == "person":
                kwargs["queryset"] = access.people(scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StudioStaff)
class StudioStaffAdmin(SuperuserOnlyAdmin, RegistryServiceAdmin):
    list_display = ["user", "studio"]
    list_filter = ["studio"]
    search_fields = ["user__username", "user__email"]
    create_service = "studio_staff_create"
    update_service = "studio_staff_update"
    instance_kwarg = "role"


@admin.register(GuildStaff)
class GuildStaffAdmin(SuperuserOnlyAdmin, RegistryServiceAdmin):
    list_display = ["user", "guild"]
    list_filter = ["guild"]
    search_fields = ["user__username", "user__email"]
    create_service = "guild_staff_create"
    update_service = "guild_staff_update"
    instance_kwarg = "role"


class RegistryServiceForm(ServiceForm):
    """The form of a RegistryServiceAdmin: adds with its `create_service`, changes with its
    `update_service` (set by the admin's get_form, with `request`)."""

    model_admin: RegistryServiceAdmin

    def record(self, data):
        admin_ = self.model_admin
        if self.instance.pk:
            return getattr(services, admin_.update_service)(
                actor=self.request.user, **{admin_.instance_kwarg: self.instance}, **data
            )
        return getattr(services, admin_.create_service)(actor=self.request.user, **data)
