from __future__ import annotations

from pathlib import Path

import pytest

from satchel.install import installed
from satchel.install.installed import (
    InstalledDist,
    find_installed,
    list_installed,
    site_packages_dirs,
)
from tests.support.installs import HEADER_SAMPLES, fake_scheme, install_spec
from tests.support.wheels import WheelSpec


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    paths = fake_scheme(tmp_path / "env")
    install_spec(
        tmp_path,
        WheelSpec(
            "Zeta.Pkg",
            "1.0",
            requires=["alpha>=1"],
            extras={"fast": ["speedup; python_version>'3'"]},
        ),
        paths,
        requested=True,
    )
    install_spec(
        tmp_path,
        WheelSpec("alpha", "2.0rc1"),
        paths,
        requested=False,
        direct_url={"url": "file:///a", "dir_info": {}},
    )
    sp = Path(paths["purelib"])
    # A dist-info name that is not "<name>-<version>": name and version come from METADATA.
    write(
        sp / "Weird-Name-3.0.dist-info" / "METADATA",
        "Metadata-Version: 2.1\nName: Weird-Name\nVersion: 3.0\n\nbody\n",
    )
    # Legacy installs.
    write(
        sp / "legacy_thing-0.5-py3.11.egg-info" / "PKG-INFO",
        "Metadata-Version: 1.0\nName: legacy-thing\nVersion: 0.5\n",
    )
    write(
        sp / "legacy_thing-0.5-py3.11.egg-info" / "requires.txt",
        "six\n\n[socks]\nPySocks\n\n[:sys_platform == 'win32']\nwin-inet\n",
    )
    write(
        sp / "oldfile-1.2-py3.11.egg-info", "Metadata-Version: 1.0\nName: oldfile\nVersion: 1.2\n"
    )
    # Noise: temp dirs, broken entries, non-metadata files.
    (sp / ".satchel-abc.tmp").mkdir()
    (sp / "broken.dist-info").mkdir()
    write(sp / "module.py", "")
    return paths


def test_lists_every_distribution(paths: dict[str, str]) -> None:
    dists = list_installed(paths)
    assert [(d.name, d.version) for d in dists] == [
        ("alpha", "2.0rc1"),
        ("legacy-thing", "0.5"),
        ("oldfile", "1.2"),
        ("weird-name", "3.0"),
        ("zeta-pkg", "1.0"),
    ]
    by_name = {d.name: d for d in dists}
    zeta, alpha = by_name["zeta-pkg"], by_name["alpha"]
    assert zeta.dist_info.name == "zeta_pkg-1.0.dist-info"
    assert zeta.installer == "satchel" and zeta.requested and zeta.direct_url is None
    assert (
        alpha.installer == "satchel"
        and not alpha.requested
        and alpha.direct_url == {"url": "file:///a", "dir_info": {}}
    )
    assert zeta.display_name == "Zeta.Pkg"
    assert zeta.requires_dist == [
        "alpha>=1",
        "speedup ; (python_version>'3') and extra == \"fast\"",
    ]


def test_egg_info_is_listed_read_only(paths: dict[str, str]) -> None:
    legacy = find_installed(paths, "Legacy_Thing")
    assert legacy is not None and legacy.is_egg_info
    assert legacy.record_path is None
    assert legacy.installer is None and not legacy.requested
    assert legacy.requires_dist == [
        "six",
        'PySocks ; extra == "socks"',
        "win-inet ; sys_platform == 'win32'",
    ]
    oldfile = find_installed(paths, "oldfile")
    assert oldfile is not None
    assert oldfile.display_name == "oldfile"
    assert oldfile.requires_dist == []


def test_listing_reads_no_metadata_for_normal_names(
    paths: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []
    real = installed._read_headers

    def spy(path: Path):  # type: ignore[no-untyped-def]
        opened.append(path)
        return real(path)

    monkeypatch.setattr(installed, "_read_headers", spy)
    dists = list_installed(paths)
    assert {p.parent.name for p in opened} <= {"Weird-Name-3.0.dist-info", "broken.dist-info"}
    assert len(dists) == 5


def test_find_installed_any_spelling(paths: dict[str, str]) -> None:
    found = find_installed(paths, "ZETA_pkg")
    assert isinstance(found, InstalledDist) and found.version == "1.0"
    assert find_installed(paths, "missing") is None


def test_site_packages_are_deduplicated(tmp_path: Path) -> None:
    same = fake_scheme(tmp_path)
    assert site_packages_dirs(same) == [Path(same["purelib"])]
    split = fake_scheme(tmp_path, split_lib=True)
    assert site_packages_dirs(split) == [Path(split["purelib"]), Path(split["platlib"])]
    link = tmp_path / "lib64"
    link.symlink_to(tmp_path / "lib")
    via_link = dict(same, platlib=str(link / "site-packages"))
    assert len(site_packages_dirs(via_link)) == 1


def test_missing_site_packages_is_empty(tmp_path: Path) -> None:
    assert list_installed(fake_scheme(tmp_path / "nothing")) == []


# -- the METADATA header parser -----------------------------------------------------------------


@pytest.mark.parametrize("data", HEADER_SAMPLES)
def test_header_parser_reads_what_email_reads(data: bytes) -> None:
    import email.parser
    import email.policy

    expected = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(
        data.decode("utf-8"), headersonly=True
    )
    want = [(k, str(v).replace("\r\n", "\n").replace("\r", "\n")) for k, v in expected.items()]
    assert installed.parse_headers(data).items() == want


def test_header_parser_answers_like_a_message() -> None:
    headers = installed.parse_headers(
        "Name: Caf\u00e9\nRequires-Dist: a\nrequires-dist: b\nSummary: \u2014 x\n\nbody".encode()
    )
    assert headers.get("name") == headers["NAME"] == "Caf\u00e9"
    assert headers.get_all("Requires-Dist") == ["a", "b"]
    assert headers.get("Missing") is None and headers.get_all("Missing") is None
    assert headers.get("Missing", "x") == "x"
    assert "summary" in headers and "Missing" not in headers
    assert headers.get("Summary") == "\u2014 x"  # UTF-8, not replacement characters
    assert installed.parse_headers(b"Name: \xff\n").get("Name") == "\ufffd"


def test_requires_python_and_extras(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    write(
        sp / "demo-1.0.dist-info" / "METADATA",
        "Metadata-Version: 2.1\nName: Demo\nVersion: 1.0\nRequires-Python: >=3.9\n"
        "License: MIT\n        \n        (the blank-looking line above continues the field)\n"
        "Provides-Extra: fast\nProvides-Extra: slow\n"
        'Requires-Dist: a\nRequires-Dist: b; extra == "fast"\n\nDescription\n',
    )
    (dist,) = list_installed([sp])
    assert dist.display_name == "Demo"
    assert dist.requires_python == ">=3.9"
    assert dist.provides_extra == ["fast", "slow"]
    assert dist.requires_dist == ["a", 'b; extra == "fast"']
    empty = InstalledDist("x", "1.0", sp / "x-1.0.dist-info")
    assert empty.requires_python is None and empty.provides_extra == [] and empty.requires_dist == []
