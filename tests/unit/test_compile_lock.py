"""compile_lock.requirement_edge, the narrow reading of Requires-Dist lines for a lock's
markers, against the same done with packaging alone (``packaging_requirement_edge``): the same
dependency and edge marker, or the same "does not apply", for random lines and for every
Requires-Dist of the test environment's own distributions."""

from __future__ import annotations

import random

from packaging.markers import default_environment

from satchel.commands.compile_lock import packaging_requirement_edge, requirement_edge
from satchel.standards.narrow import narrow_requirement
from tests.unit.test_standards_narrow import _ENVS, _requirement_text

_EXTRAS = [[""], ["", "test"], ["", "Dev", "sec"], ["", "a-b"]]


def _environments() -> list[dict[str, str]]:
    return [{**default_environment(), **env} for env in _ENVS]


def test_random_lines_give_the_edges_packaging_gives() -> None:
    rng = random.Random(751)
    environments = _environments()
    narrow = compared = 0
    for _ in range(1200):
        text = _requirement_text(rng)
        if rng.random() < 0.3:  # markers that name an extra, as Requires-Dist lines often do
            text = text.split(";")[0] + rng.choice(
                ['; extra == "test"', "; extra == 'Dev' and python_version >= '3'",
                 '; sys_platform == "win32" or extra == "sec"', "; extra == 'other'"]
            )  # fmt: skip
        narrow += narrow_requirement(text) is not None
        for env in environments:
            for extras in _EXTRAS:
                assert requirement_edge(text, env, extras) == packaging_requirement_edge(text, env, extras), (
                    text, env["sys_platform"], extras
                )  # fmt: skip
                compared += 1
    assert narrow > 200 and compared > 20_000  # the narrow path was taken often


def test_real_requires_dist_lines_give_the_edges_packaging_gives() -> None:
    import importlib.metadata

    environments = _environments()
    seen = 0
    for dist in importlib.metadata.distributions():
        for text in dist.requires or ():
            for env in environments:
                for extras in _EXTRAS:
                    assert requirement_edge(text, env, extras) == packaging_requirement_edge(text, env, extras), text
            seen += 1
    assert seen > 20


def test_edges() -> None:
    env = {**default_environment(), **_ENVS[0]}  # Linux, CPython 3.11
    assert requirement_edge("Foo_Bar>=1", env, [""]) == ("foo-bar", None)
    assert requirement_edge('foo; extra == "test"', env, [""]) is None
    assert requirement_edge('foo; extra == "Test"', env, ["", "test"]) == ("foo", None)
    assert requirement_edge('foo; python_version < "3.11"', env, [""]) is None
    assert requirement_edge("foo; sys_platform != 'win32'", env, [""]) == ("foo", 'sys_platform != "win32"')
    assert requirement_edge("not a requirement (", env, [""]) is None


def test_an_environment_without_a_variable_is_left_to_packaging() -> None:
    """(packaging fills a missing variable in from this interpreter's environment)"""
    env = {k: v for k, v in {**default_environment(), **_ENVS[0]}.items() if k != "sys_platform"}
    text = 'foo; sys_platform == "linux"'
    assert requirement_edge(text, env, [""]) == packaging_requirement_edge(text, env, [""])
