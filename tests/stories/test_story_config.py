"""``[stories]`` in newswatch.toml: defaults, values, and one clear error per bad value."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipelines.config import parse_config
from pipelines.config.stories import StoriesConfig
from pipelines.errors import ConfigError


def load(tmp_path: Path, section: str) -> StoriesConfig:
    path = tmp_path / "nw.toml"
    path.write_text(section, encoding="utf-8")
    return parse_config(tomllib.loads(section), path).stories


def test_defaults_and_values(tmp_path: Path) -> None:
    assert load(tmp_path, "") == StoriesConfig()
    got = load(
        tmp_path,
        '[stories]\nwindow_days = 10\nupdates = "daily"\n'
        '[[stories.entities]]\nid = "newco"\nkind = "org"\nnames = ["NewCo"]\n',
    )
    assert (got.window_days, got.updates) == (10, "daily")
    assert got.entities == ({"id": "newco", "kind": "org", "names": ["NewCo"]},)


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        ('updates = "weekly"', "stories.updates: must be one of 'each-pass', 'daily', 'never'"),
        ("window_days = 0", "stories.window_days: must be >= 1, not 0"),
        ("firm_threshold = 1.0", "stories.firm_threshold: must be >= join_threshold"),
        ("windows = 3", "stories.windows"),
        ('[[stories.entities]]\nnames = ["X"]', "stories.entities[0].id: is required"),
        ('[[stories.entities]]\nid = "x"\nkind = "thing"', "stories.entities[0].kind"),
    ],
)
def test_a_bad_value_names_the_key(tmp_path: Path, section: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        load(tmp_path, "[stories]\n" + section + "\n")
