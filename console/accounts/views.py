from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .decorators import admin_required, organization_required
from .forms import ApiKeyForm, SignInForm, SignUpForm
from .middleware import SESSION_KEY
from .models import ApiKey, Membership


def signup(request):
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


@organization_required
def home(request):
    return render(request, "accounts/home.html")


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
def settings_page(request):
    return render(
        request,
        "accounts/settings.html",
        {
            "api_keys": request.organization.api_keys.select_related("created_by"),
            "members": request.organization.memberships.select_related("user").order_by(
                "user__email"
            ),
            "form": ApiKeyForm(),
        },
    )


@require_POST
@admin_required
def create_api_key(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/_api_key_form.html", {"form": form}, status=400)
    api_key, raw_key = services.create_api_key(
        request.organization, form.cleaned_data["name"], created_by=request.user
    )
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
