"""Import TextAttack safely, offline.

``import textattack`` has import-time side effects that break an offline audit:

* ``textattack/shared/utils/install.py`` runs ``_post_install_if_needed()``: unless
  the marker ``<TA cache>/post_install_check_3`` exists it calls ``nltk.download``
  for six resources and ``stanza.download("en")`` (network), then writes the marker;
* when ``TA_CACHE_DIR`` is set it calls ``set_cache_dir`` which overwrites
  ``HF_HOME``, ``XDG_CACHE_HOME``, ``TFHUB_CACHE_DIR`` and
  ``PYTORCH_TRANSFORMERS_CACHE``; it also sets ``TOKENIZERS_PARALLELISM``;
* ``StopwordModification`` (used by most recipes) needs NLTK's English stopwords.

:func:`import_textattack` neutralises all of these: it provides stopwords from
scikit-learn in a harness-owned NLTK data folder when NLTK has none, pre-creates the
post-install marker, makes ``nltk.download`` (and ``stanza.download``) raise during
the import, sets ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` only for the import,
and restores every environment variable textattack touched (only the NLTK data
path addition is kept).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

__all__ = ["import_textattack", "harness_nltk_data_dir", "ensure_stopwords", "TextAttackDownloadBlocked"]

_POST_INSTALL_MARKER = "post_install_check_3"  # textattack 0.3.x, shared/utils/install.py
_lock = threading.RLock()


class TextAttackDownloadBlocked(RuntimeError):
    """Raised instead of a download that textattack tried to start."""


def harness_nltk_data_dir() -> Path:
    """``$HARNESS_NLTK_DATA``, else ``$XDG_CACHE_HOME/audit-harness/nltk_data`` (default ``~/.cache``)."""
    override = os.environ.get("HARNESS_NLTK_DATA")
    if override:
        return Path(override).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "audit-harness" / "nltk_data"


def _nltk_has(resource: str) -> bool:
    import nltk

    try:
        nltk.data.find(resource)
        return True
    except LookupError:
        return False


def ensure_stopwords() -> Path | None:
    """Make NLTK find English stopwords; return the harness folder if one had to be used.

    The user's own NLTK data is never touched: when NLTK already finds
    ``corpora/stopwords`` nothing happens.
    """
    import nltk

    if _nltk_has("corpora/stopwords/english"):
        return None
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    root = harness_nltk_data_dir()
    target = root / "corpora" / "stopwords" / "english"
    content = "".join(f"{word}\n" for word in sorted(ENGLISH_STOP_WORDS))
    if not target.is_file() or target.read_text(encoding="utf-8") != content:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".english.{os.getpid()}.tmp")
        temporary.write_text(content, encoding="utf-8")
        os.replace(temporary, target)  # atomic: concurrent runs never see half a file
    root_str = str(root)
    if root_str not in nltk.data.path:
        nltk.data.path.insert(0, root_str)
    current = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    if root_str not in current:
        os.environ["NLTK_DATA"] = os.pathsep.join([root_str, *current])
    if not _nltk_has("corpora/stopwords/english"):  # pragma: no cover - defensive
        raise RuntimeError(f"NLTK still cannot find corpora/stopwords after writing {target}")
    return root


def _textattack_cache_dir() -> Path:
    """Where textattack looks for its marker (same rule as ``install.py``)."""
    return Path(os.environ.get("TA_CACHE_DIR", os.path.expanduser("~/.cache/textattack")))


def _blocked(kind: str):
    def download(resource: object = None, *args: object, **kwargs: object) -> None:
        raise TextAttackDownloadBlocked(
            f"textattack tried to download {kind} resource {resource!r} while being imported offline; "
            f"install it beforehand (e.g. python -m nltk.downloader {resource}) if a recipe needs it"
        )

    return download


def import_textattack() -> ModuleType:
    """Import and return ``textattack`` with no network access and no lasting env changes."""
    module = sys.modules.get("textattack")
    if module is not None and hasattr(module, "Attacker"):
        return module
    with _lock:
        module = sys.modules.get("textattack")
        if module is not None and hasattr(module, "Attacker"):
            return module
        import nltk

        # Import the HF stack first, so its constants (HF_HOME, offline flags) come from the user's env.
        import huggingface_hub  # noqa: F401
        import transformers  # noqa: F401

        ensure_stopwords()
        marker = _textattack_cache_dir() / _POST_INSTALL_MARKER
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()

        saved_env = dict(os.environ)
        saved_nltk_download = nltk.download
        stanza = sys.modules.get("stanza")
        saved_stanza_download = getattr(stanza, "download", None) if stanza else None
        nltk.download = _blocked("NLTK")  # type: ignore[assignment]
        if stanza is not None and saved_stanza_download is not None:
            stanza.download = _blocked("stanza")
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            module = importlib.import_module("textattack")
        finally:
            nltk.download = saved_nltk_download  # type: ignore[assignment]
            if stanza is not None and saved_stanza_download is not None:
                stanza.download = saved_stanza_download
            _restore_env(saved_env)
        return module


def _restore_env(saved: dict[str, str]) -> None:
    for key in list(os.environ):
        if key not in saved:
            del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value
