"""The website's way onto the web: the GitHub Actions workflow (which cannot run here) builds
the book with the README's own command and publishes _build/html with the standard Pages
actions; the README says how to publish and where the one repository address lives."""

from __future__ import annotations

import re

import yaml
from book_layout import CONFIG, REPO

WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"


def _steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_workflow_runs_on_pushes_to_main():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as True
    assert triggers["push"]["branches"] == ["main"]
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"


def test_the_workflow_builds_with_the_readmes_command():
    readme = (REPO / "README.md").read_text()
    assert "make book" in readme
    assert [step["run"] for step in _steps() if "run" in step] == ["make book"]


def test_the_workflow_uploads_the_built_site_and_deploys_it_with_the_standard_actions():
    uses = {step["uses"].split("@")[0]: step for step in _steps() if "uses" in step}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in uses
    steps = [step.get("uses", step.get("run", "")).split("@")[0] for step in _steps()]
    assert steps.index("make book") < steps.index("actions/upload-pages-artifact") < steps.index("actions/deploy-pages")


def test_the_readme_says_how_to_publish_and_where_the_address_is_set():
    readme = (REPO / "README.md").read_text()
    assert ".github/workflows/pages.yml" in readme
    assert re.search(r"_config\.yml.*repository", readme, re.S)
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
