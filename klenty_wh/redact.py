"""Masking of secrets and personal data in everything the tool prints.

Passwords are never printed: every URL is shown with its password masked, and any
password seen in a URL is registered so that error text from drivers is scrubbed too.
Email addresses (``user_id``, ``from_id``) are shown as ``m***@example.com`` unless the
user asks for the values.
"""

from __future__ import annotations

import re
import threading

_MASK = "***"
_secrets: set[str] = set()
_lock = threading.Lock()

# Userinfo of a URL: scheme://user:password@host. The password stops at the last "@"
# before the host part, so passwords that contain "@" or ":" are still caught.
_URL_PASSWORD = re.compile(r"(?P<prefix>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^\s/]*)@")
# An email address not preceded by "/", so the user part of a URL (scheme://user@host) stays.
_EMAIL = re.compile(r"(?<![\w./+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def register_secret(secret: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it from any later text."""
    if secret and len(secret) >= 3:
        with _lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """Return ``text`` with URL passwords and registered secrets replaced by ``***``."""
    text = _URL_PASSWORD.sub(lambda m: m.group("prefix") + _MASK + "@", text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


def mask_email(value: str) -> str:
    """Mask one value that may be an email address: ``maya@example.com`` -> ``m***@example.com``.

    A value that is not email-shaped keeps its first character and loses the rest, because it
    may still identify a person (``maya.fernandes`` -> ``m***``).
    """
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}{_MASK}@{domain}"
    return f"{value[:1]}{_MASK}" if value else value


def mask_emails_in_text(text: str) -> str:
    """Mask every email address inside free text (sample rows, SQL literals, messages)."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}{_MASK}@{m.group(2)}", text)


def redact_diagnostic(text: str) -> str:
    """Return ``text`` with secrets removed and email addresses masked, for stderr and logs.

    Diagnostics may quote data (a driver error citing a value); they never need the
    address itself.
    """
    return mask_emails_in_text(redact(text))
