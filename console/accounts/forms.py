from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from console.throttle import client_ip, minutes, wait_seconds

from . import known_device
from .models import Organization, Role, User
from .redirect_urls import RedirectRefused, parse


class SignUpForm(forms.Form):
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)
    organization = forms.CharField(max_length=200, label="Organization name")

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email

    def clean_organization(self):
        name = self.cleaned_data["organization"].strip()
        if Organization.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("That organization name is taken.")
        return name

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class SignInForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))

    def clean(self):
        email = (self.cleaned_data.get("username") or "").lower()
        refusal = self.throttled(email)
        if refusal:
            raise forms.ValidationError(refusal, code="throttled")
        return super().clean()

    def throttled(self, email: str) -> str | None:
        """A browser where this account signed in before has its own budget; any other
        attempt spends its address's budget and the account's."""
        per_account = settings.SIGNIN_ATTEMPTS_PER_15_MINUTES
        device = known_device.device_of(self.request, email)
        if device:
            wait = wait_seconds(f"signin:{email}:device:{device}", per_account, 900)
            if wait:
                return f"Too many sign-in attempts from this browser. Try again in {minutes(wait)} minute(s)."
            return None
        address = client_ip(self.request) if self.request else ""
        wait = wait_seconds(f"signin-ip:{address}", settings.SIGNIN_ATTEMPTS_PER_IP_PER_15_MINUTES, 900)
        if wait:
            return f"Too many sign-in attempts from your network. Try again in {minutes(wait)} minute(s)."
        wait = wait_seconds(f"signin:{email}", per_account, 900)
        if wait:
            return (f"Too many sign-in attempts for this account. Try again in {minutes(wait)} minute(s), "
                    "or from a browser where you signed in before.")
        return None


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ADMIN, required=False,
                             help_text="What programs using this key may do.")

    def clean_role(self):
        return self.cleaned_data["role"] or Role.ADMIN


class MemberForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RedirectUrlsForm(forms.Form):
    MAX_ENTRIES = 50

    urls = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="OAuth redirect URLs",
        help_text="One origin or URL prefix a line, e.g. https://app.example.com or "
                  "https://app.example.com/oauth/done. Empty: only this console's own address.")

    def clean_urls(self):
        lines = list(dict.fromkeys(line.strip() for line in self.cleaned_data["urls"].splitlines() if line.strip()))
        if len(lines) > self.MAX_ENTRIES:
            raise forms.ValidationError(f"At most {self.MAX_ENTRIES} entries.")
        for line in lines:
            try:
                parts = parse(line)
            except RedirectRefused as error:
                raise forms.ValidationError(f"{line} {error}") from None
            if parts.query or parts.fragment:
                raise forms.ValidationError(f"{line}: give an origin or a path prefix, without ? or #.")
        return lines
