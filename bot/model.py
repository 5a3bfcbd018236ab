"""Which trained Rasa model belongs to the current training inputs, and training it when missing.

A model is named by a fingerprint of everything that shapes it (config, domain, training data,
the custom NLU components and the text rules they call), so a stale model is never served and an
unchanged one is never retrained.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from pathlib import Path

from bot.config import ROOT

log = logging.getLogger(__name__)

MODEL_INPUTS = ("config.yml", "domain.yml", "data", "nlu", "bot/text.py", "bot/extraction.py", "bot/spoken.py")
MODELS_DIR = ROOT / "models"


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


def model_path(models_dir: Path = MODELS_DIR) -> Path:
    return models_dir / f"model-{fingerprint()}.tar.gz"


def ensure_trained(models_dir: Path = MODELS_DIR, *, force: bool = False) -> Path:
    """The model for the current inputs, training it first when it does not exist yet.

    After training, models for older inputs are removed: they can never be served again.
    """
    path = model_path(models_dir)
    if path.exists() and not force:
        return path
    models_dir.mkdir(parents=True, exist_ok=True)
    rasa = Path(sys.executable).with_name("rasa")
    log.info("training %s", path.name)
    subprocess.run(
        [str(rasa), "train", "--out", str(models_dir), "--fixed-model-name", path.name.removesuffix(".tar.gz")],
        cwd=ROOT,
        check=True,
    )
    for stale in models_dir.glob("model-*.tar.gz"):
        if stale != path:
            stale.unlink()
    return path
