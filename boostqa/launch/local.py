"""The embedded launcher: torchrun in ``.venv-train`` as a detached local process group."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from boostqa.errors import ConfigError
from boostqa.launch.spec import LaunchSpec, RunStatus, read_status_file
from boostqa.settings import get_settings, require_path

# torchrun's agent checks its workers every 0.1 s by default. On a small CPU box its wake-ups preempt the trainer's
# OpenMP threads, which then wait at every barrier (docs/training.md, P5). A dead rank is still noticed in seconds.
MONITOR_INTERVAL_S = 5


class LocalLauncher:
    """Runs ``torchrun -m training.train`` beside the pipeline (CPU here; a single GPU box works the same)."""

    def __init__(self, venv: Path | None = None, cwd: Path | None = None,
                 torch_extensions_dir: Path | None = None) -> None:
        """Each path defaults to its trainer setting.

        Those are ``BOOSTQA_TRAINER__VENV``, ``__CODE_DIR`` and ``__TORCH_EXTENSIONS_DIR``; the venv and the code
        folder are needed only to submit.
        """
        self._venv, self._cwd, self._torch_extensions_dir = venv, cwd, torch_extensions_dir

    @property
    def venv(self) -> Path:
        """The training venv (its ``bin/torchrun``)."""
        return self._venv or require_path(get_settings().trainer.venv, "BOOSTQA_TRAINER__VENV")

    @property
    def cwd(self) -> Path:
        """Where torchrun starts: the folder holding ``training/``."""
        return self._cwd or require_path(get_settings().trainer.code_dir, "BOOSTQA_TRAINER__CODE_DIR")

    @property
    def torch_extensions_dir(self) -> Path:
        """DeepSpeed's JIT op cache, shared by runs so an op compiles once."""
        if self._torch_extensions_dir is not None:
            return self._torch_extensions_dir
        settings = get_settings()
        return settings.trainer.torch_extensions_dir or settings.state_dir / "torch_extensions"

    def command(self, spec: LaunchSpec) -> list[str]:
        """The torchrun command line of a spec.

        ``--standalone``: the rendezvous and the workers' process group take free ports, so runs side by side on one
        machine (a sweep's cells, a test beside the demo) never fight over torchrun's default port 29500.
        """
        return [str(self.venv / "bin" / "torchrun"), "--standalone", "--nproc_per_node", str(spec.nproc_per_node),
                "--monitor-interval", str(MONITOR_INTERVAL_S), "-m", "training.train", *spec.train_args()]

    def submit(self, spec: LaunchSpec) -> str:
        """Start the run; returns its handle (the process id). The log is ``<output_dir>/launcher.log``.

        Raises:
            ConfigError: the training venv is missing (run `make install`).
        """
        if not (self.venv / "bin" / "torchrun").exists():
            raise ConfigError(f"{self.venv} has no torchrun: run `make install` (it builds .venv-train)")
        output = Path(spec.output_dir)
        output.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DS_ACCELERATOR": os.environ.get("DS_ACCELERATOR", "cpu"),
               "TORCH_EXTENSIONS_DIR": str(self.torch_extensions_dir), **spec.env}
        with (output / "launcher.log").open("ab") as log:
            process = subprocess.Popen(self.command(spec), cwd=self.cwd, env=env, stdout=log,  # noqa: S603
                                       stderr=subprocess.STDOUT, start_new_session=True)
        return str(process.pid)

    def status(self, handle: str, spec: LaunchSpec) -> RunStatus:
        """The run's status file; a run whose process is gone without a final status has failed."""
        status = read_status_file(Path(spec.output_dir))
        if status is not None and status.finished:
            return status
        if not pid_alive(int(handle)):
            log = Path(spec.output_dir) / "launcher.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            return RunStatus(state="failed", step=status.step if status else None,
                             error=f"the training process {handle} exited without a final status; log tail:\n{tail}")
        return status or RunStatus(state="submitted")

    def cancel(self, handle: str, spec: LaunchSpec) -> None:
        """Stop every process of the run (torchrun and its workers, which live in their own sessions)."""
        for pid in _processes_of(spec.output_dir) + ([int(handle)] if handle.isdigit() else []):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def pid_alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")  # a zombie has exited


def _processes_of(output_dir: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"output_dir={output_dir}".encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids
