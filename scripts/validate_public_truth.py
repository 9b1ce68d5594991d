#!/usr/bin/env python3
"""Check that what Tecrax says about itself in public agrees with what it is.

* Version: ``pyproject.toml`` ``[project].version``, ``__version__`` in
  ``src/tecrax/__init__.py`` and ``version`` in ``galaxy.yml`` are one value, and
  ``CHANGELOG.md`` has a ``## [<version>]`` section. The version continues the published
  line: it orders after ``PUBLISHED_LINE`` (the last release of the ``tecrax`` package).
* Pins: ``pyproject.toml`` depends on exactly rexecop==0.2.16a0, govengine==0.16.8 and
  sclite-core==1.0.8; ``README.md`` states each pin in that very form, and neither the
  README nor the public documents state another version or specifier for them.
* The ``rexecop[tecrax]`` extra: the pinned RExecOp's extra pins the older ``tecrax``
  0.3.11a0, so ``README.md`` must warn off it (name it in a negated clause: "not
  ``rexecop[tecrax]``") and no public document may give a ``pip install`` line with it
  (unless negated).
* Claims: the public documents (README.md, CHANGELOG.md, docs/, and the descriptions in
  galaxy.yml and pyproject.toml) make none of the claims Tecrax must not make: production-
  ready or -grade, enterprise-grade, battle-tested, manages credentials or secrets, accepts
  or runs arbitrary commands, is a scheduler, owns lifecycle or policy. A phrase counts as
  a claim only when the clause leading to it carries no negation and names no other
  subject (RExecOp, GovEngine, SCLite, the operator): "Tecrax does not manage credentials"
  and "RExecOp owns the lifecycle" pass, "Tecrax manages credentials" fails. Clauses end
  at punctuation, at "and", "but", "while", "whereas", "although", "however", at a blank
  line and at a list item or heading.
  A line carrying ``public-truth: allow <reason>`` (in Markdown, inside an HTML comment)
  is not checked for claims.

Usage: validate_public_truth.py [--root DIR]
Prints ``path[:line]: reason`` per problem and exits 1 when there is any, 0 otherwise.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from repository_finding import Finding as Problem
from repository_finding import report_findings, root_arguments

PINS = {"rexecop": "0.2.16a0", "govengine": "0.16.8", "sclite-core": "1.0.8"}

CLAIMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("production-ready", r"\bproduction[\s-]+(?:ready|grade)\b"),
        ("enterprise-grade", r"\benterprise[\s-]+(?:grade|ready|class)\b"),
        ("battle-tested", r"\bbattle[\s-]+tested\b"),
        ("manages credentials", r"\bmanag(?:e|es|ing)\s+(?:your\s+|all\s+|the\s+)?(?:credentials|secrets|passwords)\b"),
        ("credential management", r"\bcredentials?\s+management\b"),
        ("accepts arbitrary commands", r"\b(?:accept|run|execute)(?:s|ing)?\s+arbitrary\s+(?:shell\s+)?commands?\b"),
        ("is a scheduler", r"\bis\s+a\s+(?:job\s+|task\s+)?scheduler\b"),
        ("owns lifecycle or policy", r"\bowns?\s+(?:the\s+)?(?:operation\s+)?(?:lifecycle|policy|policies)\b"),
    )
)
NEGATION = re.compile(r"\b(?:not|no|never|nor|neither|without|cannot)\b|n['\u2019]t\b", re.IGNORECASE)
# A clause naming one of these is about it, not about Tecrax ("RExecOp owns the lifecycle").
OTHER_SUBJECT = re.compile(r"\b(?:rexecop|govengine|sclite(?:[-_ ]core)?|operators?)\b", re.IGNORECASE)
CLAUSE_END = re.compile(
    r"[.!?;:,()]|\n\s*\n|\n\s*(?:[-*+]|\d+[.)]|#+)\s|\b(?:and|but|while|whereas|although|however)\b",
    re.IGNORECASE,
)
PIN_STATEMENT = re.compile(
    r"(?<![\w.-])(rexecop|govengine|sclite[-_.]core)\s*(===|==|~=|!=|>=|<=|>|<)\s*([0-9][\w.+!-]*\w)",
    re.IGNORECASE,
)
ALLOW_MARKER = "public-truth: allow "
EXTRA = "rexecop[tecrax]"
PIP_INSTALL_EXTRA = re.compile(r"\bpip\s+install\b[^\n]*?(rexecop\[tecrax\])", re.IGNORECASE)
DOC_SUFFIXES = frozenset({".md", ".rst", ".txt"})


def _pyproject(root: Path) -> dict[str, object]:
    with (root / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle).get("project", {})
    return project if isinstance(project, dict) else {}


def _package_version(root: Path) -> str | None:
    tree = ast.parse((root / "src" / "tecrax" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


def _galaxy_version(root: Path) -> str | None:
    match = re.search(r"^version:\s*[\"']?([^\"'\s#]+)", (root / "galaxy.yml").read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1) if match else None


PUBLISHED_LINE = "0.3.11a0"


def check_versions(root: Path) -> list[Problem]:
    """Versions of the distribution, the package, the collection and the changelog agree."""
    problems: list[Problem] = []
    version = _pyproject(root).get("version")
    if not isinstance(version, str):
        return [Problem("pyproject.toml", 0, "no [project] version")]
    from packaging.version import InvalidVersion, Version

    try:
        if Version(version) <= Version(PUBLISHED_LINE):
            problems.append(Problem("pyproject.toml", 0, f"version {version} does not order after the published {PUBLISHED_LINE}"))
    except InvalidVersion:
        problems.append(Problem("pyproject.toml", 0, f"version {version!r} is not a PEP 440 version"))
    stated = {"src/tecrax/__init__.py": _package_version(root), "galaxy.yml": _galaxy_version(root)}
    for path, value in stated.items():
        if value != version:
            problems.append(Problem(path, 0, f"version {value!r} differs from pyproject.toml version {version!r}"))
    changelog = root / "CHANGELOG.md"
    if not changelog.is_file():
        problems.append(Problem("CHANGELOG.md", 0, "missing"))
    elif not re.search(rf"^##\s*\[{re.escape(version)}\]", changelog.read_text(encoding="utf-8"), re.MULTILINE):
        problems.append(Problem("CHANGELOG.md", 0, f"no '## [{version}]' section"))
    return problems


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_dependency_pins(root: Path) -> list[Problem]:
    """pyproject.toml depends on each governance package exactly at its pin."""
    dependencies = _pyproject(root).get("dependencies", [])
    declared: dict[str, list[str]] = {}
    for requirement in dependencies if isinstance(dependencies, list) else []:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", str(requirement))
        if match:
            declared.setdefault(_normalize(match.group(1)), []).append(re.sub(r"\s+", "", str(requirement)))
    problems = []
    for name, version in PINS.items():
        expected = f"{name}=={version}"
        if declared.get(name) != [expected]:
            problems.append(Problem("pyproject.toml", 0, f"dependency must be exactly {expected}, found {declared.get(name, [])}"))
    return problems


def public_documents(root: Path) -> list[str]:
    """Relative paths of the documents whose claims are public."""
    paths = [name for name in ("README.md", "CHANGELOG.md", "galaxy.yml", "pyproject.toml") if (root / name).is_file()]
    docs = root / "docs"
    if docs.is_dir():
        # docs/runbooks links to profile/runbooks: follow links, which Path.rglob does not.
        paths += sorted((Path(folder) / name).relative_to(root).as_posix()
                        for folder, _, names in os.walk(docs, followlinks=True)
                        for name in names if Path(name).suffix in DOC_SUFFIXES)
    return paths


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _stated_pins(path: str, text: str) -> Iterator[Problem]:
    for match in PIN_STATEMENT.finditer(text):
        name = _normalize(match.group(1))
        stated = f"{name}{match.group(2)}{match.group(3)}"
        expected = f"{name}=={PINS[name]}"
        if stated != expected:
            yield Problem(path, _line_of(text, match.start()), f"states {stated} but the pin is {expected}")


def check_readme_pins(root: Path) -> list[Problem]:
    """README.md states every pin exactly; no public document states another one."""
    readme = root / "README.md"
    if not readme.is_file():
        pins = ", ".join(f"{name}=={version}" for name, version in PINS.items())
        return [Problem("README.md", 0, f"missing; it must state the exact pins {pins}")]
    text = readme.read_text(encoding="utf-8")
    problems = [
        Problem("README.md", 0, f"does not state the pin {name}=={version}")
        for name, version in PINS.items()
        if not re.search(rf"(?<![\w.-]){re.escape(name)}=={re.escape(version)}(?![\w+-]|\.\w)", text)
    ]
    for path in public_documents(root):
        if path != "pyproject.toml":
            problems += _stated_pins(path, (root / path).read_text(encoding="utf-8"))
    return problems


def _clause_lead(text: str, start: int) -> str:
    """The text of the clause leading to ``start``."""
    clause_start = 0
    for end in CLAUSE_END.finditer(text, 0, start):
        clause_start = end.end()
    return text[clause_start:start]


def _not_a_claim(text: str, start: int) -> bool:
    """Whether the clause leading to the phrase at ``start`` negates it or names another subject."""
    lead = _clause_lead(text, start)
    return bool(NEGATION.search(lead) or OTHER_SUBJECT.search(lead))


def check_extra_warning(root: Path) -> list[Problem]:
    """README.md warns off the rexecop[tecrax] extra; no public document installs it."""
    problems: list[Problem] = []
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    starts = [index for index in range(len(text)) if text.startswith(EXTRA, index)]
    if not any(NEGATION.search(_clause_lead(text, start)) for start in starts):
        problems.append(Problem("README.md", 0, f"does not warn off {EXTRA} (it pins the older tecrax {PUBLISHED_LINE})"))
    for path in public_documents(root):
        document = (root / path).read_text(encoding="utf-8")
        for match in PIP_INSTALL_EXTRA.finditer(document):
            if not NEGATION.search(_clause_lead(document, match.start(1))):
                problems.append(Problem(path, _line_of(document, match.start()),
                                        f"installs {EXTRA}, which pins the older tecrax {PUBLISHED_LINE}"))
    return problems


def claims_in(path: str, text: str) -> list[Problem]:
    """Forbidden claims made (not negated) in one document."""
    lines = text.splitlines()
    problems = []
    for label, pattern in CLAIMS:
        for match in pattern.finditer(text):
            line = _line_of(text, match.start())
            if ALLOW_MARKER in lines[line - 1] or _not_a_claim(text, match.start()):
                continue
            problems.append(Problem(path, line, f"forbidden claim '{label}': {' '.join(match.group(0).split())!r}"))
    return problems


def check_claims(root: Path) -> list[Problem]:
    """No public document makes a forbidden claim."""
    problems: list[Problem] = []
    for path in public_documents(root):
        problems += claims_in(path, (root / path).read_text(encoding="utf-8"))
    return problems


def validate(root: Path) -> list[Problem]:
    """All problems, sorted by path and line."""
    problems: list[Problem] = []
    for check in (check_versions, check_dependency_pins, check_readme_pins, check_extra_warning, check_claims):
        try:
            problems += check(root)
        except (OSError, ValueError, SyntaxError) as error:  # unreadable or malformed input
            problems.append(Problem(".", 0, f"{check.__name__}: {error}"))
    return sorted(problems)


def main(argv: list[str] | None = None) -> int:
    args = root_arguments(__doc__).parse_args(argv)
    return report_findings("validate_public_truth", validate(args.root.resolve()))


if __name__ == "__main__":
    sys.exit(main())
