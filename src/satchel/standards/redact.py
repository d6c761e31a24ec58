"""Credentials hidden in URLs shown to people (messages, logs, errors), as pip hides them.

``scheme://user:password@host`` is shown as ``scheme://user:****@host``; a user name alone
(``scheme://token@host``, usually a token) as ``scheme://****@host``. Every URL in a text is
redacted, wherever it appears. Nothing else changes: the user name stays readable when there is
a password, so a message still says which account was used.
"""

from __future__ import annotations

# A scheme, "://", then the userinfo: everything up to the last "@" before the host's end.
# (A string, compiled by ``re`` when first used: only messages need it.)
_USERINFO = r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]*)@"


def redact(text: str) -> str:
    """``text`` with the credentials of every ``scheme://userinfo@`` URL in it hidden."""
    if "@" not in text:
        return text
    import re

    def hide(m: re.Match[str]) -> str:
        user, colon, _ = m.group("userinfo").partition(":")
        if colon:
            return f"{m.group('scheme')}{user}:****@"
        return f"{m.group('scheme')}****@"

    return re.sub(_USERINFO, hide, text)
