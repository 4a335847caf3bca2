from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console.access import services as access
from console.access.models import ACTIONS
from console.access.rules import visible
from console.api.errors import ApiError
from console.connections.services import organization_connections
from console.engine import overview
from console.throttle import client_ip, minutes, wait_seconds

from . import known_device, services
from .decorators import admin_required, organization_required
from .forms import ApiKeyForm, MemberForm, RedirectUrlsForm, SignInForm, SignUpForm
from .middleware import SESSION_KEY
from .models import ApiKey, Membership, Role


def signup(request):
    if not settings.ALLOW_SIGNUP:
        return render(request, "accounts/signup_closed.html", status=403)
    if request.method == "POST":
        wait = wait_seconds(f"signup-ip:{client_ip(request)}", settings.SIGNUPS_PER_IP_PER_HOUR, 3600)
        if wait:
            # Not validated: the form's answers would tell which emails have accounts.
            form = SignUpForm(initial={k: request.POST.get(k, "") for k in ("email", "organization")})
            message = f"Too many sign-ups from your network. Try again in {minutes(wait)} minute(s)."
            return render(request, "accounts/signup.html", {"form": form, "throttled": message}, status=429)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.sign_up(data["email"], data["password"], data["organization"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


class SignInView(auth_views.LoginView):
    template_name = "accounts/signin.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "allow_signup": settings.ALLOW_SIGNUP}

    def form_valid(self, form):
        response = super().form_valid(form)
        known_device.remember(response, self.request, form.get_user().email)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response


@organization_required
def home(request):
    org = request.organization
    attention = overview.attention(
        visible(request, org.syncs.all(), "sync"),
        visible(request, org.bulk_syncs.all(), "bulk_sync"),
        visible(request, organization_connections(org), "connection"),
    )
    return render(request, "accounts/home.html", {"attention": attention, "has_syncs": org.syncs.exists()})


@require_POST
@organization_required
def switch_organization(request):
    membership = get_object_or_404(
        Membership, user=request.user, organization_id=request.POST.get("organization")
    )
    request.session[SESSION_KEY] = str(membership.organization_id)
    messages.info(request, f"Switched to {membership.organization.name}.")
    return redirect("home")


@organization_required
def settings_page(request, member_form=None, invited=None, redirect_form=None, status=200):
    return render(
        request,
        "accounts/settings.html",
        {
            "api_keys": request.organization.api_keys.select_related("created_by"),
            "members": [(m, access.single_role(m)) for m in access.members(request.organization)],
            "permission_roles": access.organization_roles(request.organization),
            "actions": ACTIONS,
            "form": ApiKeyForm(),
            "member_form": member_form or MemberForm(),
            "redirect_form": redirect_form or RedirectUrlsForm(
                initial={"urls": "\n".join(request.organization.oauth_redirect_urls)}),
            "roles": Role.choices,
            "invited": invited,
        },
        status=status,
    )


@require_POST
@admin_required
def invite_member(request):
    form = MemberForm(request.POST)
    if not form.is_valid():
        return settings_page(request, member_form=form, status=400)
    membership, password = services.invite_member(request.organization, form.cleaned_data["email"],
                                                  form.cleaned_data["role"])
    request.audit_object = membership
    messages.success(request, f"{membership.user.email} is now a {membership.get_role_display()} member.")
    invited = {"email": membership.user.email, "password": password} if password else None
    return settings_page(request, invited=invited)


@require_POST
@admin_required
def update_redirect_urls(request):
    form = RedirectUrlsForm(request.POST)
    if not form.is_valid():
        return settings_page(request, redirect_form=form, status=400)
    services.set_oauth_redirect_urls(request.organization, form.cleaned_data["urls"])
    request.audit_object = request.organization
    messages.success(request, "Saved the OAuth redirect URLs.")
    return redirect("settings")


@require_POST
@admin_required
def update_record_logging(request):
    services.set_record_logging(request.organization, request.POST.get("enabled") == "on")
    request.audit_object = request.organization
    messages.success(request, "Record logging is " + ("on." if request.organization.record_logging else "off."))
    return redirect("settings")


@require_POST
@admin_required
def change_member_role(request, membership_id):
    membership = get_object_or_404(Membership, pk=membership_id, organization=request.organization)
    try:
        access.set_single_role(membership, request.POST.get("role", ""))
        messages.success(request, f"Changed the role of {membership.user.email}.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("settings")


@require_POST
@admin_required
def remove_member(request, membership_id):
    membership = get_object_or_404(Membership, pk=membership_id, organization=request.organization)
    try:
        access.remove_user(membership)
        messages.success(request, f"{membership.user.email} no longer belongs to {request.organization.name}.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("settings")


@require_POST
@admin_required
def create_api_key(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/_api_key_form.html", {"form": form}, status=400)
    api_key, raw_key = services.create_api_key(
        request.organization, form.cleaned_data["name"], created_by=request.user,
        role=form.cleaned_data["role"],
    )
    request.audit_object = api_key
    return render(
        request,
        "accounts/_api_key_created.html",
        {"api_key": api_key, "raw_key": raw_key, "form": ApiKeyForm()},
    )


@require_POST
@admin_required
def revoke_api_key(request, key_id):
    api_key = get_object_or_404(ApiKey, pk=key_id, organization=request.organization)
    api_key.revoke()
    if request.htmx:
        return render(request, "accounts/_api_key_row.html", {"key": api_key})
    return redirect("settings")
