"""The login backend of the observatory: Django's model backend, whose `get_user` — run on
every request of a signed-in person — reads the user from the shared cache.

Only with a shared cache (`USER_CACHE`, on with Redis): each process's own memory could keep a
deactivated account alive in another worker. Every save of a user but a login's, and every
deletion, forgets the entry (receivers connected by `CompaniesConfig.ready`, so in every
process), and the entry expires after `USER_TIMEOUT` in case a change bypassed the ORM. The
session's hash is still checked against the cached password hash by Django, so a password
changed elsewhere ends the other sessions as before.
"""

import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

logger = logging.getLogger(__name__)

USER_KEY = "companies:user:v1:{user_id}"
USER_TIMEOUT = 300


def user_key(user_id) -> str:
    return USER_KEY.format(user_id=user_id)


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id):
        if not settings.USER_CACHE:
            return super().get_user(user_id)
        key = user_key(user_id)
        try:
            user = cache.get(key)
        except Exception:
            logger.warning("could not read the user from the cache", exc_info=True)
            return super().get_user(user_id)
        if user is not None:
            return user if self.user_can_authenticate(user) else None
        user = super().get_user(user_id)
        if user is not None:
            try:
                cache.set(key, user, USER_TIMEOUT)
            except Exception:
                logger.warning("could not store the user in the cache", exc_info=True)
        return user


def forget_user(user_id) -> None:
    try:
        cache.delete(user_key(user_id))
    except Exception:  # a change of account must never fail on the cache; the entry expires
        logger.warning("could not forget the cached user %s", user_id, exc_info=True)


def user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """Any save but a login's (`last_login` alone): password, e-mail, active or superuser flag."""
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    forget_user(instance.pk)


def user_deleted(sender, instance, **kwargs) -> None:
    forget_user(instance.pk)


def connect_receivers() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    post_save.connect(user_saved, sender=user_model, dispatch_uid="companies_cached_user_saved")
    post_delete.connect(user_deleted, sender=user_model, dispatch_uid="companies_cached_user_deleted")
