"""Form fields that read text as the API does (`core.parse`), for the admin's forms.

Django's form fields are lenient where the API is strict: `forms.DecimalField` strips spaces and
takes "1e2", "+1", ".5", "1_000" and other scripts' digits ("１.００", "١.٠٠"); `forms.DateField`
and the admin's split date-time field take years 1 to 9999. Every admin model form gets the
strict fields through `ScopedAdminMixin.formfield_overrides`.
"""

from django import forms

from core import parse


class StrictDecimalFormField(forms.DecimalField):
    """An amount written in the API's syntax: ASCII digits, a `-` only where the field allows
    negatives, at most one `.` with digits on both sides."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        allow_negative = self.min_value is None or self.min_value < 0
        try:
            parse.parse_decimal(
                str(value),
                field="",
                allow_negative=allow_negative,
                max_digits=self.max_digits,
                decimal_places=self.decimal_places,
            )
        except parse.ParseError as error:
            raise forms.ValidationError(error.message, code="invalid") from None
        return super().to_python(value)


class StrictDateFormField(forms.DateField):
    """A date from the admin's date widget, in years 1900 to 2200 and in ASCII digits."""

    def to_python(self, value):
        if isinstance(value, str) and not value.strip().isascii():
            raise forms.ValidationError("A date is written YYYY-MM-DD.", code="invalid")
        day = super().to_python(value)
        if day is None:
            return None
        try:
            return parse.check_date(day, field="")
        except parse.ParseError as error:
            raise forms.ValidationError(error.message, code="invalid") from None


class StrictSplitDateTimeFormField(forms.SplitDateTimeField):
    """The admin's date and time inputs, in years 1900 to 2200 and in ASCII digits."""

    def compress(self, data_list):
        instant = super().compress(data_list)
        if instant is None:
            return None
        if not parse.MIN_YEAR <= instant.year <= parse.MAX_YEAR:
            raise forms.ValidationError(
                f"The year must be from {parse.MIN_YEAR} to {parse.MAX_YEAR}.", code="invalid"
            )
        return instant

    def clean(self, value):
        if isinstance(value, list | tuple) and not all(
            v is None or not isinstance(v, str) or v.isascii() for v in value
        ):
            raise forms.ValidationError("Write the date and time in ASCII digits.", code="invalid")
        return super().clean(value)
