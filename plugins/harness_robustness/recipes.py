"""Attack recipes for the robustness checks: offline ones built here, others by name.

Offline recipes (no downloaded resource): ``deepwordbug`` (DeepWordBugGao2018),
``pruthi`` (Pruthi2019: character swaps/typos, needs nothing but NLTK stopwords,
which :func:`import_textattack` provides), ``input-reduction`` and three
character-level attacks composed from TextAttack's own components:
``char-swap``, ``qwerty`` and ``char-insert-delete``.

One offline recipe is for Chinese text: ``chinese`` (homophone and
similar-glyph character swaps inside jieba words, ``chinese.py``).

Every recipe declares the languages its edits are valid for (``languages``:
the English character and word recipes ``("en",)``, ``chinese`` ``("zh",)``).
``recipe: auto`` (the checks' default) picks one by the texts' measured
language (:func:`choose_recipe`): Chinese texts get ``chinese``, anything else
:data:`DEFAULT_RECIPE` (``deepwordbug``, the recipe of English runs before
``auto`` existed, so their results are unchanged).

Every other TextAttack recipe is accepted by name. Before building it, the
resources it needs are probed (TextAttack cache folder, NLTK data, Hugging Face
cache, TensorFlow Hub); if one is missing :class:`ResourceMissing` is raised at
once, naming it. The build itself then runs with every download path blocked
(TextAttack's S3 ``http_get``, ``nltk.download``, ``HF_HUB_OFFLINE``), so an
unprobed resource also fails fast instead of waiting on the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from harness_robustness.chinese import RECIPE_DESCRIPTION as CHINESE_DESCRIPTION
from harness_robustness.chinese import RECIPE_NAME as CHINESE
from harness_robustness.chinese import build_chinese_attack
from harness_robustness.offline import import_textattack

__all__ = [
    "RECIPES", "ResourceMissing", "build_attack", "describe", "known_recipes", "OFFLINE_RECIPES", "AUTO", "DEFAULT_RECIPE",
    "AUTO_RECIPES", "RecipeChoice", "choose_recipe", "recipe_languages", "unsegmented", "describe_languages",
]


class ResourceMissing(ValueError):
    """A recipe needs a resource (embeddings, model, corpus) that is not available offline."""


# ---------------------------------------------------------------- resources


@dataclass(frozen=True)
class Resource:
    description: str
    probe: Callable[[], bool]


def _ta_cache(relative: str) -> Callable[[], bool]:
    def probe() -> bool:
        root = Path(os.environ.get("TA_CACHE_DIR", os.path.expanduser("~/.cache/textattack")))
        return (root / relative).exists()

    return probe


def _nltk(resource: str) -> Callable[[], bool]:
    def probe() -> bool:
        import nltk

        for candidate in (resource, resource + ".zip"):
            try:
                nltk.data.find(candidate)
                return True
            except LookupError:
                continue
        return False

    return probe


def _hf(model_id: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(model_id, "config.json")
        except Exception:  # pragma: no cover - defensive
            return False
        return isinstance(found, str)

    return probe


def _tfhub(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        if importlib.util.find_spec("tensorflow_hub") is None or importlib.util.find_spec("tensorflow") is None:
            return False
        import tempfile

        cache = os.environ.get("TFHUB_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "tfhub_modules")
        return (Path(cache) / hashlib.sha1(url.encode("utf-8")).hexdigest()).exists()

    return probe


def _module(name: str) -> Callable[[], bool]:
    return lambda: importlib.util.find_spec(name) is not None


EMBEDDINGS = Resource("TextAttack's counter-fitted word embeddings (word_embeddings/paragramcf)", _ta_cache("word_embeddings/paragramcf"))
USE = Resource(
    "the Universal Sentence Encoder (TensorFlow Hub; needs tensorflow and tensorflow_hub)",
    _tfhub("https://tfhub.dev/google/universal-sentence-encoder/4"),
)
NLTK_TAGGER = Resource("NLTK's averaged perceptron POS tagger", _nltk("taggers/averaged_perceptron_tagger"))
WORDNET = Resource("NLTK's WordNet corpus", _nltk("corpora/wordnet"))
OMW = Resource("NLTK's Open Multilingual WordNet (omw-1.4)", _nltk("corpora/omw-1.4"))
HOWNET = Resource("TextAttack's HowNet synonym bank", _ta_cache("transformations/hownet/word_candidates_sense.pkl"))
GOOG_LM = Resource("TextAttack's Google 1-billion-words language model", _ta_cache("constraints/semantics/language-models/alzantot-goog-lm"))
L2W_LM = Resource("TextAttack's learning-to-write language model", _ta_cache("constraints/grammaticality/language-models/learning-to-write"))
FLAIR = Resource("flair and its NER model", _module("flair"))
LEMMINFLECT = Resource("the lemminflect package", _module("lemminflect"))


def _hf_resource(model_id: str, what: str) -> Resource:
    return Resource(f"the {what} '{model_id}' (Hugging Face cache)", _hf(model_id))


# ---------------------------------------------------------------- offline recipes built here


def _char_recipe(transformation_factory: Callable[[Any], Any], max_percent: float) -> Callable[[Any], Any]:
    def build(wrapper: Any) -> Any:
        textattack = import_textattack()
        from textattack.constraints.overlap import MaxWordsPerturbed
        from textattack.constraints.pre_transformation import RepeatModification, StopwordModification
        from textattack.goal_functions import UntargetedClassification
        from textattack.search_methods import GreedyWordSwapWIR

        transformation = transformation_factory(textattack.transformations)
        constraints = [RepeatModification(), StopwordModification(), MaxWordsPerturbed(max_percent=max_percent)]
        goal = UntargetedClassification(wrapper)
        return textattack.Attack(goal, constraints, transformation, GreedyWordSwapWIR(wir_method="delete"))

    return build


def _stock(class_name: str) -> Callable[[Any], Any]:
    def build(wrapper: Any) -> Any:
        import_textattack()
        recipes = importlib.import_module("textattack.attack_recipes")
        return getattr(recipes, class_name).build(wrapper)

    return build


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    build: Callable[[Any], Any]
    resources: tuple[Resource, ...] = ()
    unsupported: str | None = None  # why it cannot run through the harness at all
    #: The languages (ISO 639-1) whose texts the recipe's edits are valid for.
    languages: tuple[str, ...] = ("en",)

    @property
    def offline(self) -> bool:
        return not self.resources and self.unsupported is None


_GRADIENT = "needs model gradients, which the shared-Predictor wrapper does not provide"

_RECIPE_LIST = [
    Recipe("deepwordbug", "DeepWordBug (Gao et al. 2018): character edits on the most important words, Levenshtein <= 30",
           _stock("DeepWordBugGao2018")),
    Recipe("pruthi", "Pruthi et al. 2019: one typo (swap, insert, delete, QWERTY) on a word of length >= 4",
           _stock("Pruthi2019")),
    Recipe("char-swap", "Neighbouring-character swaps, greedy word importance by deletion, <= 20% of words",
           _char_recipe(lambda t: t.WordSwapNeighboringCharacterSwap(), 0.2)),
    Recipe("qwerty", "QWERTY-neighbour typos, greedy word importance by deletion, <= 20% of words",
           _char_recipe(lambda t: t.WordSwapQWERTY(), 0.2)),
    Recipe("char-insert-delete", "Random character insertion or deletion, greedy word importance by deletion, <= 20% of words",
           _char_recipe(lambda t: t.CompositeTransformation(
               [t.WordSwapRandomCharacterInsertion(), t.WordSwapRandomCharacterDeletion()]), 0.2)),
    Recipe(CHINESE, CHINESE_DESCRIPTION, build_chinese_attack, languages=("zh",)),
    Recipe("input-reduction", "Input reduction (Feng et al. 2018): delete words while the prediction holds",
           _stock("InputReductionFeng2018")),
    Recipe("textfooler", "TextFooler (Jin et al. 2019): counter-fitted synonym swaps", _stock("TextFoolerJin2019"),
           (EMBEDDINGS, USE, NLTK_TAGGER)),
    Recipe("pwws", "PWWS (Ren et al. 2019): WordNet synonym swaps", _stock("PWWSRen2019"), (WORDNET, OMW)),
    Recipe("bae", "BAE (Garg & Ramakrishnan 2019): BERT masked-LM replacements", _stock("BAEGarg2019"),
           (_hf_resource("bert-base-uncased", "masked language model"), USE)),
    Recipe("bert-attack", "BERT-Attack (Li et al. 2020): BERT masked-LM replacements", _stock("BERTAttackLi2020"),
           (_hf_resource("bert-base-uncased", "masked language model"), USE)),
    Recipe("pso", "PSO (Zang et al. 2020): HowNet sememe swaps with particle swarm search", _stock("PSOZang2020"),
           (HOWNET,)),
    Recipe("alzantot", "Genetic algorithm (Alzantot et al. 2018)", _stock("GeneticAlgorithmAlzantot2018"),
           (EMBEDDINGS, GOOG_LM)),
    Recipe("faster-alzantot", "Faster genetic algorithm (Jia et al. 2019)", _stock("FasterGeneticAlgorithmJia2019"),
           (EMBEDDINGS, L2W_LM)),
    Recipe("iga", "Improved genetic algorithm (Wang et al. 2019)", _stock("IGAWang2019"), (EMBEDDINGS,)),
    Recipe("kuleshov", "Kuleshov et al. 2017", _stock("Kuleshov2017"), (EMBEDDINGS, _hf_resource("gpt2", "language model"))),
    Recipe("textbugger", "TextBugger (Li et al. 2018)", _stock("TextBuggerLi2018"), (EMBEDDINGS, USE)),
    Recipe("clare", "CLARE (Li et al. 2020)", _stock("CLARE2020"), (_hf_resource("distilroberta-base", "masked language model"), USE)),
    Recipe("checklist", "CheckList (Ribeiro et al. 2020) invariance perturbations", _stock("CheckList2020"), (FLAIR,)),
    Recipe("morpheus", "Morpheus (Tan et al. 2020): inflection swaps", _stock("MorpheusTan2020"), (LEMMINFLECT, NLTK_TAGGER)),
    Recipe("leap", "LEAP (2023): WordNet swaps with particle swarm search", _stock("LEAP2023"), (WORDNET, OMW)),
    Recipe("hotflip", "HotFlip (Ebrahimi et al. 2017)", _stock("HotFlipEbrahimi2017"), (EMBEDDINGS,), unsupported=_GRADIENT),
    Recipe("a2t", "A2T (Yoo & Qi 2021)", _stock("A2TYoo2021"), (EMBEDDINGS,), unsupported=_GRADIENT),
    Recipe("seq2sick", "Seq2Sick (Cheng et al. 2018)", _stock("Seq2SickCheng2018BlackBox"),
           unsupported="attacks sequence-to-sequence models, not classifiers"),
]

#: name -> {"description", "offline", "resources"} (a plain table for reports and docs).
RECIPES: dict[str, dict[str, Any]] = {
    r.name: {
        "description": r.description,
        "offline": r.offline,
        "resources": [res.description for res in r.resources],
        "languages": list(r.languages),
        **({"unsupported": r.unsupported} if r.unsupported else {}),
    }
    for r in _RECIPE_LIST
}
_BY_NAME = {r.name: r for r in _RECIPE_LIST}
OFFLINE_RECIPES = tuple(r.name for r in _RECIPE_LIST if r.offline)


def known_recipes() -> list[str]:
    return [r.name for r in _RECIPE_LIST]


# ---------------------------------------------------------------- choosing a recipe by language

#: The recipe option that picks a recipe by the texts' language (the checks' default).
AUTO = "auto"
#: What ``auto`` picks for English text (and for text whose language is neither known nor measured).
DEFAULT_RECIPE = "deepwordbug"
#: What ``auto`` picks per dominant language; any other language gets :data:`DEFAULT_RECIPE`.
AUTO_RECIPES: dict[str, str] = {"en": DEFAULT_RECIPE, "zh": CHINESE}
#: Languages written without spaces between words: attack edits are recorded by character there.
UNSEGMENTED = frozenset({"zh"})


def recipe_languages(name: str) -> tuple[str, ...] | None:
    """The languages recipe ``name`` is valid for; ``auto``: every language it can pick; ``None`` for an unknown name."""
    key = str(name).strip().lower()
    if key == AUTO:
        return tuple(sorted(AUTO_RECIPES))
    recipe = _BY_NAME.get(key)
    return recipe.languages if recipe is not None else None


def describe_languages(profile: Any, limit: int = 3) -> str:
    """``"zh 100%"``, ``"en 99%, da 1%"``: a measured language profile in a few words (as the runner's progress line)."""
    counts = dict(getattr(profile, "counts", None) or {})
    n = int(getattr(profile, "n", 0) or 0)
    if not n:
        return "no texts"
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return ", ".join(f"{code} {round(100 * count / n)}%" for code, count in ordered)


def unsegmented(profile: Any) -> bool:
    """The texts are mostly in a language written without spaces (Chinese): record edits by character."""
    return bool(profile is not None and getattr(profile, "n", 0) and getattr(profile, "dominant", None) in UNSEGMENTED)


@dataclass(frozen=True)
class RecipeChoice:
    """The recipe an attack runs, what the config asked for, and why that recipe."""

    recipe: str
    requested: str
    reason: str
    #: ``"character"`` (Chinese text: ``changed`` records are ``[offset, old, new]``) or ``"word"`` (``[word index, old, new]``).
    changed_unit: str = "word"

    @property
    def languages(self) -> tuple[str, ...]:
        return recipe_languages(self.recipe) or ()

    def to_dict(self) -> dict[str, Any]:
        return {"requested": self.requested, "recipe": self.recipe, "reason": self.reason}


def choose_recipe(requested: str, profile: Any, texts: str = "evaluation texts") -> RecipeChoice:
    """The recipe to run for option ``requested`` on texts measured as ``profile`` (a ``LanguageProfile`` or ``None``).

    ``auto`` picks by the dominant detected language (:data:`AUTO_RECIPES`):
    ``"auto: the evaluation texts are zh 100%"`` -> ``chinese``; English or
    anything else -> :data:`DEFAULT_RECIPE`. A named recipe is kept as named.
    ``texts`` names the texts in the reason (``"training texts"`` for adversarial
    training). Edits are recorded by character when the texts are Chinese,
    whichever recipe runs.
    """
    unit = "character" if unsegmented(profile) else "word"
    if str(requested).strip().lower() != AUTO:  # kept as spelled (build_attack accepts any case), as before auto existed
        return RecipeChoice(str(requested), str(requested), "named in the config", unit)
    if profile is None or not getattr(profile, "n", 0):
        return RecipeChoice(DEFAULT_RECIPE, AUTO, f"auto: the {texts}' languages were not measured", unit)
    recipe = AUTO_RECIPES.get(profile.dominant, DEFAULT_RECIPE)
    return RecipeChoice(recipe, AUTO, f"auto: the {texts} are {describe_languages(profile)}", unit)


def missing_resources(name: str) -> list[str]:
    """Descriptions of the resources recipe ``name`` needs and that are not available."""
    return [res.description for res in _recipe(name).resources if not res.probe()]


def _recipe(name: str) -> Recipe:
    key = str(name).strip().lower()
    if key not in _BY_NAME:
        raise ValueError(f"unknown attack recipe {name!r}; known recipes: {', '.join(known_recipes())}")
    return _BY_NAME[key]


@contextlib.contextmanager
def _downloads_blocked(recipe: str) -> Iterator[None]:
    """Make every download path textattack uses fail at once while a recipe is built."""
    import nltk

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ResourceMissing(f"{recipe} tried to download {args[0] if args else 'a resource'!r} (offline: downloads are blocked)")

    install = sys.modules.get("textattack.shared.utils.install")
    saved_http = getattr(install, "http_get", None)
    saved_nltk = nltk.download
    saved_env = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    if install is not None:
        install.http_get = refuse
    nltk.download = refuse  # type: ignore[assignment]
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        yield
    finally:
        if install is not None:
            install.http_get = saved_http
        nltk.download = saved_nltk  # type: ignore[assignment]
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def build_attack(name: str, wrapper: Any) -> Any:
    """Build recipe ``name`` against a TextAttack model wrapper; returns a ``textattack.Attack``.

    Raises ``ValueError`` for an unknown or unsupported recipe and
    :class:`ResourceMissing` (a ``ValueError``) when a needed resource is not
    available offline; neither waits on the network.
    """
    recipe = _recipe(name)
    if recipe.unsupported:
        raise ValueError(f"recipe {recipe.name!r} is not supported by the harness: it {recipe.unsupported}")
    missing = missing_resources(recipe.name)
    if missing:
        raise ResourceMissing(f"{recipe.name} needs {_join(missing)}, which {'is' if len(missing) == 1 else 'are'} not downloaded (offline)")
    import_textattack()
    try:
        with _downloads_blocked(recipe.name):
            return recipe.build(wrapper)
    except ResourceMissing:
        raise
    except (OSError, ImportError, LookupError) as error:  # HF offline miss, missing package, NLTK data
        needs = _join([res.description for res in recipe.resources]) or "a resource"
        raise ResourceMissing(f"{recipe.name} needs {needs}, which could not be loaded offline: {error}") from error


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _compact(obj: Any) -> str:
    return re.sub(r"\s+", " ", repr(obj)).replace("( ", "(").replace(" )", ")").strip()


def describe(attack: Any) -> dict[str, Any]:
    """The attack's components as strings: transformation, constraints, goal function, search method."""
    constraints = list(getattr(attack, "pre_transformation_constraints", [])) + list(getattr(attack, "constraints", []))
    return {
        "transformation": _compact(attack.transformation),
        "constraints": [_compact(c) for c in constraints],
        "goal_function": _compact(attack.goal_function),
        "search_method": _compact(attack.search_method),
    }
