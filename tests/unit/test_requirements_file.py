"""Requirements/constraints file parsing (satchel.requirements)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import Marker

from satchel.errors import RequirementsFileError
from satchel.requirements.models import ParsedRequirements, RequirementSpec
from satchel.requirements.parser import (
    merge_requirements,
    parse_command_line,
    parse_requirement_line,
    parse_requirements_file,
)

SHA_A = "a" * 64
SHA_B = "b" * 64
NO_ENV: dict[str, str] = {}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def parse(tmp_path: Path, text: str, **kwargs: object) -> ParsedRequirements:
    kwargs.setdefault("env", NO_ENV)
    return parse_requirements_file(write(tmp_path / "reqs.txt", text), **kwargs)  # type: ignore[arg-type]


def error(tmp_path: Path, text: str, **kwargs: object) -> RequirementsFileError:
    with pytest.raises(RequirementsFileError) as info:
        parse(tmp_path, text, **kwargs)
    return info.value


def project(path: Path) -> Path:
    """A minimal local project directory."""
    write(path / "pyproject.toml", "[project]\nname = 'x'\n")
    return path


def line(text: str, base_dir: Path, **kwargs: bool) -> RequirementSpec:
    return parse_requirement_line(text, source="command line", base_dir=base_dir, **kwargs)


# --- basic lines ---------------------------------------------------------------------------


def test_pep508_with_extras_and_marker(tmp_path: Path) -> None:
    result = parse(tmp_path, 'Requests[SOCKS]>=2; python_version < "3.12"\n')
    (spec,) = result.requirements
    assert spec.name == "requests"
    assert spec.extras == frozenset({"socks"})
    assert str(spec.specifier) == ">=2"
    assert spec.marker == Marker('python_version < "3.12"')
    assert spec.url is None
    assert spec.requirement is not None and spec.requirement.name == "Requests"
    assert spec.source == f"{tmp_path / 'reqs.txt'}:1"
    assert spec.line == 'Requests[SOCKS]>=2; python_version < "3.12"'
    assert not spec.editable and not spec.is_constraint and spec.hashes == ()


def test_name_is_canonicalized(tmp_path: Path) -> None:
    (spec,) = parse(tmp_path, "Foo.Bar_baz==1\n").requirements
    assert spec.name == "foo-bar-baz"


def test_comments_and_blank_lines(tmp_path: Path) -> None:
    result = parse(tmp_path, "# header\n\n   \nfoo  # why foo\n\t# indented comment\nbar\t#x\n")
    assert [spec.name for spec in result.requirements] == ["foo", "bar"]
    assert [spec.source.rsplit(":", 1)[1] for spec in result.requirements] == ["4", "6"]
    assert result.requirements[0].line == "foo"


def test_hash_fragment_in_url_is_not_a_comment(tmp_path: Path) -> None:
    text = f"https://files.example/pkg/foo-1.0.tar.gz#sha256={SHA_A} # comment\n"
    (spec,) = parse(tmp_path, text).requirements
    assert spec.url == f"https://files.example/pkg/foo-1.0.tar.gz#sha256={SHA_A}"
    assert spec.name == "foo"


def test_egg_fragment_names_a_bare_url(tmp_path: Path) -> None:
    (spec,) = parse(tmp_path, "https://example.org/archive/main.zip#egg=My_Pkg\n").requirements
    assert spec.name == "my-pkg"
    assert spec.url == "https://example.org/archive/main.zip#egg=My_Pkg"
    assert spec.requirement is not None and spec.requirement.url == spec.url


def test_vcs_url_with_egg(tmp_path: Path) -> None:
    text = "git+https://github.com/org/tool.git@v1.2#egg=tool\n"
    (spec,) = parse(tmp_path, text).requirements
    assert spec.name == "tool"
    assert spec.url == "git+https://github.com/org/tool.git@v1.2#egg=tool"


def test_vcs_url_without_egg_is_unnamed(tmp_path: Path) -> None:
    (spec,) = parse(tmp_path, "git+https://github.com/org/tool.git@main\n").requirements
    assert spec.name is None and spec.requirement is None
    assert spec.url == "git+https://github.com/org/tool.git@main"


def test_named_url(tmp_path: Path) -> None:
    text = 'foo[x] @ https://example.org/foo-1.0-py3-none-any.whl ; sys_platform == "linux"\n'
    (spec,) = parse(tmp_path, text).requirements
    assert spec.name == "foo"
    assert spec.url == "https://example.org/foo-1.0-py3-none-any.whl"
    assert spec.extras == frozenset({"x"})
    assert spec.marker == Marker('sys_platform == "linux"')


def test_named_file_url(tmp_path: Path) -> None:
    (tmp_path / "foo").mkdir()
    url = (tmp_path / "foo").as_uri()
    (spec,) = parse(tmp_path, f"foo @ {url}\n").requirements
    assert spec.name == "foo" and spec.url == url
    # a local file that is not there is said with its line, as a bare path is
    with pytest.raises(RequirementsFileError, match=r"reqs.txt:1: local file 'file:///abs/path/foo' does not exist"):
        parse(tmp_path, "foo @ file:///abs/path/foo\n")


def test_bare_url_with_marker(tmp_path: Path) -> None:
    text = 'https://example.org/bar-2.0-py3-none-any.whl; python_version >= "3.10"\n'
    (spec,) = parse(tmp_path, text).requirements
    assert spec.name == "bar"
    assert spec.url == "https://example.org/bar-2.0-py3-none-any.whl"
    assert spec.marker == Marker('python_version >= "3.10"')


# --- local paths ---------------------------------------------------------------------------


def test_relative_directory_resolved_against_file(tmp_path: Path) -> None:
    project(tmp_path / "reqdir" / "local" / "pkg")
    write(tmp_path / "reqdir" / "reqs.txt", "./local/pkg[extra1]\n")
    (spec,) = parse_requirements_file(tmp_path / "reqdir" / "reqs.txt", env=NO_ENV).requirements
    assert spec.url == (tmp_path / "reqdir" / "local" / "pkg").as_uri()
    assert spec.name is None and spec.requirement is None
    assert spec.extras == frozenset({"extra1"})


def test_parent_wheel_path_infers_name(tmp_path: Path) -> None:
    write(tmp_path / "foo_bar-1.0-py3-none-any.whl", "")
    write(tmp_path / "sub" / "reqs.txt", "../foo_bar-1.0-py3-none-any.whl\n")
    (spec,) = parse_requirements_file(tmp_path / "sub" / "reqs.txt", env=NO_ENV).requirements
    assert spec.name == "foo-bar"
    assert spec.url == (tmp_path / "foo_bar-1.0-py3-none-any.whl").as_uri()
    assert spec.requirement is not None and str(spec.requirement) == f"foo-bar @ {spec.url}"


def test_absolute_sdist_path(tmp_path: Path) -> None:
    sdist = write(tmp_path / "dists" / "x-2.1.tar.gz", "")
    (spec,) = parse(tmp_path, f"{sdist}\n").requirements
    assert spec.name == "x" and spec.url == sdist.as_uri()


def test_archive_name_without_slash_when_it_exists(tmp_path: Path) -> None:
    write(tmp_path / "x-2.1.tar.gz", "")
    (spec,) = parse(tmp_path, "x-2.1.tar.gz\n").requirements
    assert spec.url == (tmp_path / "x-2.1.tar.gz").as_uri()


def test_path_with_space_is_percent_encoded(tmp_path: Path) -> None:
    project(tmp_path / "my pkg")
    spec = line("./my pkg", tmp_path)
    assert spec.url == (tmp_path / "my pkg").as_uri()
    assert "%20" in spec.url


def test_missing_local_path(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo\n./nope\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:2: local path './nope' does not exist"
    assert exc.hint is not None and str(tmp_path / "nope") in exc.hint


def test_directory_without_project_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    exc = error(tmp_path, "./empty\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:1: directory './empty' is not a Python project"


def test_named_relative_path(tmp_path: Path) -> None:
    project(tmp_path / "pkg")
    (spec,) = parse(tmp_path, "pkg @ ./pkg\n").requirements
    assert spec.name == "pkg" and spec.url == (tmp_path / "pkg").as_uri()


# --- editables -----------------------------------------------------------------------------


def test_editable_local_directory(tmp_path: Path) -> None:
    project(tmp_path / "pkg")
    result = parse(tmp_path, "-e ./pkg\n--editable=./pkg\n")
    assert [spec.editable for spec in result.requirements] == [True, True]
    assert result.editables == result.requirements
    assert result.requirements[0].url == (tmp_path / "pkg").as_uri()
    assert result.requirements[0].line == "-e ./pkg"


def test_editable_vcs_url(tmp_path: Path) -> None:
    (spec,) = parse(tmp_path, "-e git+https://github.com/org/tool.git#egg=tool\n").requirements
    assert spec.editable and spec.name == "tool"


def test_editable_must_be_directory_or_vcs(tmp_path: Path) -> None:
    exc = error(tmp_path, "-e requests\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:1: cannot install 'requests' as editable"
    write(tmp_path / "x-1.0-py3-none-any.whl", "")
    exc = error(tmp_path, "-e ./x-1.0-py3-none-any.whl\n")
    assert "cannot install './x-1.0-py3-none-any.whl' as editable" in exc.message


def test_editable_missing_file_url(tmp_path: Path) -> None:
    exc = error(tmp_path, f"-e {(tmp_path / 'gone').as_uri()}\n")
    assert exc.message.startswith(f"{tmp_path / 'reqs.txt'}:1: editable path 'file://")


# --- continuation, env ---------------------------------------------------------------------


def test_continuation_lines_join_and_keep_first_line_number(tmp_path: Path) -> None:
    text = f"foo==1.0 \\\n    --hash=sha256:{SHA_A} \\\n    --hash sha256:{SHA_B}\nbar\n"
    result = parse(tmp_path, text)
    foo, bar = result.requirements
    assert foo.hashes == (f"sha256:{SHA_A}", f"sha256:{SHA_B}")
    assert foo.source.endswith("reqs.txt:1")
    assert bar.source.endswith("reqs.txt:4")


def test_error_in_continued_line_names_first_physical_line(tmp_path: Path) -> None:
    exc = error(tmp_path, "ok\n\ndjango\\\n>=>2\n")
    assert exc.message.startswith(f"{tmp_path / 'reqs.txt'}:3: invalid requirement 'django>=>2'")


def test_continuation_at_end_of_file(tmp_path: Path) -> None:
    (spec,) = parse(tmp_path, "foo \\").requirements
    assert spec.name == "foo"


def test_env_expansion(tmp_path: Path) -> None:
    text = "-i https://${USER_1}:${TOKEN}@idx.example/simple\n${PKG}==1\n"
    result = parse(tmp_path, text, env={"TOKEN": "s3cret", "PKG": "foo"})
    assert result.index_url == "https://${USER_1}:s3cret@idx.example/simple"
    assert result.requirements[0].name == "foo"
    assert result.requirements[0].line == "${PKG}==1"
    exc = error(tmp_path, "$HOME\n", env={"HOME": "/root"})
    assert "invalid requirement '$HOME'" in exc.message


def test_lowercase_env_names_are_not_expanded(tmp_path: Path) -> None:
    result = parse(tmp_path, "-f ${lower}/x\n", env={"lower": "nope"})
    assert result.find_links == [str(tmp_path / "${lower}" / "x")]


def test_env_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_TEST_IDX", "https://mirror.example/simple")
    write(tmp_path / "reqs.txt", "--index-url ${SATCHEL_TEST_IDX}\n")
    assert parse_requirements_file(tmp_path / "reqs.txt").index_url == (
        "https://mirror.example/simple"
    )


# --- options -------------------------------------------------------------------------------


def test_index_and_source_options(tmp_path: Path) -> None:
    text = (
        "-i https://one.example/simple\n"
        "--index-url=https://two.example/simple\n"
        "--extra-index-url https://extra.example/simple\n"
        "-f ./wheels\n"
        "--find-links=https://links.example/\n"
        "-f/abs/wheels\n"
        "--no-index\n"
        "--pre --prefer-binary\n"
        "--require-hashes\n"
        "--trusted-host one.example\n"
        "--use-feature truststore\n"
    )
    result = parse(tmp_path, text)
    assert result.index_url == "https://two.example/simple"
    assert result.extra_index_urls == ["https://extra.example/simple"]
    assert result.find_links == [str(tmp_path / "wheels"), "https://links.example/", "/abs/wheels"]
    assert result.no_index and result.pre and result.prefer_binary and result.require_hashes
    assert result.trusted_hosts == ["one.example"]
    assert result.use_features == ["truststore"]
    assert result.requirements == []


def test_defaults(tmp_path: Path) -> None:
    result = parse(tmp_path, "foo\n")
    assert result.index_url is None and result.extra_index_urls == [] and result.find_links == []
    assert not (result.no_index or result.pre or result.prefer_binary or result.require_hashes)
    assert result.only_binary == set() and result.no_binary == set()
    assert result.constraints == []


def test_only_binary_and_no_binary_semantics(tmp_path: Path) -> None:
    result = parse(tmp_path, "--only-binary :all:\n--no-binary Foo_Bar,baz\n")
    assert result.only_binary == {":all:"}
    assert result.no_binary == {"foo-bar", "baz"}
    assert result.allowed_formats("foo_bar") == {"source"}
    assert result.allowed_formats("other") == {"binary"}

    result = parse(tmp_path, "--no-binary foo\n--only-binary=:all:\n--only-binary :none:\n")
    assert result.only_binary == set() and result.no_binary == set()
    assert result.allowed_formats("foo") == {"binary", "source"}

    result = parse(tmp_path, "--no-binary :all:\n--only-binary foo\n")
    assert result.no_binary == {":all:"} and result.only_binary == {"foo"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("--only-binary :bogus:", "':bogus:' is not a project name"),
        ("--no-binary ,,,", "no project name, :all: or :none:"),
        ("--all-releases !!", "'!!' is not a project name"),
        ("--only-final 'a b'", "is not a project name"),
    ],
)
def test_name_lists_in_a_file_are_checked_as_on_the_command_line(tmp_path: Path, line: str, problem: str) -> None:
    # (a file took any value of --all-releases and --only-final, and ':bogus:' as a name; it
    # refused 'a,,b', which the command line takes: one rule for both now)
    exc = error(tmp_path, f"foo\n{line}\n")
    assert exc.message.startswith(f"{tmp_path / 'reqs.txt'}:2: {line.split()[0]} ")
    assert problem in exc.message and exc.hint is not None and ":all:" in exc.hint
    result = parse(tmp_path, "--only-binary a,,B\n--all-releases :none:,c\n")
    assert result.only_binary == {"a", "b"} and result.all_releases == [":none:,c"]


def test_unknown_option(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo\n--frobnicate\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:2: unknown option '--frobnicate'"
    assert exc.hint is not None and "--index-url" in exc.hint


def test_unknown_option_after_requirement(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo==1 --install-option=x\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:1: unknown option '--install-option' after the requirement"
    )


def test_file_option_after_requirement(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo==1 --index-url https://x.example\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:1: option --index-url is not allowed after a requirement"
    )


def test_option_needs_value(tmp_path: Path) -> None:
    exc = error(tmp_path, "--index-url\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:1: option --index-url needs a value"


def test_flag_takes_no_value(tmp_path: Path) -> None:
    exc = error(tmp_path, "--pre=yes\n")
    assert (
        exc.message == f"{tmp_path / 'reqs.txt'}:1: option --pre takes no value (got '--pre=yes')"
    )


def test_hash_on_its_own_line(tmp_path: Path) -> None:
    exc = error(tmp_path, f"--hash=sha256:{SHA_A}\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:1: option --hash must follow a requirement on the same line"
    )


def test_config_settings_are_stored(tmp_path: Path) -> None:
    (spec,) = parse(tmp_path, "foo --config-settings=opt=1 -C build=fast\n").requirements
    assert spec.config_settings == (("opt", "1"), ("build", "fast"))
    exc = error(tmp_path, "foo --config-settings=novalue\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:1: malformed --config-settings value 'novalue'"


def test_marker_quotes_with_dashes_do_not_start_options(tmp_path: Path) -> None:
    (spec,) = parse(tmp_path, f"foo; extra == 'a --b' --hash=sha256:{SHA_A}\n").requirements
    assert spec.marker == Marker("extra == 'a --b'")
    assert spec.hashes == (f"sha256:{SHA_A}",)


# --- hashes --------------------------------------------------------------------------------


def test_hashes_are_validated_and_normalized(tmp_path: Path) -> None:
    text = f"foo==1 --hash=SHA384:{'A' * 96} --hash=sha512:{'0' * 128}\n"
    (spec,) = parse(tmp_path, text).requirements
    assert spec.hashes == (f"sha384:{'a' * 96}", f"sha512:{'0' * 128}")
    assert spec.hashes_by_algorithm == {"sha384": {"a" * 96}, "sha512": {"0" * 128}}


def test_unsupported_hash_algorithm(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo\nbar==1 --hash=md5:d41d8cd98f00b204e9800998ecf8427e\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:2: unsupported hash algorithm 'md5' in "
        "'--hash=md5:d41d8cd98f00b204e9800998ecf8427e'"
    )
    assert exc.hint == "use sha256, sha384 or sha512"


def test_malformed_hash_digest(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo==1 --hash=sha256:xyz\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:1: malformed sha256 digest 'xyz' (expected 64 hex digits)"
    )
    exc = error(tmp_path, "foo==1 --hash=abc\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:1: malformed --hash value 'abc' (expected algorithm:hexdigest)"
    )


# --- malformed lines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("django>=>2", "Expected semicolon (after name with no version specifier) or end"),
        ("foo[", "Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras"),
        ("!!!", "Expected package name at the start of dependency specifier"),
    ],
)
def test_invalid_requirement(tmp_path: Path, text: str, reason: str) -> None:
    exc = error(tmp_path, f"ok\n# c\n{text}\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:3: invalid requirement '{text}': {reason}"
    assert exc.hint is not None
    assert "\n" not in exc.message


def test_invalid_marker_on_url(tmp_path: Path) -> None:
    exc = error(tmp_path, "https://example.org/a-1.0.tar.gz; bogus\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:1: invalid marker in "
        "'https://example.org/a-1.0.tar.gz; bogus': Expected a marker variable or quoted string"
    )


def test_invalid_egg_fragment(tmp_path: Path) -> None:
    exc = error(tmp_path, "git+https://example.org/x.git#egg=x>=1\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:1: invalid project name in '#egg=x>=1'"


def test_password_is_redacted_in_errors(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo @ https://user:s3cret@h.example/x.whl ; bogus\n")
    assert "s3cret" not in exc.message and "user:****@h.example" in exc.message


def test_unclosed_quote(tmp_path: Path) -> None:
    exc = error(tmp_path, "--index-url 'https://x.example\n")
    assert exc.message.startswith(f"{tmp_path / 'reqs.txt'}:1: cannot split ")


# --- files: nesting, cycles, missing, encodings --------------------------------------------


def test_nested_includes_are_relative_to_including_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "top.txt", "a\n-r sub/mid.txt\n-c sub/cons.txt\n")
    write(tmp_path / "sub" / "mid.txt", "b\n--requirement=deeper/leaf.txt\n")
    write(tmp_path / "sub" / "deeper" / "leaf.txt", "c\n-f ../wheels\n")
    write(tmp_path / "sub" / "cons.txt", "d<2\n")
    monkeypatch.chdir(tmp_path)
    result = parse_requirements_file("top.txt", env=NO_ENV)
    assert [spec.name for spec in result.requirements] == ["a", "b", "c"]
    assert [spec.source for spec in result.requirements] == [
        "top.txt:1",
        "sub/mid.txt:1",
        "sub/deeper/leaf.txt:1",
    ]
    assert [(spec.name, spec.is_constraint) for spec in result.constraints] == [("d", True)]
    assert result.find_links == [str(tmp_path / "sub" / "wheels")]
    assert result.files == ["top.txt", "sub/mid.txt", "sub/deeper/leaf.txt", "sub/cons.txt"]


def test_include_cycle_names_the_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "a.txt", "x\n-r b.txt\n")
    write(tmp_path / "b.txt", "y\n\n-c ./a.txt\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RequirementsFileError) as info:
        parse_requirements_file("a.txt", env=NO_ENV)
    assert info.value.message == "b.txt:3: include cycle: a.txt -> b.txt -> a.txt"


def test_file_including_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "a.txt", "-r a.txt\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RequirementsFileError, match=r"^a.txt:1: include cycle: a.txt -> a.txt$"):
        parse_requirements_file("a.txt", env=NO_ENV)


def test_same_file_included_twice_is_not_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / "common.txt", "x\n")
    result = parse(tmp_path, "-r common.txt\n-r common.txt\n")
    assert [spec.name for spec in result.requirements] == ["x", "x"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RequirementsFileError) as info:
        parse_requirements_file(tmp_path / "absent.txt", env=NO_ENV)
    assert info.value.message == f"requirements file '{tmp_path / 'absent.txt'}' does not exist"


def test_missing_nested_file_names_includer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "top.txt", "foo\n-c missing.txt\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RequirementsFileError) as info:
        parse_requirements_file("top.txt", env=NO_ENV)
    assert info.value.message == "top.txt:2: constraints file 'missing.txt' does not exist"


def test_remote_include_is_rejected(tmp_path: Path) -> None:
    exc = error(tmp_path, "foo\n-r https://example.org/reqs.txt\n")
    assert exc.message == (
        f"{tmp_path / 'reqs.txt'}:2: remote requirements file "
        "'https://example.org/reqs.txt' is not supported"
    )
    assert exc.hint == "download the file and pass its local path instead"
    with pytest.raises(RequirementsFileError, match="remote requirements file"):
        parse_requirements_file("https://example.org/reqs.txt")


def test_undecodable_bytes(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_bytes(b"foo\nbar\xff\n")
    with pytest.raises(RequirementsFileError) as info:
        parse_requirements_file(tmp_path / "reqs.txt", env=NO_ENV)
    assert info.value.message == f"{tmp_path / 'reqs.txt'}:2: cannot decode byte 0xff as utf-8"


def test_bom_coding_declaration_and_crlf(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbffoo\r\nbar\r\n")
    result = parse_requirements_file(tmp_path / "a.txt", env=NO_ENV)
    assert [spec.name for spec in result.requirements] == ["foo", "bar"]
    (tmp_path / "b.txt").write_bytes(
        b"# -*- coding: latin-1 -*-\nfoo ; platform_release == '\xe9'\n"
    )
    (spec,) = parse_requirements_file(tmp_path / "b.txt", env=NO_ENV).requirements
    assert spec.marker == Marker("platform_release == 'é'")


# --- constraints ---------------------------------------------------------------------------


def test_constraints_file(tmp_path: Path) -> None:
    text = "foo<2\nbar @ https://example.org/bar-1.0.tar.gz\n--pre\n-r reqs2.txt\n"
    write(tmp_path / "reqs2.txt", "baz\n")
    result = parse(tmp_path, text, constraint=True)
    assert [(c.name, c.is_constraint) for c in result.constraints] == [
        ("foo", True),
        ("bar", True),
    ]
    assert [(r.name, r.is_constraint) for r in result.requirements] == [("baz", False)]
    assert result.pre


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "-e git+https://h.example/x.git#egg=x",
            "editable requirement '{}' cannot be a constraint",
        ),
        ("git+https://h.example/x.git", "constraint '{}' has no project name"),
        ("foo[bar]<2", "constraint '{}' cannot have extras"),
    ],
)
def test_constraint_restrictions(tmp_path: Path, text: str, message: str) -> None:
    exc = error(tmp_path, f"{text}\n", constraint=True)
    bare = text.removeprefix("-e ")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:1: " + message.format(bare)


# --- command line and merging ---------------------------------------------------------------


def test_parse_requirement_line_for_command_line(tmp_path: Path) -> None:
    spec = line("Foo[Bar]>=1.0", tmp_path)
    assert (spec.name, spec.source, spec.line) == ("foo", "command line", "Foo[Bar]>=1.0")
    project(tmp_path / "pkg")
    spec = line("./pkg", tmp_path, editable=True)
    assert spec.editable and spec.url == (tmp_path / "pkg").as_uri()
    with pytest.raises(RequirementsFileError) as info:
        line("django>=>2", tmp_path)
    assert info.value.message.startswith("command line: invalid requirement 'django>=>2': ")


def test_parse_command_line_merges_everything(tmp_path: Path) -> None:
    project(tmp_path / "pkg")
    write(tmp_path / "r.txt", "-i https://first.example/simple\n--only-binary :all:\nfoo\n")
    write(tmp_path / "c.txt", "-i https://second.example/simple\n--no-binary foo\nfoo<3\n")
    result = parse_command_line(
        ["bar==1"],
        editables=["./pkg"],
        requirement_files=["r.txt"],
        constraint_files=["c.txt"],
        base_dir=tmp_path,
        env=NO_ENV,
    )
    assert [(s.name, s.editable, s.source) for s in result.requirements] == [
        ("bar", False, "command line"),
        (None, True, "command line"),
        ("foo", False, "r.txt:3"),
    ]
    assert [(s.name, s.source) for s in result.constraints] == [("foo", "c.txt:3")]
    assert result.index_url == "https://second.example/simple"
    assert result.only_binary == {":all:"} and result.no_binary == {"foo"}
    assert result.files == ["r.txt", "c.txt"]


def test_merge_requirements() -> None:
    first = ParsedRequirements(
        extra_index_urls=["https://a.example/"],
        no_binary={"x"},
        pre=True,
        index_url="https://one.example/",
    )
    second = ParsedRequirements(
        extra_index_urls=["https://a.example/", "https://b.example/"],
        only_binary={"x"},
        require_hashes=True,
    )
    merged = merge_requirements([first, second])
    assert merged.extra_index_urls == ["https://a.example/", "https://b.example/"]
    assert merged.only_binary == {"x"} and merged.no_binary == set()
    assert merged.pre and merged.require_hashes
    assert merged.index_url == "https://one.example/"
    assert merge_requirements([]) == ParsedRequirements()


def test_include_by_file_url(tmp_path: Path) -> None:
    other = write(tmp_path / "elsewhere" / "other.txt", "x\n")
    result = parse(tmp_path, f"-r {other.as_uri()}\n")
    assert [spec.source for spec in result.requirements] == [f"{other}:1"]


def test_option_line_with_stray_text(tmp_path: Path) -> None:
    exc = error(tmp_path, "--no-binary foo bar\n")
    assert exc.message == f"{tmp_path / 'reqs.txt'}:1: unexpected text 'bar' on an option line"


def test_parse_requirement_line_rejects_options(tmp_path: Path) -> None:
    with pytest.raises(RequirementsFileError) as info:
        line("-e ./pkg", tmp_path)
    assert info.value.message == "command line: expected a requirement, got option '-e ./pkg'"
