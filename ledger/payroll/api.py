"""The payroll integration over REST: what is owed (payables), what was paid (payments, with
Idempotency-Key), balances, the journal's transactions, and CSV exports of the same queries.

A payable names its payee: a person (their pay) or a union fund (a pension, health or other
contribution owed on behalf of the member of its engagement). Both are listed, paid and summed
the same way; `payee_kind` and `fund` filter them."""

from decimal import Decimal
from typing import Any, cast

import orjson
from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core import csv_safe
from core.api import scopes
from core.api.common import MAX_ID, ErrorSerializer
from core.api.downloads import CsvNegotiation, csv_download, csv_response
from core.api.fields import (
    DecimalStringField,
    ModelSerializer,
    StrictCharField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
)
from core.api.pagination import IdCursorPagination
from core.api.renderers import FastJSONRenderer
from core.errors import DomainError
from core.money import money_str
from ledger import access
from ledger.access import filters as access_filters
from ledger.access.api import ScopedViewSet
from ledger.journal import selectors as journal_selectors
from ledger.journal import services as journal_services
from ledger.models import Agreement, JournalTransaction, Payable, Payment, Posting, Studio
from ledger.payroll import filters
from ledger.payroll.filters import PAYEE_KINDS, PayableFilter, PaymentFilter, TransactionFilter
from ledger.payroll.rows import payable_row, payable_values

IDEMPOTENCY_HEADER = "Idempotency-Key"


class SeqCursorPagination(IdCursorPagination):
    ordering = "seq"


# --- serializers ---------------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    id = StrictIntegerField()
    name = StrictCharField()
    payroll_ref = StrictCharField()


class PayeeSerializer(serializers.Serializer):
    """Who a payable is owed to: a person (`person` is their id) or a union fund (`fund` is its
    code)."""

    kind = serializers.ChoiceField(choices=PAYEE_KINDS, source="payee_kind")
    person = StrictIntegerField(source="person_id", allow_null=True)
    fund = StrictCharField(allow_blank=True)


class ProductionRefSerializer(serializers.Serializer):
    id = StrictIntegerField()
    title = StrictCharField()


class FringeSerializer(serializers.Serializer):
    fund = StrictCharField()
    rule = StrictCharField()
    amount = DecimalStringField(max_digits=14, decimal_places=2)


class PayableSerializer(ModelSerializer):
    """An amount owed to a person or a union fund: what is owed, what has been paid, what is
    still due, and the rule it comes from."""

    payee = PayeeSerializer(source="*")
    person = PersonRefSerializer(allow_null=True, help_text="The person paid; null for a fund.")
    production = ProductionRefSerializer()
    agreement: "serializers.SlugRelatedField[Agreement]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    amount = DecimalStringField(
        source="owed_amount", max_digits=14, decimal_places=2, help_text="What is owed."
    )
    paid = DecimalStringField(source="paid_amount", max_digits=14, decimal_places=2)
    due = DecimalStringField(source="due_amount", max_digits=14, decimal_places=2)
    fringes = FringeSerializer(
        many=True,
        help_text="On payables written before each fund's contribution became a payable of its "
        "own (payee kind `fund`): the contributions noted here. Empty on newer payables.",
    )

    class Meta:
        model = Payable
        fields = [
            "id",
            "payee",
            "person",
            "production",
            "engagement",
            "agreement",
            "rule",
            "description",
            "amount",
            "paid",
            "due",
            "currency",
            "fringes",
            "period_from",
            "period_to",
            "due_date",
        ]


class PaymentSerializer(ModelSerializer):
    """A payment payroll made against a payable, recorded in the journal once per
    Idempotency-Key."""

    payable = StrictPrimaryKeyRelatedField(queryset=Payable.objects.all())
    amount = DecimalStringField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    payroll_reference = StrictCharField(max_length=100)
    transaction = serializers.UUIDField(source="transaction_id", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "payable",
            "amount",
            "currency",
            "paid_at",
            "payroll_reference",
            "transaction",
            "created_at",
        ]
        read_only_fields = ["currency", "created_at"]
        validators: list[Any] = []  # the reference's uniqueness is the service's 409, not a 400

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            scope = access.request_scope(self.context["request"])
            writable = Payable.objects.all()
            if not scope.superuser:
                writable = writable.filter(studio_id__in=scope.studio_ids)
            cast(StrictPrimaryKeyRelatedField, self.fields["payable"]).queryset = writable


class PostingSerializer(ModelSerializer):
    """One leg of a journal transaction: an amount on an account, positive a debit and
    negative a credit."""

    account = StrictCharField(source="account.key")
    purpose = StrictCharField(source="account.purpose")

    class Meta:
        model = Posting
        fields = ["account", "purpose", "payable", "effect", "amount", "currency"]


class TransactionSerializer(ModelSerializer):
    """A journal transaction: balanced postings, never edited (a correction is a reversing
    transaction)."""

    studio: "serializers.SlugRelatedField[Studio]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    actor = StrictCharField(source="actor.username")
    postings = PostingSerializer(many=True)

    class Meta:
        model = JournalTransaction
        fields = [
            "id",
            "seq",
            "kind",
            "studio",
            "source_type",
            "source_id",
            "description",
            "effective_date",
            "created_at",
            "actor",
            "reverses",
            "prev_hash",
            "hash",
            "postings",
        ]


class ReverseSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=400)


class BalanceQuerySerializer(serializers.Serializer):
    group = serializers.ChoiceField(
        choices=list(journal_selectors.BALANCE_GROUPS),
        default="studio",
        required=False,
        help_text="studio and production: payables to people and to funds; person and "
        "engagement: payables to people only; fund: payables to funds only.",
    )
    studio = StrictCharField(required=False, max_length=60, help_text=access_filters.STUDIO_HELP)
    production = StrictIntegerField(required=False, min_value=1, max_value=MAX_ID)
    person = StrictIntegerField(required=False, min_value=1, max_value=MAX_ID)
    engagement = StrictIntegerField(required=False, min_value=1, max_value=MAX_ID)
    fund = StrictCharField(required=False, max_length=60)

    def validate(self, attrs):
        """Each filter names something the caller can see (see ledger.payroll.filters); the
        studio arrives as its id."""
        scope = access.request_scope(self.context["request"])
        errors = {}
        if "studio" in attrs:
            attrs["studio"] = access_filters.visible_studio_id(scope, attrs["studio"])
            if attrs["studio"] is None:
                errors["studio"] = "No studio by this id or slug that you can see."
        for name, visible in (
            ("production", access_filters.production_visible),
            ("person", access_filters.person_visible),
            ("engagement", access_filters.engagement_visible),
            ("fund", filters.fund_known),
        ):
            if name in attrs and not visible(scope, attrs[name]):
                errors[name] = f"No {name} {attrs[name]} that you can see."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class BalanceSerializer(serializers.Serializer):
    studio = StrictIntegerField()
    production = StrictIntegerField(required=False, allow_null=True)
    person = StrictIntegerField(required=False, allow_null=True)
    engagement = StrictIntegerField(required=False, allow_null=True)
    fund = StrictCharField(required=False, allow_null=True)
    currency = StrictCharField()
    owed = DecimalStringField(max_digits=14, decimal_places=2)
    paid = DecimalStringField(max_digits=14, decimal_places=2)
    due = DecimalStringField(max_digits=14, decimal_places=2)


# --- views ---------------------------------------------------------------------------------


def _csv_response(request, filename: str, header: list[str], rows) -> HttpResponseBase:
    return csv_response(request, csv_safe.lines(header, rows), filename)


# An export takes the list's filters (filterset_class on its action); `filters=True` publishes
# them, as drf-spectacular does so only for lists.
CSV_SCHEMA = csv_download(filters=True)
PAYABLE_IDS = access_filters.ids_parameter("Payables (the ids a `payables.created` message names)")


class PayableViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    """Obligations with an amount still due, to people and to union funds, in a stable id
    order."""

    serializer_class = PayableSerializer
    filterset_class = PayableFilter
    queryset = Payable.objects.all()
    scope_queryset = staticmethod(lambda scope, qs: journal_selectors.open_payables(scope))
    payroll_read_scope = scopes.PAYABLES_READ

    def get_renderers(self):
        if self.action == "list":
            return [FastJSONRenderer()]
        return super().get_renderers()

    def _rows(self):
        qs = self.filter_queryset(self.get_queryset())
        return payable_values(qs)

    @extend_schema(parameters=[PAYABLE_IDS], responses=PayableSerializer(many=True))
    def list(self, request):
        """Obligations with an amount still due (JSON only: payroll pages through many)."""
        page = self.paginate_queryset(self._rows())
        assert page is not None  # the default pagination (IdCursorPagination) always pages
        return self.get_paginated_response([payable_row(v) for v in page])

    @csv_download(filters=True, parameters=[PAYABLE_IDS])
    @action(
        detail=False,
        url_path="export",
        pagination_class=None,
        filterset_class=PayableFilter,
        content_negotiation_class=CsvNegotiation,
    )
    def export(self, request):
        """The same payables as the list (same query, same filters), as CSV for payroll clerks:
        every field of the list, a fund contribution on a row of its own (payee_kind `fund`),
        and the fringes an older payable notes beside its pay (`fund rule amount`, separated by
        `; `) with their total."""
        header = [
            "payable_id",
            "payee_kind",
            "fund",
            "person_id",
            "person",
            "payroll_ref",
            "production_id",
            "production",
            "engagement_id",
            "agreement",
            "rule",
            "description",
            "amount",
            "paid",
            "due",
            "currency",
            "fringes",
            "fringes_total",
            "period_from",
            "period_to",
            "due_date",
        ]
        return _csv_response(
            request,
            "payables.csv",
            header,
            map(_payable_csv_row, self._rows().iterator(chunk_size=1000)),
        )


def _payable_csv_row(values: dict) -> list:
    r = payable_row(values)
    fringes = orjson.loads(values["fringes_json"]) or []
    total = sum((Decimal(f["amount"]) for f in fringes), Decimal(0))
    return [
        r["id"],
        r["payee"]["kind"],
        r["payee"]["fund"],
        *((r["person"] or {}).get(name) for name in ("id", "name", "payroll_ref")),
        r["production"]["id"],
        r["production"]["title"],
        r["engagement"],
        r["agreement"],
        r["rule"],
        r["description"],
        r["amount"],
        r["paid"],
        r["due"],
        r["currency"],
        "; ".join(f"{f['fund']} {f['rule']} {f['amount']}" for f in fringes),
        money_str(total) if fringes else "",
        r["period_from"],
        r["period_to"],
        r["due_date"],
    ]


class PaymentViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Payments payroll confirmed. POST needs an `Idempotency-Key` header."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    queryset = Payment.objects.all()
    scope_queryset = staticmethod(lambda scope, qs: journal_selectors.scoped_payments(scope))
    payroll_read_scope = scopes.PAYMENTS_READ
    payroll_write_scope = scopes.PAYMENTS_WRITE

    def _client(self) -> str:
        scope = self.scope
        if scope.payroll_key is not None:
            return f"key:{scope.payroll_key.pk}"
        return f"user:{self.request.user.pk}"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="A unique key per payment, reused on every retry (max 255 chars).",
            ),
            OpenApiParameter(
                "Idempotent-Replayed",
                str,
                OpenApiParameter.HEADER,
                enum=["true"],
                response=[201],
                description="`true` when this is the stored answer to an earlier request with "
                "the same Idempotency-Key and body: the payment was recorded then, not now.",
            ),
        ],
        responses={
            201: PaymentSerializer,
            422: OpenApiResponse(
                ErrorSerializer,
                description="Refused by the ledger's rules, nothing written: more than the "
                "payable still has due (`overpayment`), or an Idempotency-Key already used with "
                "another body (`idempotency_key_reused`).",
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Record a payment against a payable, exactly once per Idempotency-Key."""
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key:
            raise DomainError(
                "The Idempotency-Key header is required.", code="idempotency_key_required"
            )
        if len(key) > 255:
            raise DomainError(
                "The Idempotency-Key is longer than 255 characters.",
                code="idempotency_key_invalid",
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = journal_services.payment_confirm(
            actor=request.user,
            client=self._client(),
            idempotency_key=key,
            payable=data["payable"],
            amount=data["amount"],
            paid_at=data["paid_at"],
            payroll_reference=data["payroll_reference"],
            render=lambda payment: PaymentSerializer(payment).data,
        )
        body = result.body
        if result.replayed:
            # PostgreSQL's jsonb does not keep key order: restore the serializer's, so that a
            # replay is byte-identical to the first response.
            order = {name: n for n, name in enumerate(PaymentSerializer().fields)}
            body = dict(sorted(body.items(), key=lambda item: order.get(item[0], len(order))))
        response = Response(body, status=result.status)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @CSV_SCHEMA
    @action(
        detail=False,
        url_path="export",
        pagination_class=None,
        filterset_class=PaymentFilter,
        content_negotiation_class=CsvNegotiation,
    )
    def export(self, request):
        """The same payments as the list (same filters), as CSV."""
        qs = self.filter_queryset(self.get_queryset()).order_by("id")
        header = [
            "payment_id",
            "payable_id",
            "payee_kind",
            "fund",
            "person_id",
            "person",
            "production_id",
            "amount",
            "currency",
            "paid_at",
            "payroll_reference",
            "transaction_id",
        ]
        rows = (
            [
                p.id,
                p.payable_id,
                p.payable.payee_kind,
                p.payable.fund,
                p.payable.person_id,
                p.payable.person.name if p.payable.person else None,
                p.payable.production_id,
                money_str(p.amount),
                p.currency,
                p.paid_at.isoformat(),
                p.payroll_reference,
                p.transaction_id,
            ]
            for p in qs.iterator(chunk_size=1000)
        )
        return _csv_response(request, "payments.csv", header, rows)


class TransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The journal, read-only, with postings, in chain order."""

    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    pagination_class = SeqCursorPagination
    queryset = JournalTransaction.objects.all()
    payroll_read_scope = scopes.LEDGER_READ  # reversing is for studio staff: no write scope
    scope_queryset = staticmethod(
        lambda scope, qs: (
            journal_selectors.scoped_transactions(scope)
            .select_related("studio", "actor")
            .prefetch_related("postings__account")
        )
    )

    @extend_schema(request=ReverseSerializer, responses={201: TransactionSerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Post the reversing transaction (a correction). Refused twice for one transaction."""
        original = self.get_object()
        if not self.scope.can_write_studio(original.studio_id):
            raise DomainError(
                "You can see this transaction but not reverse it.",
                code="permission_denied",
                status_code=status.HTTP_403_FORBIDDEN,
            )
        body = ReverseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reversal = journal_services.journal_reverse(
            actor=request.user, transaction_id=original.pk, reason=body.validated_data["reason"]
        )
        reversal = self.get_queryset().get(pk=reversal.pk)
        return Response(TransactionSerializer(reversal).data, status=status.HTTP_201_CREATED)


class BalanceView(APIView):
    """Owed, paid and due per studio, production, person, engagement or fund, per currency.
    Studio and production balances hold payables to people and to funds; person and engagement
    balances, payables to people only; fund balances, payables to funds only."""

    payroll_read_scope = scopes.LEDGER_READ

    @extend_schema(parameters=[BalanceQuerySerializer], responses=BalanceSerializer(many=True))
    def get(self, request):
        query = BalanceQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        group = params.pop("group", "studio")
        rows = journal_selectors.balances(
            access.request_scope(request), group=group, filters=params
        )
        return Response(BalanceSerializer(rows, many=True).data)
