"""import_textattack() works with no NLTK data and no network, and leaves the user's env alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGINS = str(Path(__file__).resolve().parents[1] / "plugins")

SCRIPT = r"""
import json, os, socket, sys, time
attempts = []
def _refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network disabled in test")
socket.create_connection = _refuse
socket.socket.connect = lambda self, *a, **k: _refuse(*a)
socket.socket.connect_ex = lambda self, *a, **k: _refuse(*a)
socket.getaddrinfo = _refuse

from harness_robustness.offline import import_textattack, harness_nltk_data_dir
start = time.perf_counter()
ta = import_textattack()
first = time.perf_counter() - start
start = time.perf_counter()
again = import_textattack()
second = time.perf_counter() - start
from textattack.constraints.pre_transformation import StopwordModification
print("RESULT " + json.dumps({
    "attempts": attempts, "first": first, "second": second, "same": again is ta,
    "has_attacker": hasattr(ta, "Attacker"),
    "HF_HOME": os.environ.get("HF_HOME"), "TA_CACHE_DIR": os.environ.get("TA_CACHE_DIR"),
    "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME"),
    "TOKENIZERS_PARALLELISM": os.environ.get("TOKENIZERS_PARALLELISM"),
    "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE"), "TRANSFORMERS_OFFLINE": os.environ.get("TRANSFORMERS_OFFLINE"),
    "NLTK_DATA": os.environ.get("NLTK_DATA"), "folder": str(harness_nltk_data_dir()),
    "stopwords": sorted(StopwordModification().stopwords),
}))
"""


def _run(tmp_path: Path, **extra: str) -> dict:
    empty = tmp_path / "empty_nltk"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NLTK", "HF_", "TA_", "TRANSFORMERS", "XDG_", "HARNESS_"))}
    env.update(
        HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"), NLTK_DATA=str(empty),
        HF_HOME=str(tmp_path / "user_hf_home"), HF_HUB_OFFLINE="1", PYTHONPATH=PLUGINS, **extra,
    )
    env.pop("TOKENIZERS_PARALLELISM", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(row for row in done.stdout.splitlines() if row.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_import_offline_without_nltk_data(tmp_path):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    result = _run(tmp_path)
    print(f"\nimport_textattack: first {result['first']:.2f}s, second {result['second'] * 1e6:.1f}us")
    assert result["attempts"] == []
    assert result["has_attacker"] and result["same"]
    assert result["second"] < 0.01
    assert result["HF_HOME"] == str(tmp_path / "user_hf_home")
    assert result["XDG_CACHE_HOME"] == str(tmp_path / "cache")
    assert result["HF_HUB_OFFLINE"] == "1" and result["TRANSFORMERS_OFFLINE"] is None
    assert result["TOKENIZERS_PARALLELISM"] is None and result["TA_CACHE_DIR"] is None
    folder = tmp_path / "cache" / "audit-harness" / "nltk_data"
    assert result["folder"] == str(folder)
    words_file = folder / "corpora" / "stopwords" / "english"
    assert words_file.read_text(encoding="utf-8").splitlines() == sorted(ENGLISH_STOP_WORDS)
    assert result["stopwords"] == sorted(ENGLISH_STOP_WORDS)
    assert result["NLTK_DATA"].split(os.pathsep) == [str(folder), str(tmp_path / "empty_nltk")]
    # The user's (empty) NLTK folder is untouched.
    assert list((tmp_path / "empty_nltk").iterdir()) == []


def test_ta_cache_dir_does_not_clobber_env(tmp_path):
    ta_cache = tmp_path / "ta_cache"
    override = tmp_path / "own_nltk"
    result = _run(tmp_path, TA_CACHE_DIR=str(ta_cache), HARNESS_NLTK_DATA=str(override))
    assert result["attempts"] == []
    assert result["HF_HOME"] == str(tmp_path / "user_hf_home")
    assert result["XDG_CACHE_HOME"] == str(tmp_path / "cache")
    assert result["TA_CACHE_DIR"] == str(ta_cache)
    assert (ta_cache / "post_install_check_3").exists()
    assert (override / "corpora" / "stopwords" / "english").is_file()
