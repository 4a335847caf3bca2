from django import forms
from django.core.validators import validate_email

from console import egress


class NotificationsForm(forms.Form):
    endpoint = forms.URLField(
        required=False, max_length=1000, label="Webhook URL",
        help_text="Run events are POSTed here as JSON, signed in the Polytomic-Signature header.",
    )
    secret = forms.CharField(
        required=False, max_length=200, widget=forms.PasswordInput(render_value=False),
        label="Signing secret", help_text="HMAC-SHA256 key. Leave empty to keep the current one.",
    )
    enabled = forms.BooleanField(required=False, label="Send events to the webhook")
    emails = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Email when a run fails",
        help_text="One address per line. Empty: the organization's admins.",
    )

    def __init__(self, *args, has_secret=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret

    def clean_endpoint(self):
        endpoint = self.cleaned_data["endpoint"]
        refused = endpoint and egress.url_problem(endpoint)
        if refused:
            raise forms.ValidationError(refused)
        return endpoint

    def clean_emails(self):
        emails = [line.strip() for line in self.cleaned_data["emails"].splitlines() if line.strip()]
        for email in emails:
            validate_email(email)
        return emails

    def clean(self):
        data = super().clean()
        if data.get("endpoint") and not data.get("secret") and not self.has_secret:
            self.add_error("secret", "A new webhook needs a signing secret.")
        return data


class ErrorHandlingForm(forms.Form):
    """A sync's error handling (engine/error_handling.py) on its notification settings."""

    subscribers = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Email when this sync fails",
        help_text="One address per line. Empty: the organization's failure subscribers.",
    )
    notify_after_failures = forms.IntegerField(
        min_value=1, max_value=100, initial=1, label="After how many failed runs in a row",
    )
    notify_on_record_errors = forms.BooleanField(required=False, label="Runs with record errors count as failed")
    warning_notifications = forms.BooleanField(required=False, label="Runs with warnings count as failed")

    def clean_subscribers(self):
        emails = [line.strip() for line in self.cleaned_data["subscribers"].splitlines() if line.strip()]
        for email in emails:
            validate_email(email)
        return emails
