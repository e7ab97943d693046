"""Chinese identity-term swap lists for counterfactual text fairness, shipped as data.

The Chinese counterpart of :mod:`harness_fairness.terms`, structured the same
way: :data:`DEFAULT_SWAPS_ZH` maps an attribute (``"sex"``, ``"age_band"``,
``"ethnicity"``, ``"hukou"``) to ``(a, b)`` word pairs, read by
:func:`harness_fairness.terms.swap_table` (every ``a -> b``; the reverse
``b -> a`` only when ``b`` is not already a source word, so the first pair
that names a word decides where it goes):

* sex, ``(female, male)``: 她 <-> 他, 女 <-> 男, 女性 <-> 男性, 妻子 <-> 丈夫... The
  one-to-many words settle as: 女士 -> 先生, 先生 -> 女士, 男士 -> 女士, 太太 ->
  先生; 女子 -> 男子, 男子 -> 女子, 妇女 -> 男子; 阿姨 -> 叔叔, 叔叔 -> 阿姨,
  婶婶 / 姑姑 -> 叔叔; 姨妈 -> 舅舅, 舅舅 -> 姨妈, 舅妈 -> 舅舅.
* age_band, ``(old, young)``: 老年 <-> 青年, 年老 <-> 年轻, 老年人 -> 年轻人,
  年轻人 -> 老年人, 青年人 -> 老年人, 老人 -> 年轻人, 年迈 -> 年轻. 中年 is left
  alone, as numeric ages 40-64 are (:data:`~harness_fairness.terms.AGE_SWAP`):
  a note saying ``50岁中年`` keeps both.
* ethnicity, ``(minority, 汉族)``: every listed minority becomes 汉族, and 汉族
  becomes 壮族, the largest minority (2020 census), as English "White" becomes
  "Black": one variant per text.
* hukou (household registration) and urban/rural, ``(rural, urban)``: 农村户口
  <-> 城镇户口, 农村 -> 城镇, 城镇 / 城市 -> 农村, 农村人 <-> 城里人, 农村居民 <->
  城镇居民, 外地户口 <-> 本地户口... Compounds the segmenter keeps whole and no
  pair lists (农村妇女, 中老年, 老年性痴呆) are not swapped.

Besides word pairs there are two rules, as in English:

* numeric ages (attribute ``"age_band"``): a number of years followed by the
  word 岁 or 周岁 (``72岁``, ``72 周岁``) changes as the English rule does
  (>= 65 -> 30, < 40 -> 75, 40-64 unchanged). Ages in Chinese numerals
  (七十二岁) are not rewritten.
* given names (attribute ``"sex"``, :data:`SEX_NAME_SWAPS_ZH`): a full name,
  a surname of :data:`SURNAMES_ZH` directly followed by a given name of
  :data:`GIVEN_NAMES_ZH` (王芳, 李秀英), becomes the same surname with the
  given name at the same index of the other sex (王伟, 李明). Given names
  are only swapped after a listed surname (a lone 明 or 强 is an ordinary
  word), never inside the e-mail addresses' pinyin, and full names that are
  also ordinary words (:data:`NAME_EXCLUSIONS`: 高明 "brilliant", 高超,
  高强, 高丽) are left alone. There are no ethnicity name swaps in Chinese.

Matching is on words from a Chinese word segmenter (jieba, see
:mod:`harness_fairness.counterfactual_zh`): every listed term and full name
is added to a private segmenter's dictionary, so it comes out as one word,
and a term is swapped only when a whole word equals it. 其他 ("other") is one
word and never becomes 其她; the words of :data:`PROTECTED_WORDS_ZH` (他院
"another hospital", 他汀 statins, 他克莫司, 他唑巴坦...) are added too, so their
他 is never a word of its own. The given names and surnames are those the
built-in Chinese dataset (``builtin:clinical-triage-zh``) writes;
``tests/test_fairness_counterfactual_zh.py`` checks the two copies agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "AGE_UNITS_ZH",
    "DEFAULT_SWAPS_ZH",
    "GIVEN_NAMES_ZH",
    "NAME_EXCLUSIONS",
    "PROTECTED_WORDS_ZH",
    "SEX_NAME_SWAPS_ZH",
    "SURNAMES_ZH",
    "dictionary_words",
]

DEFAULT_SWAPS_ZH: dict[str, list[tuple[str, str]]] = {
    "sex": [
        ("她", "他"),
        ("她们", "他们"),
        ("她俩", "他俩"),
        ("女", "男"),
        ("女性", "男性"),
        ("女士", "先生"),
        ("女士", "男士"),
        ("太太", "先生"),
        ("女子", "男子"),
        ("妇女", "男子"),
        ("女人", "男人"),
        ("女孩", "男孩"),
        ("女生", "男生"),
        ("女童", "男童"),
        ("女婴", "男婴"),
        ("女患者", "男患者"),
        ("女病人", "男病人"),
        ("女护士", "男护士"),
        ("女医生", "男医生"),
        ("女方", "男方"),
        ("妻子", "丈夫"),
        ("老婆", "老公"),
        ("女友", "男友"),
        ("女朋友", "男朋友"),
        ("母亲", "父亲"),
        ("妈妈", "爸爸"),
        ("女儿", "儿子"),
        ("长女", "长子"),
        ("次女", "次子"),
        ("养女", "养子"),
        ("独生女", "独生子"),
        ("孙女", "孙子"),
        ("外孙女", "外孙"),
        ("侄女", "侄子"),
        ("外甥女", "外甥"),
        ("儿媳", "女婿"),
        ("母女", "父子"),
        ("姐妹", "兄弟"),
        ("姐姐", "哥哥"),
        ("妹妹", "弟弟"),
        ("奶奶", "爷爷"),
        ("祖母", "祖父"),
        ("外婆", "外公"),
        ("外祖母", "外祖父"),
        ("姥姥", "姥爷"),
        ("婆婆", "公公"),
        ("岳母", "岳父"),
        ("阿姨", "叔叔"),
        ("婶婶", "叔叔"),
        ("姑姑", "叔叔"),
        ("姨妈", "舅舅"),
        ("舅妈", "舅舅"),
    ],
    "age_band": [
        ("老年", "青年"),
        ("年老", "年轻"),
        ("老年人", "年轻人"),
        ("老年人", "青年人"),
        ("老人", "年轻人"),
        ("年迈", "年轻"),
    ],
    "ethnicity": [
        # 汉族 -> 壮族 (the reverse of the first pair); every minority -> 汉族.
        ("壮族", "汉族"),
        ("维吾尔族", "汉族"),
        ("回族", "汉族"),
        ("苗族", "汉族"),
        ("满族", "汉族"),
        ("彝族", "汉族"),
        ("土家族", "汉族"),
        ("藏族", "汉族"),
        ("蒙古族", "汉族"),
        ("布依族", "汉族"),
        ("侗族", "汉族"),
        ("瑶族", "汉族"),
        ("白族", "汉族"),
        ("哈尼族", "汉族"),
        ("朝鲜族", "汉族"),
        ("黎族", "汉族"),
        ("哈萨克族", "汉族"),
        ("傣族", "汉族"),
        ("少数民族", "汉族"),
    ],
    "hukou": [
        ("农村户口", "城镇户口"),
        ("农村户口", "城市户口"),
        ("农业户口", "非农业户口"),
        ("农村户籍", "城镇户籍"),
        ("外地户口", "本地户口"),
        ("外地户籍", "本地户籍"),
        ("农村", "城镇"),
        ("农村", "城市"),
        ("乡村", "城市"),
        ("农村人", "城里人"),
        ("农村居民", "城镇居民"),
        ("农村居民", "城市居民"),
        ("农村人口", "城镇人口"),
        ("乡下", "城里"),
        ("外地人", "本地人"),
    ],
}

#: The word after a number of years that makes it an age (``72岁``, ``72周岁``).
AGE_UNITS_ZH: frozenset[str] = frozenset({"岁", "周岁"})

#: Common surnames, in the built-in Chinese dataset's order.
SURNAMES_ZH: tuple[str, ...] = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
    "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高",
)
#: Given names by sex, in swap order: the name at index i is swapped with the other sex's name at index i.
GIVEN_NAMES_ZH: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "female": ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "婷", "秀英", "桂英", "丽娟", "雪梅", "晓燕", "慧敏", "佳怡"),
        "male": ("伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "超", "明", "建国", "志强", "浩然", "俊杰", "海涛", "子轩"),
    }
)
#: Surname + given name combinations that are ordinary words: never read as names.
NAME_EXCLUSIONS: frozenset[str] = frozenset({"高明", "高超", "高强", "高丽"})

#: Words that contain a swapped term but are no identity term: added to the segmenter's
#: dictionary so that their 他 (or 女, 男) never stands as a word of its own.
PROTECTED_WORDS_ZH: tuple[str, ...] = (
    "其他", "他人", "他院", "他科", "他处", "他乡", "他日", "他用", "吉他", "利他", "利他林",
    "他汀", "他汀类", "他唑巴坦", "他克莫司", "他莫昔芬", "他达拉非", "他巴唑", "他喷他多", "他扎罗汀",
    "他氟前列素", "他卡西醇", "女贞子", "女贞", "男科", "妇女节", "子女", "男女", "儿女", "父母",
)


def _sex_name_swaps() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for sex, names in GIVEN_NAMES_ZH.items():
        other = GIVEN_NAMES_ZH["male" if sex == "female" else "female"]
        for surname in SURNAMES_ZH:
            for i, name in enumerate(names):
                full = surname + name
                if full not in NAME_EXCLUSIONS:
                    pairs.append((full, surname + other[i % len(other)]))
    return pairs


#: One-way full-name substitutions for the sex attribute: surname + a female given name
#: <-> the same surname + the male given name at the same index (王芳 <-> 王伟).
SEX_NAME_SWAPS_ZH: list[tuple[str, str]] = _sex_name_swaps()


def dictionary_words(swaps: Mapping[str, list[tuple[str, str]]] | None = None) -> tuple[str, ...]:
    """Every word the segmenter must know: the terms of ``swaps`` (default :data:`DEFAULT_SWAPS_ZH`),
    the full names and :data:`PROTECTED_WORDS_ZH`, in a fixed order without repeats."""
    words: dict[str, None] = {}
    for pairs in (DEFAULT_SWAPS_ZH if swaps is None else swaps).values():
        for pair in pairs:
            words.update(dict.fromkeys(w.strip() for w in pair))
    words.update(dict.fromkeys(name for pair in SEX_NAME_SWAPS_ZH for name in pair))
    words.update(dict.fromkeys(PROTECTED_WORDS_ZH))
    return tuple(w for w in words if w)
