"""The setup script: a mistyped or extra argument stops it before it installs anything."""

import subprocess
from pathlib import Path

import pytest

BOOTSTRAP = Path(__file__).parents[1] / "scripts" / "bootstrap"


@pytest.mark.parametrize("arguments", [["--deve"], ["--dev", "--peers"], ["dev"]])
def test_bootstrap_refuses_an_argument_it_does_not_know(arguments):
    """`--deve` or `--dev --peers` used to set up the plain install silently; now it says what
    it takes and exits with status 2 at once (it would otherwise take minutes installing)."""
    result = subprocess.run([str(BOOTSTRAP), *arguments], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--dev or --peers" in result.stderr and " ".join(arguments) in result.stderr
    assert result.stdout == ""
