"""PEP 508 marker evaluation for a target environment, with one policy for what cannot be
evaluated.

A marker is evaluated against the *target* interpreter's environment (the probe's marker values,
never the running interpreter's) with ``extra`` set to one normalized extra, or "" for none.

**Undefined markers.** packaging cannot evaluate some markers that it parses: a comparison it
does not define (``python_version ~= "x"``, ``UndefinedComparison``), or a variable the
environment does not have (``"x" in extras`` in core metadata: ``UndefinedEnvironmentName``, or a
bare ``KeyError`` from packaging 26). :func:`marker_holds` raises :class:`MarkerUndefined` for
all of them, and every caller applies this one policy:

- a *dependency* (Requires-Dist) whose marker is undefined is left out, and the resolver warns
  ("Ignoring dependency ... cannot evaluate its marker"), once per release, as pip does; the
  lookahead's guesses leave it out silently (the resolver warns when it gets there);
- a *root requirement or constraint* (the user's own input) whose marker is undefined is an error
  naming it: the user can fix it, and guessing would install the wrong set;
- the *no-op check* (``install/satisfied.py``) never decides on an undefined marker: whenever the
  resolver would warn or fail, the check answers "not satisfied", the full install runs, and the
  user sees the same warning or error as without the check. So "nothing to do" is said exactly
  when a resolution would keep the installed set silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName


class MarkerUndefined(ValueError):
    """A marker packaging cannot evaluate in the target environment (see the module docstring)."""


def marker_holds(marker: Marker, env: Mapping[str, str], extra: str = "") -> bool:
    """Whether ``marker`` holds in the target environment ``env`` for ``extra``.

    Raises :class:`MarkerUndefined` when it cannot be evaluated (the message says why).
    """
    full = dict(env)
    full["extra"] = extra
    try:
        return bool(marker.evaluate(full))
    except (UndefinedComparison, UndefinedEnvironmentName) as e:
        raise MarkerUndefined(str(e)) from None
    except KeyError as e:  # packaging 26: a variable the environment does not have
        raise MarkerUndefined(f"{e.args[0]!r} is not defined here") from None
