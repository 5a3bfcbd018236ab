"""Which trained Rasa model belongs to the current training inputs, training it when missing, and
which model the Rasa servers were last given.

A model is named by a fingerprint of everything that shapes it (config, domain, training data,
the custom NLU components and the text rules they call), so a stale model is never served and an
unchanged one is never retrained.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.config import ROOT, VAR_DIR

log = logging.getLogger(__name__)

MODEL_INPUTS = (
    "config.yml",
    "domain.yml",
    "data",
    "nlu",
    "bot/language/text.py",
    "bot/language/extraction.py",
    "bot/language/spoken.py",
)
MODELS_DIR = ROOT / "models"
DEPLOYED_RECORD = VAR_DIR / "deployed_model.json"
# Rasa's `train` with our additions: the same rule search the servers run, and no TensorFlow to import.
TRAIN_COMMAND = (sys.executable, "-m", "rasa_addons", "train")


def fingerprint(root: Path = ROOT) -> str:
    """A short hash of every file that shapes the model."""
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = root / name
        files = [path]
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(models_dir: Path = MODELS_DIR, root: Path = ROOT) -> Path:
    return models_dir / f"model-{fingerprint(root)}.tar.gz"


def file_digest(path: Path) -> str:
    """SHA-256 of a model file: two trainings of the same inputs share a name but not their weights."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class DeployedModel:
    """What `model deploy` last loaded into every Rasa server, kept in var/deployed_model.json."""

    model: str  # the file name in models/
    sha256: str
    deployed_at: dt.datetime
    scores: dict[str, float]  # held-out scores by name (rasa_addons/model_scores.py)
    servers: list[str]

    @property
    def fingerprint(self) -> str:
        return self.model.removeprefix("model-").removesuffix(".tar.gz")


def read_deployed(path: Path = DEPLOYED_RECORD) -> DeployedModel | None:
    """The deployed model's record, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return DeployedModel(
            model=data["model"],
            sha256=data["sha256"],
            deployed_at=dt.datetime.fromisoformat(data["deployed_at"]),
            scores={str(k): float(v) for k, v in data["scores"].items()},
            servers=[str(s) for s in data["servers"]],
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("deployed model record unreadable: %s", type(error).__name__)
        return None


def write_deployed(record: DeployedModel, path: Path = DEPLOYED_RECORD) -> None:
    """Write the record whole or not at all (written beside it, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({**asdict(record), "deployed_at": record.deployed_at.isoformat()}, indent=2))
    partial.replace(path)


def served_model(models_dir: Path = MODELS_DIR, record_path: Path = DEPLOYED_RECORD) -> Path:
    """The model a Rasa server starts with: the one last deployed, else the one for the current inputs.

    So a server the supervisor restarts after `model deploy` comes back with the deployed model,
    not the one the stack was started with.
    """
    record = read_deployed(record_path)
    if record is not None and (models_dir / record.model).exists():
        return models_dir / record.model
    return model_path(models_dir)


def record_served(path: Path, record_path: Path = DEPLOYED_RECORD) -> None:
    """Note `path` as the model being served from now on (`make run` starts with it), unless it already is."""
    record = read_deployed(record_path)
    digest = file_digest(path)
    if record is None or record.model != path.name or record.sha256 != digest:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        write_deployed(DeployedModel(path.name, digest, now, scores={}, servers=[]), record_path)


def ensure_trained(
    models_dir: Path = MODELS_DIR, *, force: bool = False, root: Path = ROOT, keep: tuple[str, ...] = ()
) -> Path:
    """The model for the current inputs (of the project at `root`), training it first when it does not exist yet.

    After training, models for older inputs are removed: they can never be served again, except the
    deployed one and those named in `keep`, which a Rasa server may still be running.
    """
    path = model_path(models_dir, root)
    if path.exists() and not force:
        return path
    models_dir.mkdir(parents=True, exist_ok=True)
    log.info("training %s", path.name)
    subprocess.run(
        [*TRAIN_COMMAND, "--out", str(models_dir), "--fixed-model-name", path.name.removesuffix(".tar.gz")],
        cwd=root,
        check=True,
    )
    deployed = read_deployed()
    in_use = {path.name, *keep, *([deployed.model] if deployed else [])}
    for stale in models_dir.glob("model-*.tar.gz"):
        if stale.name not in in_use:
            stale.unlink()
    return path


if (
    __name__ == "__main__"
):  # `python -m bot.training.trained_model`: the path Procfile's Rasa starts with (a light import)
    print(served_model())
