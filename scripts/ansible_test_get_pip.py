"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates an empty virtual environment for each sanity test that needs extra
packages and bootstraps pip into it by running a cached ``get-pip`` script:

* it looks for ``~/.ansible/test/cache/get_pip_<X_Y>.py`` (pip version with dots turned
  into underscores) and only downloads the upstream script when that file is missing;
* it runs the script through its ``quiet_pip.py`` wrapper (``runpy`` with
  ``run_name='__main__'``), in the new environment's interpreter, with arguments such as
  ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.

``scripts/collection_checks.sh`` copies this file to that cache path and puts the pip wheel
(``pip download pip==<X.Y>``) beside it. Run from there, this script installs pip from the
wheel next to it, without any network access. It accepts only the requests ansible-test
makes: pip options, a ``pip==<version>`` requirement, ``--no-setuptools`` and ``--no-wheel``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Lets collection_checks.sh recognise (and refresh) a copy it installed earlier.
MARKER = "tecrax-offline-get-pip-stand-in"

_SKIPPED_FLAGS = frozenset({"--no-setuptools", "--no-wheel"})


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Return (pip options, requirements) from the arguments ansible-test passes."""
    options = [arg for arg in argv if arg.startswith("-") and arg not in _SKIPPED_FLAGS]
    requirements = [arg for arg in argv if not arg.startswith("-")]
    return options, requirements


def _wheel_for(requirements: list[str], directory: Path) -> Path:
    """Find the local pip wheel matching the single ``pip==<version>`` requirement."""
    if len(requirements) != 1 or not requirements[0].startswith("pip=="):
        raise SystemExit(f"{MARKER}: expected exactly one 'pip==<version>' requirement, got {requirements}")
    version = requirements[0].removeprefix("pip==")
    wheel = directory / f"pip-{version}-py3-none-any.whl"
    if not wheel.is_file():
        raise SystemExit(f"{MARKER}: missing {wheel.name} beside this script; run 'pip download pip=={version}' into {directory}")
    return wheel


def main(argv: list[str]) -> int:
    """Install pip from the wheel stored next to this script."""
    options, requirements = _split(argv)
    wheel = _wheel_for(requirements, Path(__file__).resolve().parent)
    # A wheel is a zip archive that Python can import from: run the pip it contains to
    # install that very wheel into the current (empty) environment.
    sys.path.insert(0, str(wheel))
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    return pip_main(["install", "--no-index", "--force-reinstall", *options, str(wheel)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
