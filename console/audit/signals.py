from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .services import record_sign_in


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs):
    for membership in user.memberships.select_related("organization"):
        record_sign_in(user, membership.organization)
