"""The driver of a stage job: ``python -m boostqa.jobs '<JobSpec JSON>'`` (what Ray runs for every submission).

Callable without Airflow or Ray's Jobs API too: run it in a shell on any machine that can reach the lake. The lake's
credentials come from this process's environment (``BOOSTQA_LAKE__ACCESS_KEY``/``SECRET_KEY``): a production
cluster has them from its Secret, the embedded one from the stack that started it.
"""

from __future__ import annotations

import logging
import sys
import time

from boostqa.errors import ConfigError
from boostqa.jobs.spec import JobSpec, result_line
from boostqa.jobs.stages import STAGES
from boostqa.lake.store import ObjectStore
from boostqa.settings import get_settings

log = logging.getLogger("boostqa.jobs")


def main(argv: list[str]) -> int:
    """Run the job the one argument describes and print its result line; exit 0.

    A configuration error prints a result line that says so (the submitter fails without retry) and exits 2; any other
    error leaves its traceback in the job's log and exits 1 (worth a retry).
    """
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(argv) != 1:
        print("usage: python -m boostqa.jobs '<JobSpec JSON>'", file=sys.stderr)
        return 2
    spec = JobSpec.model_validate_json(argv[0])
    lake = get_settings().lake
    store = ObjectStore(spec.lake.with_credentials(lake.access_key, lake.secret_key))
    started = time.monotonic()
    log.info("%s job for run %s on %s", spec.stage, spec.run_id, store.config.uri(""))
    try:
        result = STAGES[spec.stage](store, spec)
    except ConfigError as exc:  # it names its fix: say it plainly, no traceback
        log.error("%s job for run %s: %s", spec.stage, spec.run_id, exc)
        print(result_line({"config_error": str(exc)}), flush=True)
        return 2
    log.info("%s job for run %s finished in %.1f s", spec.stage, spec.run_id, time.monotonic() - started)
    print(result_line(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
