"""docs/runbook.md has every incident the alerts link to, each as symptom -> diagnosis -> fix."""

from __future__ import annotations

import re

from boostqa.ops.runbook import DAG_INCIDENTS, INCIDENTS, runbook_links
from boostqa_dev.checkout import PROJECT_ROOT

RUNBOOK_PATH = PROJECT_ROOT / "docs" / "runbook.md"


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (lowercase, punctuation dropped, spaces to dashes)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _incident_sections() -> dict[str, str]:
    text = RUNBOOK_PATH.read_text()
    parts = re.split(r"^### (.+)$", text, flags=re.MULTILINE)
    return {_github_anchor(title): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_the_runbook_has_the_eleven_incidents_under_the_anchors_alerts_link() -> None:
    sections = _incident_sections()
    assert list(sections) == list(INCIDENTS)  # same anchors, same order
    assert len(INCIDENTS) == 11


def test_each_incident_reads_symptom_then_diagnosis_command_then_fix() -> None:
    for anchor, body in _incident_sections().items():
        symptom, diagnosis, fix = (body.find(f"**{part}.**") for part in ("Symptom", "Diagnosis", "Fix"))
        assert 0 <= symptom < diagnosis < fix, anchor
        assert "```bash" in body[diagnosis:fix], f"{anchor}: the diagnosis needs a command"


def test_every_dag_links_incidents_that_exist() -> None:
    for dag_id, anchors in DAG_INCIDENTS.items():
        assert anchors and set(anchors) <= set(INCIDENTS), dag_id
        links = runbook_links(dag_id, "https://x/runbook.md")
        assert links[0] == (INCIDENTS[anchors[0]], f"https://x/runbook.md#{anchors[0]}")
