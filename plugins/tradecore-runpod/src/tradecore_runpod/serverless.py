"""RunPod serverless worker that evaluates finished runs on the network volume, like ``tradecore eval``.

The worker's entry is this module: ``python -m tradecore_runpod.serverless`` hands :func:`handler` to
``runpod.serverless.start``. A job's input::

    {"run": "<run folder: a name or path under TRADECORE_RUNS, or an absolute path inside it>",
     "data": {"type": "synthetic", "params": {...}},   # optional: other data, as `tradecore eval --data`
     "split": "test",                                   # optional: test|validation|train|all
     "segments": 1}                                     # optional: as `tradecore eval --segments`

The split defaults the way ``tradecore eval`` does: ``test`` on the run's own data, ``all`` with ``data``.
The evaluation is :func:`tradecore.api.evaluate_run`, so it writes
``RUN/evals/<stamp>-<split>/`` on the volume and returns the same metrics. SB3 models are pickles:
only run folders under the runs root are loaded, and ``data`` is inline JSON, never a path to read.
Bad input comes back as ``{"error": "<one line>"}``, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any

from tradecore.api import TradecoreError

SPLITS = ("test", "validation", "train", "all")
INPUT_FIELDS = ("run", "data", "split", "segments")
DATA_EXAMPLE = '{"type": "synthetic", "params": {"bars": 2000}}'


class JobInputError(TradecoreError):
    """A serverless job whose input cannot be evaluated as written."""


@lru_cache(maxsize=1)
def _runtime() -> Any:
    # built once per worker: plugin discovery is paid at the first job, not at every one
    from tradecore.api import Runtime

    return Runtime.from_environment()


def _log(line: str) -> None:
    # evaluation progress goes to the worker's log (stderr), the result goes back as the job's output
    print(line, file=sys.stderr, flush=True)


def runs_root() -> Path:
    """The worker's run folders: ``$TRADECORE_RUNS`` (the network volume), else ``./runs``."""
    from tradecore.api import default_runs_root

    root = default_runs_root().resolve()
    if not root.is_dir():
        raise JobInputError(
            f"runs root {root} does not exist; set TRADECORE_RUNS on the endpoint to the run folders "
            "on the network volume (e.g. /runpod-volume/runs)"
        )
    return root


def resolve_run(run: Any, root: Path) -> Path:
    """The run folder a job names, refused unless it lies inside ``root`` (symlinks resolved)."""
    from tradecore.api import is_inside, resolve_run_dir

    if not isinstance(run, str) or not run.strip():
        raise JobInputError('input.run: give the run folder, e.g. {"run": "20260101T000000Z-tiny"} or "latest"')
    ref = Path(run)
    candidate = ref if ref.is_absolute() else root / ref
    if not is_inside(candidate, root):
        raise JobInputError(
            f"input.run: {run} is outside the runs root {root}; SB3 models are pickles, so this worker "
            "loads only run folders under TRADECORE_RUNS"
        )
    if candidate.is_dir():
        run_dir = candidate
    elif not ref.is_absolute() and len(ref.parts) == 1:
        run_dir = resolve_run_dir(run, root)  # "latest" or a unique part of a folder name
    else:
        raise JobInputError(f"input.run: no run folder at {candidate}")
    if not is_inside(run_dir, root):
        raise JobInputError(f"input.run: {run} resolves outside the runs root {root}")
    return run_dir.resolve()


def data_spec(data: Any) -> str | None:
    """``data`` as the JSON text ``evaluate_run`` takes for ``--data``; inline only, never a file to read."""
    if data is None:
        return None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise JobInputError(f"input.data: give the source as a JSON object, e.g. {DATA_EXAMPLE}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise JobInputError(f'input.data: a source object needs a "type", e.g. {DATA_EXAMPLE}')
    return json.dumps(data)


def _options(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise JobInputError('input: give an object like {"run": "<run folder>", "data": {...}, "split": "test"}')
    unknown = sorted(set(payload) - set(INPUT_FIELDS))
    if unknown:
        raise JobInputError(f"input: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(INPUT_FIELDS)}")
    split = payload.get("split")
    if split is not None and split not in SPLITS:
        raise JobInputError(f"input.split: {split!r} is not one of {', '.join(SPLITS)}")
    segments = payload.get("segments")
    if segments is not None and (isinstance(segments, bool) or not isinstance(segments, int) or segments < 1):
        raise JobInputError(f"input.segments: {segments!r} must be a whole number >= 1 (1 = exact)")
    return {"split": split, "segments": segments, "data": data_spec(payload.get("data"))}


def _finite(value: Any) -> Any:
    # NaN/inf are not JSON: the endpoint's caller gets null instead
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _one_line(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def evaluate(payload: Any) -> dict[str, Any]:
    """Evaluate one job's input; raises :class:`TradecoreError` for anything the caller must fix."""
    from tradecore.api import evaluate_run

    options = _options(payload)
    root = runs_root()
    run_dir = resolve_run(payload.get("run"), root)
    result = evaluate_run(_runtime(), str(run_dir), runs_root=root, echo=_log, **options)
    metrics = json.loads(json.dumps(_finite(result["metrics"]), default=str))
    return {
        "run": run_dir.name,
        "split": metrics.get("split"),
        "path": str(result["path"]),
        "verdict": (metrics.get("verdict") or {}).get("summary"),
        "metrics": metrics,
    }


def handler(job: dict[str, Any]) -> dict[str, Any]:
    """The RunPod handler: ``job["input"]`` in, the evaluation's metrics (or ``{"error": ...}``) out."""
    try:
        return evaluate(job.get("input") if isinstance(job, dict) else None)
    except TradecoreError as err:
        return {"error": _one_line(err)}
    except Exception as err:  # a bug or a broken run folder: full traceback to the worker log, one line back
        traceback.print_exc(file=sys.stderr)
        return {"error": f"evaluation failed: {type(err).__name__}: {_one_line(err)}"}


if __name__ == "__main__":
    import runpod

    runpod.serverless.start({"handler": handler})
