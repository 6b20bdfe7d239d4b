"""Every setting is documented in docs/settings.md, and nothing undocumented is listed."""

import re
from pathlib import Path

from openbureau.settings import Settings

DOC = Path(__file__).parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented():
    documented = set(re.findall(r"`OPENBUREAU_([A-Z_]+)`", DOC.read_text()))
    declared = {name.upper() for name in Settings.model_fields}
    assert declared == documented
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} needs a description"
