"""The docs back their claims with tests and point at the code that does the work: every test and file they name
exists, so a reviewer following docs/security.md (or any other page) from a claim to its test finds it."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md", ROOT / "bench" / "README.md"])
TEST = re.compile(r"\b(tests/[\w/.\-]+\.py)(?:::(\w+))?")
FILE = re.compile(r"`((?:layers|functions|local|scripts|bench|web/src|tests|docs)/[\w/.\-]+"
                  r"\.(?:py|ts|tsx|yaml|json|md))`")
PACKAGE = ROOT / "layers" / "shopdesk" / "shopdesk"
MODULE = re.compile(r"\b((?:logic|privacy|dal|bot|csat|commerce|kb|search|analytics|channels|api|understanding"
                    r"|forecast)/\w+\.py)\b")


# a file (``tests/unit/test_x.py``, ``test_x.py``, ``logic/x.py``) or a ``::name`` in it: a name without its file
# belongs to the last file named before it on the page ("`tests/a.py::test_one`, `::test_two`")
NAMED_IN = re.compile(r"([\w/.\-]*\w\.py)\b|::(\w+)")


def _files(name: str) -> list[Path]:
    """The files a page means by ``name``: a path from the repository, the package or its layer, else every test
    file or package module of that name (a page says ``test_x.py`` once its folder is clear)."""
    for base in (ROOT, PACKAGE, PACKAGE.parent):
        if (base / name).is_file():
            return [base / name]
    return sorted(ROOT.glob(f"tests/**/{name.rsplit('/', 1)[-1]}")) or sorted(PACKAGE.glob(f"**/{name}"))


def _defines(source: Path, name: str) -> bool:
    return re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]",
                     source.read_text(encoding="utf-8"), re.MULTILINE) is not None


def _ignored(path: str) -> bool:
    """A file the project writes when it runs (a quick bench's results): named in the docs, never committed."""
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0


def _named(pattern: re.Pattern[str], page: Path) -> set[tuple[str, ...]]:
    found = pattern.findall(page.read_text(encoding="utf-8"))
    return {match if isinstance(match, tuple) else (match,) for match in found}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_test_a_page_names_exists(page):
    missing = []
    for path, name in _named(TEST, page):
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^\s*(?:async\s+)?def {re.escape(name)}\(", source.read_text(encoding="utf-8"),
                                    re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert not missing, f"{page.name} names tests that do not exist: {sorted(missing)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_name_a_page_gives_after_a_file_is_defined_there(page):
    # "`tests/integration/test_commerce.py::test_a`, `::test_b`" and "`test_breach_risk.py::test_c`": each name
    # is a test (or a function) of the file named last before it
    missing, current, names = [], None, 0
    for match in NAMED_IN.finditer(page.read_text(encoding="utf-8")):
        if match.group(1):
            current = match.group(1)
            continue
        names += 1
        sources = _files(current) if current else []
        if not any(_defines(source, match.group(2)) for source in sources):
            missing.append(f"{current or '(no file named before it)'}::{match.group(2)}")
    assert not missing, f"{page.name} names what its files do not define: {sorted(missing)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_file_a_page_names_exists(page):
    missing = [path for (path,) in _named(FILE, page) if not (ROOT / path).exists() and not _ignored(path)]
    missing += [f"shopdesk/{path}" for (path,) in _named(MODULE, page) if not (PACKAGE / path).is_file()]
    assert not missing, f"{page.name} names files that do not exist: {sorted(missing)}"


def test_the_check_finds_a_test_or_a_file_that_is_not_there(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Backed by tests/unit/test_docs_references.py::test_nothing_of_the_kind and `logic/nowhere.py`.")
    assert _named(TEST, page) == {("tests/unit/test_docs_references.py", "test_nothing_of_the_kind")}
    assert _named(MODULE, page) == {("logic/nowhere.py",)}
    with pytest.raises(AssertionError, match="test_nothing_of_the_kind"):
        test_every_test_a_page_names_exists(page)
    with pytest.raises(AssertionError, match=r"logic/nowhere\.py"):
        test_every_file_a_page_names_exists(page)


def test_a_name_given_without_its_file_is_looked_for_in_the_file_named_before_it(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("`tests/unit/test_docs_references.py::test_every_file_a_page_names_exists`, "
                    "`::test_the_check_finds_a_test_or_a_file_that_is_not_there` and `::test_renamed_since`; "
                    "`logic/variables.py::variables_for`, `test_docs_references.py::_files`.")
    with pytest.raises(AssertionError) as refused:
        test_every_name_a_page_gives_after_a_file_is_defined_there(page)
    said = str(refused.value).splitlines()[0]
    assert said.count("::") == 1 and "tests/unit/test_docs_references.py::test_renamed_since" in said
