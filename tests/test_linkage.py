"""The measured linkage that the sidebar and the CLI quote next to the strength (anonymize/linkage.json)."""

import subprocess
import sys

from anonymize.censor import METHODS, CensorSettings
from anonymize.linkage import LIMIT, lowest_enough, measured
from conftest import ROOT
from helpers.apptest import open_page


def test_every_method_and_whole_strength_has_a_measured_figure():
    for method in METHODS:
        for strength in range(1, 11):
            figure = measured(method, strength)
            assert 0 <= figure.rank1 <= 1 and 0 < figure.chance < 0.01 and figure.faces >= 500


def test_a_half_step_quotes_the_weaker_whole_step_never_a_stronger_one():
    assert measured("blur", 4.5) == measured("blur", 4)


def test_fill_is_the_control_and_stays_within_the_limit():
    assert measured("fill", 1).enough and lowest_enough("fill") == 0


def test_the_default_strength_follows_the_rule_or_the_readme_says_which_method_cannot():
    default = CensorSettings().strength
    said = [
        line for line in (ROOT / "docs" / "censoring.md").read_text().lower().splitlines() if "no strength of" in line
    ]
    for method in METHODS:
        if not measured(method, default).enough:
            assert lowest_enough(method) is None, (
                f"{method} at {default} is above {LIMIT}× chance, yet a strength meets it"
            )
            assert any(method in line for line in said), (
                f"docs/censoring.md does not say that no strength of {method} meets the rule"
            )


def test_the_sidebar_quotes_the_figure_for_the_chosen_method_and_strength():
    at = open_page("image")
    caption = next(c.value for c in at.sidebar.caption if "face recogniser" in c.value)
    assert measured("blur", 5).sentence() in caption
    at.selectbox(key="method").set_value("pixelate").run()
    at.slider(key="strength").set_value(2).run()
    assert any(measured("pixelate", 2).sentence() in c.value for c in at.sidebar.caption)
    assert bool(at.sidebar.warning) is not measured("pixelate", 2).enough  # warned exactly when above the limit


def test_with_fill_the_strength_slider_is_gone_as_it_does_nothing():
    at = open_page("image")
    at.selectbox(key="method").set_value("fill").run()
    assert "strength" not in {s.key for s in at.sidebar.slider} and not at.sidebar.warning
    assert any("filled faces" in c.value for c in at.sidebar.caption)


def test_the_cli_help_quotes_the_default_figure():
    shown = subprocess.run(
        [sys.executable, "-m", "anonymize", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0 and "face recogniser matched" in " ".join(shown.stdout.split())
