from __future__ import annotations

import hashlib
import json

import pytest
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from satchel.index.simple import (
    ACCEPT_HEADER,
    PageParseError,
    matches_project,
    parse_html,
    parse_json,
    parse_page,
)

PAGE = "http://127.0.0.1:9/simple/demo/"
H1 = "a" * 64
H2 = "b" * 64


def html_page(*anchors: str, head: str = "") -> bytes:
    return (
        "<!DOCTYPE html><html><head>" + head + "</head><body>\n" + "\n".join(anchors) + "\n</body></html>"
    ).encode()


def test_relative_hrefs_and_fragments() -> None:
    body = html_page(
        f'<a href="../../files/demo-1.0-py3-none-any.whl#sha256={H1}">demo-1.0-py3-none-any.whl</a>',
        f'<a href="/abs/demo-1.0.tar.gz#SHA256={H2.upper()}">demo-1.0.tar.gz</a>',
        '<a href="demo-1.1.zip">demo-1.1.zip</a>',
        '<a href="http://127.0.0.2/x/demo-2.0-py3-none-any.whl#md5=abc">x</a>',
        '<a href="//127.0.0.3/y/demo-3.0-py3-none-any.whl">x</a>',
    )
    files = parse_html(body, PAGE, "demo")
    assert [(f.filename, f.url, f.hashes) for f in files] == [
        (
            "demo-1.0-py3-none-any.whl",
            "http://127.0.0.1:9/files/demo-1.0-py3-none-any.whl",
            {"sha256": H1},
        ),
        ("demo-1.0.tar.gz", "http://127.0.0.1:9/abs/demo-1.0.tar.gz", {"sha256": H2}),
        ("demo-1.1.zip", "http://127.0.0.1:9/simple/demo/demo-1.1.zip", {}),
        ("demo-2.0-py3-none-any.whl", "http://127.0.0.2/x/demo-2.0-py3-none-any.whl", {"md5": "abc"}),
        ("demo-3.0-py3-none-any.whl", "http://127.0.0.3/y/demo-3.0-py3-none-any.whl", {}),
    ]
    assert files[0].sha256 == H1
    assert all("#" not in f.url for f in files)


def test_page_url_without_trailing_slash_and_file_urls() -> None:
    body = html_page('<a href="../files/demo-1.0.tar.gz">x</a>')
    files = parse_html(body, "file:///srv/index/simple/demo/index.html", "demo")
    assert files[0].url == "file:///srv/index/simple/files/demo-1.0.tar.gz"
    files = parse_html(body, "http://127.0.0.1:9/simple/demo", "demo")
    assert files[0].url == "http://127.0.0.1:9/files/demo-1.0.tar.gz"


def test_base_href_is_honoured() -> None:
    body = html_page(
        '<a href="demo-1.0.tar.gz">x</a>',
        head='<base href="http://127.0.0.1:9/mirror/">',
    )
    assert parse_html(body, PAGE, "demo")[0].url == "http://127.0.0.1:9/mirror/demo-1.0.tar.gz"
    body = html_page('<a href="demo-1.0.tar.gz">x</a>', head='<base href="../../pkgs/">')
    assert parse_html(body, PAGE, "demo")[0].url == "http://127.0.0.1:9/pkgs/demo-1.0.tar.gz"


def test_percent_encoded_filename() -> None:
    body = html_page('<a href="/f/demo-1.0%2Blocal-py3-none-any.whl">x</a>')
    files = parse_html(body, PAGE, "demo")
    assert files[0].filename == "demo-1.0+local-py3-none-any.whl"
    assert files[0].url.endswith("/f/demo-1.0%2Blocal-py3-none-any.whl")


def test_requires_python_is_unescaped() -> None:
    body = html_page(
        '<a href="demo-1.0.tar.gz" data-requires-python="&gt;=3.8, &lt;4">x</a>',
        '<a href="demo-1.1.tar.gz" data-requires-python=\'&gt;=3.9\'>x</a>',
        '<a href="demo-1.2.tar.gz" data-requires-python="">x</a>',
        '<a href="demo-1.3.tar.gz" data-requires-python=">=3.10">x</a>',  # unescaped > in quotes
        '<a data-requires-python="&#62;=3.11" href="demo-1.4.tar.gz">x</a>',
    )
    rp = [f.requires_python for f in parse_html(body, PAGE, "demo")]
    assert rp == [">=3.8, <4", ">=3.9", None, ">=3.10", ">=3.11"]


def test_yanked() -> None:
    body = html_page(
        '<a href="demo-1.0.tar.gz" data-yanked>x</a>',
        '<a href="demo-1.1.tar.gz" data-yanked="">x</a>',
        '<a href="demo-1.2.tar.gz" data-yanked="broken &amp; bad">x</a>',
        '<a href="demo-1.3.tar.gz">x</a>',
    )
    assert [f.yanked for f in parse_html(body, PAGE, "demo")] == ["", "", "broken & bad", None]


def test_metadata_attributes() -> None:
    body = html_page(
        '<a href="demo-1.0-py3-none-any.whl" data-core-metadata="true">x</a>',
        f'<a href="demo-1.1-py3-none-any.whl" data-dist-info-metadata="sha256={H1}">x</a>',
        f'<a href="demo-1.2-py3-none-any.whl" data-dist-info-metadata="true" data-core-metadata="sha256={H2}">x</a>',
        '<a href="demo-1.3-py3-none-any.whl">x</a>',
        '<a href="demo-1.4-py3-none-any.whl" data-core-metadata="false">x</a>',
    )
    files = parse_html(body, PAGE, "demo")
    assert [f.metadata_hashes for f in files] == [{}, {"sha256": H1}, {"sha256": H2}, None, None]
    assert files[0].metadata_url == files[0].url + ".metadata"


def test_unusual_markup() -> None:
    body = (
        b"<HTML><BODY>"
        b"<!-- <a href='demo-0.1.tar.gz'>commented out</a> -->"
        b"<A HREF=demo-1.0.tar.gz DATA-YANKED>x</A>"
        b"<a\n  href='demo-1.1.tar.gz'\n  data-requires-python='&gt;=3'>x</a>"
        b'<a href="demo-1.2.tar.gz" />'
        b"<a name=top>no href</a><abbr title='x'>y</abbr>"
        b"</BODY></HTML>"
    )
    files = parse_html(body, PAGE, "demo")
    assert [(f.filename, f.yanked, f.requires_python) for f in files] == [
        ("demo-1.0.tar.gz", "", None),
        ("demo-1.1.tar.gz", None, ">=3"),
        ("demo-1.2.tar.gz", None, None),
    ]


def test_filters_other_projects_and_non_distributions() -> None:
    body = html_page(
        '<a href="demo-1.0-py3-none-any.whl">ok</a>',
        '<a href="Demo-1.0.tar.gz">ok, name not normalized</a>',
        '<a href="demo_2-1.0-py3-none-any.whl">other project</a>',
        '<a href="demo-extra-1.0.tar.gz">other project</a>',
        '<a href="demo-1.0.exe">not a distribution</a>',
        '<a href="demo-1.0-py3-none-any.whl.metadata">not a distribution</a>',
        '<a href="demo-notaversion.tar.gz">invalid version</a>',
        '<a href="demo-1.0-py3-any.whl">invalid wheel name</a>',
        '<a href="demo-1.0.tar.bz2">legacy sdist</a>',
        '<a href="../">up</a>',
    )
    names = [f.filename for f in parse_html(body, PAGE, "Demo")]
    assert names == ["demo-1.0-py3-none-any.whl", "Demo-1.0.tar.gz", "demo-1.0.tar.bz2"]


AWKWARD = [
    "demo-1.0-py3-none-any.whl",
    "Demo-1.0-py3-none-any.whl",
    "demo-1.0-1-py3-none-any.whl",
    "demo-1.0-1abc-py3-none-any.whl",
    "demo-1.0-abc-py3-none-any.whl",
    "demo-1.0-py3-none-any-extra-x.whl",
    "demo-1.0.post1.dev2+local.7-py2.py3-none-any.whl",
    "demo-1.0-py3-none.whl",
    "de__mo-1.0-py3-none-any.whl",
    "de.mo-1.0-py3-none-any.whl",
    "de-mo-1.0-py3-none-any.whl",
    "demo-v1.0-py3-none-any.whl",
    "demo-1.0beta-py3-none-any.whl",
    "demo-1.0_beta-py3-none-any.whl",
    "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "demo-01.00-py3-none-any.whl",
    "démo-1.0-py3-none-any.whl",
    "demo-1.0--none-any.whl",
    "demo-.whl",
    "demo-1.0.tar.gz",
    "demo-1.0.zip",
    "Demo_-1.0.tar.gz",
    "demo-1!2.0rc1.tar.gz",
    "demo--1.0.tar.gz",
    "demo-1.0-1.tar.gz",
    "demo.tar.gz",
    "demo-.tar.gz",
    "-1.0.tar.gz",
    "demo-1.0 .tar.gz",
]


@pytest.mark.parametrize("filename", AWKWARD)
def test_project_matcher_agrees_with_packaging(filename: str) -> None:
    expected = False
    try:
        if filename.endswith(".whl"):
            expected = parse_wheel_filename(filename)[0] == "demo"
        else:
            expected = parse_sdist_filename(filename)[0] == "demo"
    except (InvalidWheelFilename, InvalidSdistFilename):
        expected = False
    assert matches_project("demo")(filename) is expected


def test_json_page() -> None:
    doc = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "../../files/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": H1, "blake2b": "cc", "fake": "x"},
                "requires-python": ">=3.8",
                "yanked": False,
                "core-metadata": {"sha256": H2},
                "size": 123,
                "upload-time": "2020-01-01T00:00:00Z",
            },
            {
                "filename": "demo-1.1-py3-none-any.whl",
                "url": "http://127.0.0.2/demo-1.1-py3-none-any.whl",
                "hashes": {},
                "yanked": "security issue",
                "dist-info-metadata": True,
            },
            {"filename": "demo-1.2.tar.gz", "url": "demo-1.2.tar.gz", "hashes": {}, "yanked": True},
            {"filename": "other-1.0.tar.gz", "url": "other-1.0.tar.gz", "hashes": {}},
            {"filename": "demo-1.3.tar.gz", "hashes": {}},  # no url: skipped
        ],
    }
    files = parse_json(json.dumps(doc).encode(), PAGE, "demo")
    assert [f.filename for f in files] == [
        "demo-1.0-py3-none-any.whl",
        "demo-1.1-py3-none-any.whl",
        "demo-1.2.tar.gz",
    ]
    a, b, c = files
    assert a.url == "http://127.0.0.1:9/files/demo-1.0-py3-none-any.whl"
    assert a.hashes == {"sha256": H1, "blake2b": "cc"}
    assert (a.requires_python, a.yanked, a.metadata_hashes) == (">=3.8", None, {"sha256": H2})
    assert (a.size, a.upload_time) == (123, "2020-01-01T00:00:00Z")
    assert (b.url, b.yanked, b.metadata_hashes) == (
        "http://127.0.0.2/demo-1.1-py3-none-any.whl",
        "security issue",
        {},
    )
    assert (c.url, c.yanked, c.metadata_hashes, c.size) == (PAGE + "demo-1.2.tar.gz", "", None, None)


def test_json_rejects_other_major_version() -> None:
    body = json.dumps({"meta": {"api-version": "2.0"}, "files": []}).encode()
    with pytest.raises(PageParseError) as exc:
        parse_json(body, PAGE, "demo")
    assert PAGE in str(exc.value) and "2.0" in str(exc.value)


@pytest.mark.parametrize(
    "body",
    [
        b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "demo-1.0.tar.gz", "url": "x"',
        b"",
        b"[1, 2]",
        b'{"files": []}',
        b'{"meta": {"api-version": "1.0"}}',
        b"\xff\xfe{",
    ],
)
def test_invalid_json_names_the_url(body: bytes) -> None:
    with pytest.raises(PageParseError) as exc:
        parse_page(body, "application/vnd.pypi.simple.v1+json", PAGE, "demo")
    assert PAGE in exc.value.message
    assert "\n" not in exc.value.message


def test_content_type_decides_the_format() -> None:
    js = json.dumps(
        {"meta": {"api-version": "1.0"}, "files": [{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}}]}
    ).encode()
    ht = html_page('<a href="demo-1.0.tar.gz">x</a>')
    for ctype in (
        "application/vnd.pypi.simple.v1+json",
        "application/vnd.pypi.simple.latest+json",
        "application/json; charset=utf-8",
        "application/octet-stream",
        "",
    ):
        assert [f.filename for f in parse_page(js, ctype, PAGE, "demo")] == ["demo-1.0.tar.gz"]
    for ctype in ("text/html", "text/html; charset=utf-8", "application/vnd.pypi.simple.v1+html", "", "text/plain"):
        assert [f.filename for f in parse_page(ht, ctype, PAGE, "demo")] == ["demo-1.0.tar.gz"]
    # a proxy that labels JSON as HTML (or the reverse) does not fool the sniffing
    assert len(parse_page(js, "text/html", PAGE, "demo")) == 1
    assert len(parse_page(ht, "application/vnd.pypi.simple.v1+json", PAGE, "demo")) == 1


def test_charset_from_content_type() -> None:
    body = '<a href="demo-1.0.tar.gz" data-yanked="café">x</a>'.encode("latin-1")
    files = parse_page(body, "text/html; charset=ISO-8859-1", PAGE, "demo")
    assert files[0].yanked == "café"


def test_accept_header_prefers_json() -> None:
    parts = [p.strip() for p in ACCEPT_HEADER.split(",")]
    assert parts[0] == "application/vnd.pypi.simple.v1+json"
    assert any(p.startswith("text/html") for p in parts)


def big_page(n: int) -> bytes:
    rows = []
    for i in range(n):
        v = f"1.{i // 20}.{i % 20}"
        fn = f"numpy-{v}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" if i % 4 else f"numpy-{v}.tar.gz"
        h = hashlib.sha256(fn.encode()).hexdigest()
        rows.append(
            f'<a href="../../files/{h[:2]}/{fn}#sha256={h}" data-requires-python="&gt;=3.9" '
            f'data-dist-info-metadata="sha256={h}" data-core-metadata="sha256={h}">{fn}</a><br />'
        )
    return html_page(*rows)


def test_a_big_page_is_parsed_whole() -> None:
    # (issue 11: this test asserted a parse took under 100 ms; timings belong in bench/)
    body = big_page(5000)
    files = parse_html(body, PAGE, "numpy")
    assert len(files) == 5000
    assert len({f.filename for f in files}) == 5000
    assert sum(f.filename.endswith(".tar.gz") for f in files) == 1250
    for f in (files[0], files[1], files[4999]):
        digest = hashlib.sha256(f.filename.encode()).hexdigest()
        assert f.requires_python == ">=3.9"
        assert f.hashes == {"sha256": digest}
        assert f.metadata_hashes == {"sha256": digest}
        assert f.url.endswith(f"/files/{digest[:2]}/{f.filename}")


def test_project_name_is_normalized() -> None:
    body = html_page('<a href="zope.interface-5.0-py3-none-any.whl">x</a>')
    assert len(parse_html(body, PAGE, "Zope_Interface")) == 1
    assert canonicalize_name("Zope_Interface") == "zope-interface"
