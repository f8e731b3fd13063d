"""``push_folder``: upload an unlearned model folder, with its model card, to the Hugging Face
Hub through ``huggingface_hub`` (``obliviate push DIR org/name`` or ``push_to_hub=org/name``).

The token is huggingface_hub's own (``HF_TOKEN`` or ``hf auth login``). Hidden files
(temporary and partial writes) are never uploaded.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from obliviate.config import REPO_ID
from obliviate.errors import ConfigError, ModelError
from obliviate.reports.loading import ATTACKS
from obliviate.reports.model_card import CARD, write_model_card

IGNORE = [".*", "**/.*", "*.partial*", "*.tmp"]


def _is_model_folder(folder: Path) -> bool:
    return (folder / "config.json").is_file() or (folder / "adapter_config.json").is_file()


def _written_by_obliviate(card: Path) -> bool:
    """True when the card's YAML front matter carries the ``obliviate`` tag."""
    parts = card.read_text(encoding="utf-8").split("---\n", 2)
    return len(parts) == 3 and "- obliviate\n" in parts[1]


def _refresh_card(folder: Path) -> None:
    """(Re)write the card of an obliviate run folder (its files may have changed since, e.g.
    an attack), unless someone replaced it with their own; write one if there is none."""
    card = folder / CARD
    ours = (folder / "run.json").is_file() and (not card.is_file() or _written_by_obliviate(card))
    if ours or not card.is_file():
        write_model_card(folder)


def check_push(folder: str | Path, repo_id: str) -> Path:
    folder = Path(folder)
    if not REPO_ID.fullmatch(repo_id or ""):
        raise ConfigError(f"{repo_id!r} is not a Hugging Face repository id; use org/name")
    if not folder.is_dir() or not _is_model_folder(folder):
        raise ConfigError(f"{folder} is not a model folder (no config.json or "
                          "adapter_config.json); pass the output folder of `obliviate run`")
    return folder


def push_folder(folder: str | Path, repo_id: str, private: bool = False,
                api: Any = None, attacks: str | Path | None = None) -> str:
    """Create ``repo_id`` if needed and upload ``folder`` (model, tokenizer, card, results) in
    one commit; returns the commit URL. ``attacks``: an ``attack_results.json`` (written by
    ``obliviate attack`` into its own folder) copied into ``folder`` first, so that the card
    and the upload carry it. ``api`` is an ``huggingface_hub.HfApi`` (a new one when None)."""
    folder = check_push(folder, repo_id)
    if attacks is not None:
        if not Path(attacks).is_file():
            raise ConfigError(f"attack results {attacks} do not exist; pass the "
                              "attack_results.json written by `obliviate attack`")
        shutil.copyfile(attacks, folder / ATTACKS)
    _refresh_card(folder)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    api = api or HfApi()
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                   ignore_patterns=list(IGNORE),
                                   commit_message=f"Upload unlearned model {folder.name} "
                                   "(obliviate)")
    except (HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled, OSError) as err:
        raise ModelError(f"could not push {folder} to {repo_id}: {err}. Log in with `hf auth "
                         "login` (or set HF_TOKEN) and make sure HF_HUB_OFFLINE is not set") from None
    return str(getattr(commit, "commit_url", commit))
