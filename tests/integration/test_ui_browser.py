"""The UIs in a real browser: `airflow standalone` and the dbt docs, loaded in headless Chromium (Debian's package,
installed by `make test`). Asserts the DAG list, each DAG's graph and the dbt lineage graph render; screenshots are
kept under $BOOSTQA_TEST_ARTIFACTS (default .state/test-artifacts/ui/)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from boostqa.lake.store import LakeConfig
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import dbt_env, run_dbt
from boostqa_dev.checkout import PROJECT_ROOT
from boostqa_dev.stack import airflow_home, ui
from boostqa_dev.stack.process import stop
from tests.conftest import isolated_settings

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(os.environ.get("BOOSTQA_TEST_ARTIFACTS", PROJECT_ROOT / ".state" / "test-artifacts")) / "ui"
DAG_IDS = ["seed_ingest", "seed_annotate", "warehouse_build", "qa_synthesis", "mixture_export", "midtrain",
           "benchmark_eval", "scaling_sweep", "anneal_probe"]


@pytest.fixture(scope="module")
def uis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BoostqaSettings, Path]]:
    """A private Airflow home served by `airflow standalone`, and freshly generated dbt docs on a static server."""
    settings = isolated_settings(tmp_path_factory.mktemp("ui-state"))
    docs_dir = settings.state_dir / "dbt-docs"
    airflow_home.prepare(settings)
    # The lineage needs the manifest only: --empty-catalog skips warehouse queries, so no lake is contacted.
    offline_lake = LakeConfig(endpoint_url="http://127.0.0.1:9", bucket="unused", access_key="x", secret_key="y")
    run_dbt(["docs", "generate", "--empty-catalog", "--target-path", str(docs_dir)],
            dbt_env(offline_lake, settings.state_dir / "docs.duckdb"))
    try:
        ui.up(settings, docs_dir=docs_dir)
        yield settings, docs_dir
    finally:
        stop(ui.airflow_service(settings))
        stop(ui.dbt_docs_service(settings, docs_dir))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened = browser.new_page(viewport={"width": 1600, "height": 1000})
    opened.set_default_timeout(60_000)
    try:
        yield opened
    finally:
        opened.close()


def test_airflow_lists_every_dag(uis: tuple[BoostqaSettings, Path], page: Any) -> None:
    settings, _ = uis
    page.goto(f"http://{settings.host}:{settings.ports.airflow_api}/dags", wait_until="networkidle")
    deadline = time.monotonic() + 180
    # the list is fetched once per load: reload until the dag-processor has parsed every file (seconds each)
    while not page.get_by_text(f"{len(DAG_IDS)} Dags").count() and time.monotonic() < deadline:
        time.sleep(3)
        page.reload(wait_until="networkidle")
    page.get_by_text(f"{len(DAG_IDS)} Dags").wait_for()
    for dag_id in DAG_IDS:
        assert page.get_by_role("link", name=dag_id, exact=True).count() >= 1, dag_id
    page.screenshot(path=str(ARTIFACTS / "airflow-dags.png"), full_page=True)


@pytest.mark.parametrize("dag_id, expected_nodes", [
    ("seed_ingest", ["list_sources", "ingest_source", "publish_seeds"]),
    ("seed_annotate", ["freeze_shards", "annotate_shard", "finish_run"]),
    ("warehouse_build", ["prepare_lake", "dbt", "publish_warehouse", "publish_plan"]),
    ("qa_synthesis", ["snapshot_jobs", "synthesize_shard", "quality_control", "dbt_synthesis", "publish_qa"]),
    ("mixture_export", ["stage_general_corpus", "export_mixture", "publish_mixture"]),
    ("midtrain", ["train", "publish_training_run", "dbt_training"]),
    ("benchmark_eval", ["resolve_models", "evaluate", "dbt_eval", "report"]),
])
def test_airflow_draws_each_dag_graph(uis: tuple[BoostqaSettings, Path], page: Any, dag_id: str,
                                      expected_nodes: list[str]) -> None:
    settings, _ = uis
    page.goto(f"http://{settings.host}:{settings.ports.airflow_api}/dags/{dag_id}", wait_until="networkidle")
    page.get_by_label("Show Graph (Press g)").click()
    page.locator(".react-flow__node").first.wait_for()
    # edges are drawn after the nodes' layout, later on a loaded machine: wait for them rather than a fixed pause
    edges = len(expected_nodes) - 1
    page.wait_for_function("n => document.querySelectorAll('.react-flow__edge').length >= n", arg=edges)
    page.wait_for_timeout(500)  # let the layout settle before the screenshot
    labels = [node.inner_text().split("\n")[0].split(" [")[0].strip()
              for node in page.locator(".react-flow__node").all()]
    assert set(expected_nodes) <= set(labels), labels
    assert page.locator(".react-flow__edge").count() >= edges
    page.screenshot(path=str(ARTIFACTS / f"airflow-graph-{dag_id}.png"))


def test_dbt_docs_draw_the_whole_lineage_graph(uis: tuple[BoostqaSettings, Path], page: Any) -> None:
    settings, docs_dir = uis
    manifest = json.loads((docs_dir / "manifest.json").read_text())
    models = {uid for uid in manifest["nodes"] if uid.startswith("model.")}
    sources = set(manifest["sources"])
    page.goto(f"http://{settings.host}:{settings.ports.dbt_docs}/#!/overview?g_v=1", wait_until="networkidle")
    page.get_by_role("heading", name="Lineage Graph").wait_for()
    page.wait_for_function("() => angular.element(document.body).injector().get('graph').graph.elements.length > 0")
    page.wait_for_timeout(1000)
    drawn = page.evaluate("""() => {
        const elements = angular.element(document.body).injector().get('graph').graph.elements;
        return {nodes: elements.filter(e => e.group === 'nodes' && !e.data.hidden).map(e => e.data.unique_id),
                edges: elements.filter(e => e.group === 'edges').length};
    }""")
    assert models | sources <= set(drawn["nodes"])
    assert drawn["edges"] >= len(models)  # every model reads at least one upstream node
    canvas = page.locator("canvas").first.bounding_box()
    assert canvas and canvas["width"] > 800 and canvas["height"] > 400
    page.screenshot(path=str(ARTIFACTS / "dbt-lineage.png"))


def test_dbt_docs_open_a_mart_s_lineage_from_its_page(uis: tuple[BoostqaSettings, Path], page: Any) -> None:
    settings, _ = uis
    page.goto(f"http://{settings.host}:{settings.ports.dbt_docs}/#!/model/model.boostqa.fct_generation_plan",
              wait_until="networkidle")
    page.get_by_title("View Lineage Graph").click()
    page.get_by_role("heading", name="Lineage Graph").wait_for()
    page.wait_for_timeout(1500)
    shown = dict(page.evaluate("""() => angular.element(document.body).injector().get('graph').graph.elements
        .filter(e => e.group === 'nodes' && !e.data.hidden).map(e => [e.data.unique_id, e.data.selected])"""))
    assert shown.get("model.boostqa.fct_generation_plan") == 1  # the page's model, highlighted
    assert "model.boostqa.fct_mixing_ratios" in shown  # its parent: ratios fed by the deficiency probe
    assert "model.boostqa.fct_synthesis_jobs" in shown  # its child: the jobs synthesis runs
    page.screenshot(path=str(ARTIFACTS / "dbt-lineage-fct_generation_plan.png"))
