from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from console.throttle import wait_seconds

from .models import Organization, Role, User


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
        wait = wait_seconds(f"signin:{email}", settings.SIGNIN_ATTEMPTS_PER_15_MINUTES, 900)
        if wait:
            minutes = max(1, round(wait / 60))
            raise forms.ValidationError(
                f"Too many sign-in attempts for this account. Try again in {minutes} minute(s).",
                code="throttled",
            )
        return super().clean()


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ADMIN, required=False,
                             help_text="What programs using this key may do.")

    def clean_role(self):
        return self.cleaned_data["role"] or Role.ADMIN


class MemberForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
