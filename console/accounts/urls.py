from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup", views.signup, name="signup"),
    path("signin", views.SignInView.as_view(), name="signin"),
    path("signout", auth_views.LogoutView.as_view(), name="signout"),
    path("organizations/switch", views.switch_organization, name="switch-organization"),
    path("settings", views.settings_page, name="settings"),
    path("settings/api-keys", views.create_api_key, name="api-key-create"),
    path("settings/api-keys/<uuid:key_id>/revoke", views.revoke_api_key, name="api-key-revoke"),
    path("settings/members", views.invite_member, name="member-invite"),
    path("settings/oauth-redirect-urls", views.update_redirect_urls, name="oauth-redirect-urls"),
    path("settings/record-logging", views.update_record_logging, name="record-logging"),
    path("settings/members/<int:membership_id>/role", views.change_member_role, name="member-role"),
    path("settings/members/<int:membership_id>/remove", views.remove_member, name="member-remove"),
]
