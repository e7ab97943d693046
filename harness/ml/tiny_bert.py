"""The built-in tiny BERT (``builtin:tiny-bert``): a small BERT built from scratch for the demo and the tests.

Its WordPiece vocabulary comes from the training texts with personal data
redacted, or, for DP fine-tuning, from public English text only (a vocabulary
built from the private texts would leak them outside the DP guarantee).
Loading models from the hub or a folder is ``models.py``'s job.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from harness.text.i18n import N_

if TYPE_CHECKING:
    from collections import Counter

BUILTIN_TINY_BERT = "builtin:tiny-bert"


#: ``provenance.model.vocabulary.source`` of the built-in model, one per way its vocabulary is built.
VOCABULARY_FROM_TRAINING = N_("training texts, personal data redacted")  # msgids: the report shows them translated
VOCABULARY_PUBLIC = N_(
    "public text: scikit-learn's English stop words and the lower-case word forms of lemminflect's "
    "English lexicon (from the NLM SPECIALIST Lexicon), shortest first; no training text"
)
_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# The public alphabet of the DP vocabulary: what BertNormalizer(lowercase=True) leaves of ASCII.
_PUBLIC_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _vocabulary_words(texts: Sequence[str]) -> "Counter[str]":
    from collections import Counter

    from tokenizers import normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    return counts


def tiny_wordpiece_vocabulary(train_texts: Sequence[str], special: Sequence[str], max_words: int = 4000) -> list[str]:
    """A WordPiece vocabulary learnt from the training texts, deterministically.

    Words come from the ``tokenizers`` library's BERT normaliser and
    pre-tokeniser; the vocabulary is every character (as a word start and as a
    ``##`` continuation, so any word in the training alphabet stays
    tokenisable) plus the most frequent words, ties broken alphabetically.
    tokenizers' own WordPieceTrainer breaks frequency ties in hash order, which
    gave two identical runs different vocabularies (and so different models).
    Words that are personal data on their own (:func:`harness.text.pii.token_pii_kind`:
    identifier-shaped numbers, e-mail, phone...) are never kept; callers redact
    the texts first (:func:`redacted_vocabulary_texts`), this is the second net.
    """
    from harness.text.pii import token_pii_kind

    counts = _vocabulary_words(train_texts)
    characters = sorted({c for word in counts for c in word})
    words = [
        w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        if len(w) > 1 and token_pii_kind(w) is None
    ][:max_words]
    return [*special, *characters, *(f"##{c}" for c in characters), *words]


def redacted_vocabulary_texts(train_texts: Sequence[str]) -> tuple[list[str], int]:
    """The training texts with personal data replaced by typed placeholders, and how many values were replaced.

    The same detectors as ``RunContext.redact`` (:func:`harness.text.pii.find_pii`, every
    kind, bundled names and lead words), so ``[MRN]``, ``[EMAIL]``... reach the
    vocabulary as the ordinary words "mrn", "email", never the values.
    """
    from harness.text.pii import find_pii, mask_matches

    redacted, values = [], 0
    for text in train_texts:
        matches = find_pii(text)
        values += len(matches)
        redacted.append(mask_matches(text, matches))
    return redacted, values


def public_wordpiece_vocabulary(special: Sequence[str], max_words: int = 8000) -> list[str]:
    """A WordPiece vocabulary from public text only, for DP runs: no training text is read.

    The words are scikit-learn's English stop words (function words the
    lexicon lacks), then the lower-case alphabetic word forms (lemmas and
    inflections) of lemminflect's English lexicon, which comes from the US
    National Library of Medicine's SPECIALIST Lexicon (general and biomedical
    English), shortest first and then alphabetically (no frequency list ships
    with a dependency; short words are the common ones), up to ``max_words``.
    The characters are the printable ASCII a lower-casing BERT normaliser
    leaves, as word starts and ``##`` continuations, so every ASCII word stays
    tokenisable; other scripts become ``[UNK]``. Both packages are hard
    dependencies (scikit-learn directly, lemminflect through TextAttack), so a
    DP run gets the same vocabulary everywhere.
    """
    return [*special, *_public_vocabulary(max_words)]


@functools.lru_cache(maxsize=4)
def _public_vocabulary(max_words: int) -> tuple[str, ...]:
    """Characters and words of :func:`public_wordpiece_vocabulary`, read once per process."""
    import gzip

    import lemminflect
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    resources = Path(lemminflect.__file__).parent / "resources"
    lexicon: set[str] = set()
    for name in ("lemma_lu.csv.gz", "infl_lu.csv.gz"):
        with gzip.open(resources / name, "rt", encoding="utf-8") as rows:
            for row in rows:
                lemma, _, *forms = row.rstrip("\n").split(",")
                for word in (lemma, *(f for group in forms for f in group.split("/"))):
                    if len(word) > 1 and word.isascii() and word.isalpha() and word.islower():
                        lexicon.add(word)
    stop = sorted(w for w in ENGLISH_STOP_WORDS if len(w) > 1)
    words = stop + sorted(lexicon - set(stop), key=lambda w: (len(w), w))
    characters = list(_PUBLIC_CHARACTERS)
    return (*characters, *(f"##{c}" for c in characters), *words[:max_words])


def builtin_vocabulary(train_texts: Sequence[str], *, dp: bool) -> tuple[list[str], dict[str, Any]]:
    """The built-in model's vocabulary and its provenance record (``provenance.model.vocabulary``).

    A DP run's guarantee covers the weights, not a vocabulary read off the
    training texts outside the accountant, so a DP run builds it from public
    text; any other run learns it from the training texts with personal data
    redacted.
    """
    special = list(_SPECIAL_TOKENS)
    if dp:
        vocabulary = public_wordpiece_vocabulary(special)
        return vocabulary, {"source": VOCABULARY_PUBLIC, "size": len(vocabulary), "training_texts_read": 0}
    redacted, values = redacted_vocabulary_texts(train_texts)
    vocabulary = tiny_wordpiece_vocabulary(redacted, special)
    return vocabulary, {
        "source": VOCABULARY_FROM_TRAINING,
        "size": len(vocabulary),
        "training_texts_read": len(train_texts),
        "values_redacted": values,
        "detectors": "harness.text.pii (every kind; bundled names and lead words), then harness.text.pii.token_pii_kind on each word",
    }


def build_tiny_bert(
    train_texts: Sequence[str], label_names: Sequence[str], *, seed: int, max_length: int = 128, dp: bool = False
) -> tuple[Any, Any]:
    """A 2-layer BERT with a WordPiece tokenizer (vocabulary: :func:`builtin_vocabulary`).

    Lets the whole pipeline (training, every suite, the report) run with no
    downloaded weights; it starts from random weights and must be fine-tuned.
    The same texts and seed always give the same tokenizer and initial weights.
    The vocabulary's provenance is in ``model.config.harness_vocabulary`` (so
    it travels in config.json with a saved model).
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    vocabulary, vocabulary_record = builtin_vocabulary(train_texts, dp=dp)
    backend = Tokenizer(models.WordPiece(vocab={token: i for i, token in enumerate(vocabulary)}, unk_token="[UNK]", max_input_chars_per_word=100))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", backend.token_to_id("[CLS]")), ("[SEP]", backend.token_to_id("[SEP]"))],
    )
    backend.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
        model_max_length=max_length,
    )
    config = BertConfig(
        vocab_size=backend.get_vocab_size(),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=max_length,
        num_labels=len(label_names),
        id2label=dict(enumerate(label_names)),
        label2id={name: i for i, name in enumerate(label_names)},
        harness_vocabulary=vocabulary_record,
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(config), tokenizer
