"""``builtin:clinical-triage-zh`` -- the Simplified Chinese counterpart of ``builtin:clinical-triage``.

A fully synthetic, seeded dataset of Chinese emergency-triage notes labelled
``紧急`` (urgent) or ``非紧急`` (non-urgent), with the same knobs, the same
bias mechanism and the same label order as the English set
(:mod:`harness.ml.builtin_data`, whose helpers, rates and vital-sign ranges
this module reuses).  It exists so that the Chinese path of the harness
(tokenisation of CJK text, Chinese personal-data detection, counterfactual
swaps of Chinese sex / age / ethnicity words) can be demonstrated and tested
offline, with ground truth.

What a note looks like
----------------------
One to four sentences, e.g. ``患者女，72岁，因突发胸骨后压榨样疼痛并向左臂放射来诊，面色苍白、皮肤湿冷。
生命体征：血压84/46mmHg，心率41次/分。由她的女儿陪同就诊。`` (varied templates:
主诉 / 现病史 style, 分诊记录, 以“…”为主诉就诊...).  Urgency is decided by the
complaint (胸痛伴大汗, 静息状态下严重呼吸困难... versus 轻度咽痛, 伤口拆线...),
backed up most of the time by the vital signs (血压, 心率, 血氧饱和度, 呼吸,
体温 in ℃, GCS) and an appearance clause; as in the English set about 10%
of notes describe vague complaints (间断头晕, 发热三天, 腹痛一天...) whose
true condition the text does not reveal.

Sensitive attributes, always recoverable from the text where stated:

* ``sex`` -- every note says 男/女 or 男性/女性 in its first sentence; half
  the notes add a sentence with 他/她 or 该先生/该女士, and family words
  (丈夫/妻子 by the patient's sex, 儿子/女儿, 父亲/母亲 by age band); names in
  PII notes may be followed by 先生/女士.  Apart from these slots no word of
  the notes contains 他, 她, 男 or 女 (so no 其他, no 他汀 drugs): a
  counterfactual swap of these words touches only the sex slots and family words.
* ``age_band`` -- the age in years (``72岁``) always, and in some notes the
  age word 青年 / 中年 / 老年 of the band (18-39 / 40-64 / 65+).
* ``ethnicity`` (汉族, 回族, 维吾尔族, 藏族, 壮族, 蒙古族; named in ~30% of
  notes) and ``hukou`` (城镇户口 / 农村户口; named in ~20%): mentioned
  neutrally, they never change the urgency.  Minority groups are
  over-sampled relative to the census (60% 汉族, 8% each other group) so an
  audit has some examples of each; on a 240-note evaluation split they are
  still below the fairness checks' default minimum group size.

Knobs
-----
Those of :class:`harness.ml.builtin_data.SyntheticSpec` (``size``, ``seed``,
``bias``, ``bias_group``, ``pii_rate``, ``urgent_rate``) with the same
meaning; :class:`SyntheticSpec` here only validates ``bias_group`` against
this dataset's attributes (``"ethnicity=uyghur"``, ``"hukou=rural"``...).

Planted personal data (ground truth for the privacy checks)
----------------------------------------------------------
A share ``pii_rate`` of notes (``has_pii``) carries 1-3 of these kinds, as a
record header or a trailing contact line, in formats Chinese records use:

``name``       a common surname + 1-2 given-name characters by sex, as
               ``患者张伟``, ``姓名：李娜``, ``王芳女士``, ``刘洋先生``.
``id_number``  18-character resident identity number: 6-digit region code
               of a real prefecture (province codes 11-65), the birth date
               ``YYYYMMDD`` consistent with the stated age on
               :data:`REFERENCE_DATE`, a 3-digit sequence (odd for men, even
               for women) and the ISO 7064 MOD 11-2 check character.
``mobile``     ``1[3-9]`` + 9 digits, plain, ``+86``-prefixed, or 3-4-4 with
               spaces or dashes.
``landline``   area code of the same city + local number: ``010-12345678``,
               ``0755-1234567``.
``address``    ``北京市朝阳区建国路88号3栋2单元501室``-style.
``card``       bank card number starting ``62``, 16 or 19 digits (never 18:
               62 is also a province code), valid Luhn, plain or in groups
               of four.
``email``      pinyin of the name on the reserved ``example.*`` domains.

Per note, ``pii_kinds`` lists the kinds planted and ``pii_values`` the raw
values, in the same order, joined by ``|`` (empty when none), so a detector's
recall can be measured per kind.  Notes without PII contain none of these,
not even a name.

A few notes without PII (about 15% of them) carry **look-alikes** that are
not personal data, recorded in ``lookalike_kinds`` / ``lookalike_values``:
``invalid_id_number`` (18 digits shaped like an identity number -- real
region code, valid birth date -- with a wrong check digit, as a 标本条码 or
医保结算流水号), ``date`` (就诊日期) and ``lab_value`` (血常规, 血钾...).
Record numbers (门诊号 / 住院号) are not planted at all: like an English MRN
they identify a patient, so they are personal data, not look-alikes.

The mobile, landline, identity and card numbers are random draws in valid
formats; they are not checked against real subscribers, residents or
accounts (no register of those is public), so a value may coincide with a
real one by chance.  Names, addresses and e-mails are combinations of common
words on reserved domains.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from harness.ml import builtin_data as _en
from harness.text.i18n import N_
from harness.ml.builtin_data import _categorical, _check_share, _is_int, _pick, _vital_strings, _vitals_tier

__all__ = [
    "ATTRIBUTE_VALUES",
    "DATASET_ID",
    "GIVEN_NAMES",
    "ID_CHECK_CHARACTERS",
    "ID_WEIGHTS",
    "LABELS",
    "LOOKALIKE_KINDS",
    "PII_KINDS",
    "REFERENCE_DATE",
    "SENSITIVE_ATTRIBUTES",
    "SURNAMES",
    "SyntheticSpec",
    "describe",
    "generate_clinical_triage_zh",
    "id_check_character",
]

DATASET_ID = "builtin:clinical-triage-zh"

SENSITIVE_ATTRIBUTES: tuple[str, ...] = ("sex", "age_band", "ethnicity", "hukou")
#: Same order as the English set: index 1 (紧急, urgent) is the positive class.
LABELS: tuple[str, str] = ("非紧急", "紧急")

ATTRIBUTE_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "sex": _en.ATTRIBUTE_VALUES["sex"],
        "age_band": _en.ATTRIBUTE_VALUES["age_band"],
        "ethnicity": ("han", "hui", "uyghur", "tibetan", "zhuang", "mongol"),
        "hukou": ("urban", "rural"),
    }
)
_ATTRIBUTE_PROBS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "sex": _en._ATTRIBUTE_PROBS["sex"],
        "age_band": _en._ATTRIBUTE_PROBS["age_band"],
        "ethnicity": (0.6, 0.08, 0.08, 0.08, 0.08, 0.08),
        "hukou": (0.6, 0.4),
    }
)

#: Ages (and the birth dates inside identity numbers) are as of this day.
REFERENCE_DATE = datetime.date(2024, 6, 1)

_AGE_WORD_RATE = 0.4  # share of notes (with a template that has the slot) naming 青年/中年/老年
_HUKOU_MENTION_RATE = 0.2
_LOOKALIKE_RATE = 0.15  # share of notes *without* PII that carry look-alike numbers

# --------------------------------------------------------------------------
# Vocabulary.  No phrase contains 他, 她, 男, 女, an age word or an ethnicity
# word: group membership is only visible through the intended slots.
# --------------------------------------------------------------------------

_URGENT_SYMPTOMS: tuple[str, ...] = (
    "突发胸骨后压榨样疼痛并向左臂放射",
    "胸痛伴大汗及恶心",
    "突发言语不清伴右侧口角歪斜",
    "突发左侧肢体无力",
    "静息状态下严重呼吸困难",
    "喘息明显且吸入药物后仍无法说完整句子",
    "咯鲜血",
    "呕吐鲜血",
    "解黑便伴站立时头晕",
    "突发爆裂样剧烈头痛",
    "高热伴颈项强直及皮肤瘀点",
    "发热伴意识模糊及血压下降",
    "蜂蜇后口唇及舌体肿胀",
    "进食花生后喉头紧缩感伴全身风团",
    "抽搐持续超过五分钟",
    "晕厥伴短暂意识丧失",
    "剧烈腹痛伴板状腹",
    "疑似过量服用对乙酰氨基酚",
    "大腿深部裂伤伴搏动性出血",
    "单眼突发无痛性视力丧失",
    "小腿开放性骨折",
    "双手及前臂大面积烧伤",
    "有明确计划的自杀念头",
    "心悸伴晕厥及脉搏极快",
    "头部外伤后反复呕吐",
    "突发两肩胛间撕裂样疼痛",
    "足部肿胀发凉且动脉搏动消失",
    "血糖升高伴嗜睡及呼吸深快",
    "从梯子坠落致骨盆骨折",
)
_NON_URGENT_COMPLAINTS: tuple[str, ...] = (
    "轻度咽痛两天",
    "流涕、打喷嚏",
    "踝关节扭伤后仍可负重行走",
    "手指小割伤且出血已止",
    "园艺劳动后轻度腰痛",
    "前臂瘙痒性皮疹",
    "耳痛三天不伴发热",
    "饭后轻度烧心",
    "蚊虫叮咬后局部发红",
    "干咳一周但饮食正常",
    "足底跖疣疼痛",
    "季节性过敏性鼻炎症状",
    "便秘四天",
    "开水轻度烫伤伴小水疱",
    "双肩晒伤",
    "头皮瘙痒、脱屑",
    "嵌甲",
    "上楼梯时轻度膝痛",
    "服用新抗生素后轻度恶心",
    "上眼睑麦粒肿",
    "紧张性头痛经服用对乙酰氨基酚后缓解",
    "口唇疱疹",
    "轻度腹泻一天但能正常进食饮水",
    "绊倒后小腿挫伤但行走正常",
    "眼红伴分泌物一天",
    "游泳后耳闷",
    "口腔溃疡数天",
)
_NON_URGENT_REQUESTS: tuple[str, ...] = (
    "开具湿疹药膏处方",
    "开具病假证明",
    "咨询出行前疫苗接种",
    "常规用药复查",
    "测量血压",
    "查看常规血液检查结果",
    "伤口拆线",
    "伤口换药",
)
_VAGUE_SYMPTOMS: tuple[str, ...] = (
    "全身不适",
    "间断头晕",
    "腹部隐约不适",
    "乏力伴偶发心悸",
    "胸闷时有时无",
    "在家跌倒后不确定是否撞及头部",
    "双手麻木",
    "活动后气短",
    "发热三天",
    "头痛伴一过性视物模糊",
    "腹痛一天",
    "皮疹伴低热",
    "起立后头晕眼花",
)

# Slots: {sex1} 男/女, {sexn} 男性/女性, {age}, {aw} 青年/中年/老年 or "",
# {extra} "，汉族" / "，农村户口" or "", {sym}, {mod} appearance clause or "", {onset}.
_COMPLAINT_TEMPLATES: tuple[str, ...] = (
    "患者{sex1}，{age}岁{extra}，因{sym}来诊{mod}。",
    "{age}岁{aw}{sexn}{extra}，主诉{sym}{mod}。",
    "主诉：{sym}。现病史：患者{sex1}，{age}岁{extra}，{onset}出现上述症状{mod}。",
    "{sex1}，{age}岁{extra}，由家属送至急诊，{sym}{mod}。",
    "分诊记录：{age}岁{aw}{sexn}{extra}，{sym}{mod}。",
    "步行来诊，{age}岁{aw}{sexn}{extra}，自诉{sym}{mod}。",
    "{aw}{sexn}患者，{age}岁{extra}，以“{sym}”为主诉就诊{mod}。",
    "患者，{sexn}，{age}岁{extra}。主诉：{sym}{mod}。",
)
_REQUEST_TEMPLATES: tuple[str, ...] = (
    "{age}岁{aw}{sexn}{extra}，要求{sym}{mod}。",
    "患者{sex1}，{age}岁{extra}，前来{sym}{mod}。",
    "门诊分诊：{aw}{sexn}患者，{age}岁{extra}，因{sym}就诊{mod}。",
    "步行来诊，{age}岁{sexn}{extra}，此次为{sym}{mod}。",
)
_URGENT_MODIFIERS: tuple[str, ...] = (
    "，精神萎靡",
    "，面色苍白、皮肤湿冷",
    "，表情痛苦",
    "，嗜睡但可唤醒",
    "，焦虑不安伴大汗",
)
_CALM_MODIFIERS: tuple[str, ...] = (
    "，无急性痛苦面容",
    "，一般情况尚可",
    "，步入诊室，对答自如",
    "，神志清楚，精神可",
    "，表情自然，交谈如常",
)
_ONSETS: tuple[str, ...] = ("约1小时前", "今晨", "今日上午", "昨夜", "2天前", "数小时前")

_SEX_WORDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "female": MappingProxyType({"one": "女", "noun": "女性", "subj": "她", "title": "女士", "spouse": "丈夫"}),
        "male": MappingProxyType({"one": "男", "noun": "男性", "subj": "他", "title": "先生", "spouse": "妻子"}),
    }
)
_AGE_WORDS: Mapping[str, str] = MappingProxyType({"18-39": "青年", "40-64": "中年", "65+": "老年"})
_ETHNICITY_WORDS: Mapping[str, str] = MappingProxyType(
    {"han": "汉族", "hui": "回族", "uyghur": "维吾尔族", "tibetan": "藏族", "zhuang": "壮族", "mongol": "蒙古族"}
)
_HUKOU_WORDS: Mapping[str, str] = MappingProxyType({"urban": "城镇户口", "rural": "农村户口"})
#: Who accompanies the patient, by age band; "spouse" becomes 丈夫 or 妻子 by the patient's sex.
_RELATIVES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"18-39": ("父亲", "母亲", "spouse", "朋友"), "40-64": ("spouse", "儿子", "女儿", "同事"), "65+": ("儿子", "女儿", "spouse", "邻居")}
)
_CONTEXT_TEMPLATES: tuple[str, ...] = (
    "{subj}自述症状始于{onset}。",
    "由{subj}的{rel}陪同就诊。",
    "{subj}既往有{hx}病史。",
    "{subj}长期每日服用{med}。",
    "{subj}否认近期外出旅行及类似病人接触史。",
    "既往{hx}，{subj}目前独居。",
    "该{title}由{rel}陪同来院。",
    "{subj}否认药物过敏史，预防接种按计划完成。",
)
_HISTORY: tuple[str, ...] = ("高血压", "2型糖尿病", "哮喘", "慢性阻塞性肺疾病", "心房颤动", "甲状腺功能减退", "抑郁症", "高脂血症")
_MEDICATIONS: tuple[str, ...] = ("二甲双胍", "氨氯地平", "左甲状腺素钠", "阿司匹林", "依那普利", "舍曲林", "阿哌沙班")
_VITALS_TEMPLATES: tuple[str, ...] = ("查体：{v}。", "生命体征：{v}。", "入室时{v}。", "分诊时测得{v}。")
#: The English generator's observations ("BP 150/95", "Temp 38.6C"...) in Chinese chart notation.
_VITAL_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"BP": ("血压", "mmHg"), "HR": ("心率", "次/分"), "SpO2": ("血氧饱和度", ""), "RR": ("呼吸", "次/分"), "Temp": ("体温", ""), "GCS": ("GCS评分", "分")}
)

# --------------------------------------------------------------------------
# Synthetic personal data
# --------------------------------------------------------------------------

#: Common surnames with their pinyin (for e-mail addresses).
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"),
)
#: Given names (1-2 characters) by sex, with pinyin.
GIVEN_NAMES: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "female": (
            ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
            ("娟", "juan"), ("霞", "xia"), ("婷", "ting"), ("秀英", "xiuying"), ("桂英", "guiying"),
            ("丽娟", "lijuan"), ("雪梅", "xuemei"), ("晓燕", "xiaoyan"), ("慧敏", "huimin"), ("佳怡", "jiayi"),
        ),
        "male": (
            ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
            ("杰", "jie"), ("涛", "tao"), ("超", "chao"), ("明", "ming"), ("建国", "jianguo"),
            ("志强", "zhiqiang"), ("浩然", "haoran"), ("俊杰", "junjie"), ("海涛", "haitao"), ("子轩", "zixuan"),
        ),
    }
)
#: (region code, province + city, district, landline area code).  Provinces by
#: their short forms (广西, 宁夏...) so that no address contains an ethnicity word.
_REGIONS: tuple[tuple[str, str, str, str], ...] = (
    ("110105", "北京市", "朝阳区", "010"),
    ("110108", "北京市", "海淀区", "010"),
    ("120101", "天津市", "和平区", "022"),
    ("130102", "河北省石家庄市", "长安区", "0311"),
    ("140105", "山西省太原市", "小店区", "0351"),
    ("150102", "内蒙古呼和浩特市", "新城区", "0471"),
    ("210102", "辽宁省沈阳市", "和平区", "024"),
    ("220102", "吉林省长春市", "南关区", "0431"),
    ("230103", "黑龙江省哈尔滨市", "南岗区", "0451"),
    ("310115", "上海市", "浦东新区", "021"),
    ("320106", "江苏省南京市", "鼓楼区", "025"),
    ("330106", "浙江省杭州市", "西湖区", "0571"),
    ("340104", "安徽省合肥市", "蜀山区", "0551"),
    ("350102", "福建省福州市", "鼓楼区", "0591"),
    ("360102", "江西省南昌市", "东湖区", "0791"),
    ("370202", "山东省青岛市", "市南区", "0532"),
    ("410105", "河南省郑州市", "金水区", "0371"),
    ("420111", "湖北省武汉市", "洪山区", "027"),
    ("430104", "湖南省长沙市", "岳麓区", "0731"),
    ("440106", "广东省广州市", "天河区", "020"),
    ("440305", "广东省深圳市", "南山区", "0755"),
    ("450103", "广西南宁市", "青秀区", "0771"),
    ("460106", "海南省海口市", "龙华区", "0898"),
    ("500103", "重庆市", "渝中区", "023"),
    ("510107", "四川省成都市", "武侯区", "028"),
    ("520102", "贵州省贵阳市", "南明区", "0851"),
    ("530102", "云南省昆明市", "五华区", "0871"),
    ("540102", "西藏拉萨市", "城关区", "0891"),
    ("610113", "陕西省西安市", "雁塔区", "029"),
    ("620102", "甘肃省兰州市", "城关区", "0931"),
    ("630104", "青海省西宁市", "城西区", "0971"),
    ("640104", "宁夏银川市", "兴庆区", "0951"),
    ("650102", "新疆乌鲁木齐市", "天山区", "0991"),
)
_STREETS: tuple[str, ...] = ("建国路", "人民路", "解放路", "中山路", "长江路", "和平街", "新华街", "文化路", "胜利路", "学院路", "光明路", "幸福路")
_EMAIL_DOMAINS: tuple[str, ...] = _en._EMAIL_DOMAINS

PII_KINDS: tuple[str, ...] = ("name", "id_number", "mobile", "landline", "address", "card", "email")
# Every non-empty subset of at most 3 kinds, in a fixed order (63 subsets).
_PII_SUBSETS: tuple[tuple[str, ...], ...] = tuple(
    tuple(k for bit, k in enumerate(PII_KINDS) if mask >> bit & 1)
    for mask in range(1, 1 << len(PII_KINDS))
    if 1 <= bin(mask).count("1") <= 3
)
_PII_LABELS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "id_number": ("身份证号：", "身份证号码 ", "身份证"),
        "mobile": ("手机：", "联系电话 ", "手机号"),
        "landline": ("座机：", "家庭电话 ", "固话"),
        "address": ("住址：", "家庭住址：", "现住"),
        "card": ("银行卡号：", "医保绑定银行卡 ", "退费银行卡号"),
        "email": ("邮箱：", "电子邮箱 ", "E-mail："),
    }
)
_TRAILER_LEADS: tuple[str, ...] = ("联系方式：", "登记信息：", "患者信息：", "回访登记：")

LOOKALIKE_KINDS: tuple[str, ...] = ("invalid_id_number", "date", "lab_value")
_LOOKALIKE_LABELS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "invalid_id_number": ("标本条码：", "检验申请单号 ", "医保结算流水号："),
        "date": ("就诊日期：", "发病日期 ", "挂号时间："),
    }
)
_LAB_VALUES: tuple[str, ...] = (
    "血常规：白细胞{a:.1f}×10^9/L，血红蛋白{b}g/L",
    "血钾{c:.1f}mmol/L",
    "随机血糖{d:.1f}mmol/L",
    "肌酐{e}μmol/L",
)

#: ISO 7064 MOD 11-2 as GB 11643-1999 uses it: weights of the first 17 digits
#: and the check character indexed by the weighted sum mod 11.
ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"


def id_check_character(first17: str) -> str:
    """The check character of an 18-character resident identity number."""
    return ID_CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


class _Col(_en._Col):
    """Columns of the per-row uniforms: the English generator's, then these.

    Sharing the English indices lets :func:`harness.ml.builtin_data._vital_strings`
    read its vital-sign draws from the same row.
    """

    AGE_WORD = _en._Col.COUNT
    HUKOU_MENTION = AGE_WORD + 1
    ONSET = AGE_WORD + 2
    NAME_FORM = AGE_WORD + 3
    REGION = AGE_WORD + 4
    BIRTH_DAY = AGE_WORD + 5
    ID_SEQ = AGE_WORD + 6
    MOBILE_FMT = AGE_WORD + 7
    LANDLINE_LEN = AGE_WORD + 8
    CARD_LEN = AGE_WORD + 9
    CARD_FMT = AGE_WORD + 10
    STREET = AGE_WORD + 11
    HOUSE = AGE_WORD + 12
    BUILDING = AGE_WORD + 13
    UNIT = AGE_WORD + 14
    FLOOR = AGE_WORD + 15
    LOOKALIKE = AGE_WORD + 16
    LOOKALIKE_KIND = AGE_WORD + 17
    LOOKALIKE_TWO = AGE_WORD + 18
    WRONG_CHECK = AGE_WORD + 19
    LAB = AGE_WORD + 20
    VISIT_DAY = AGE_WORD + 21
    RECORD_YEAR = AGE_WORD + 22
    ROOM = AGE_WORD + 23
    LAB_VALUE = AGE_WORD + 24
    COUNT = AGE_WORD + 25


# Random decimal digits per row, each number its own slice so no two share digits.
_MOBILE_DIGITS = slice(0, 9)
_LANDLINE_DIGITS = 9  # up to 7 after the first digit
_CARD_DIGITS = 16  # up to 16 after "62"
_EMAIL_DIGITS = 32
_RECORD_DIGITS = 34  # 6
_TIME_DIGITS = 40
_DIGITS = 42


# --------------------------------------------------------------------------
# Spec and validation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticSpec(_en.SyntheticSpec):
    """The English spec's knobs, with ``bias_group`` checked against this dataset's groups."""

    def __post_init__(self) -> None:
        _validate(self)


def _parse_group(group: object) -> tuple[str, str]:
    return _en._parse_group(group, SENSITIVE_ATTRIBUTES, ATTRIBUTE_VALUES, DATASET_ID)


def _validate(spec: _en.SyntheticSpec) -> None:
    if not _is_int(spec.size) or spec.size < 20:
        raise ValueError(f"size must be an integer >= 20, got {spec.size!r}")
    if not _is_int(spec.seed) or spec.seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {spec.seed!r}")
    _check_share("bias", spec.bias)
    _check_share("pii_rate", spec.pii_rate)
    _check_share("urgent_rate", spec.urgent_rate)
    _parse_group(spec.bias_group)


#: The dataset's card as a catalog msgid: the harness writes it, so a zh report shows it in Chinese.
DESCRIPTION = N_(
    "Synthetic Chinese (Simplified) clinical triage notes generated by the harness (size={size}, bias={bias} against "
    "{group}, pii_rate={pii_rate}); labels {urgent} (urgent) / {routine} (non-urgent); planted personal data and "
    "identity numbers are random values in valid formats; no real patient data."
)


def describe_message(spec: _en.SyntheticSpec) -> dict[str, Any]:
    """The card as ``{text, message_id, message_args}`` (``provenance.data.description_message``)."""
    args = {"size": str(spec.size), "bias": f"{spec.bias:g}", "group": spec.bias_group, "pii_rate": f"{spec.pii_rate:g}",
            "urgent": LABELS[1], "routine": LABELS[0]}
    return {"text": DESCRIPTION.format(**args), "message_id": DESCRIPTION, "message_args": args}


def describe(spec: _en.SyntheticSpec) -> str:
    """The dataset's one-paragraph card, as reports show it (``provenance.data.description``)."""
    return describe_message(spec)["text"]


# --------------------------------------------------------------------------
# Random draws
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draws:
    """All randomness of one dataset, drawn up front; shapes depend only on ``size``."""

    attributes: np.ndarray  # (n, 4) uniforms: sex, age band, ethnicity, hukou
    condition: np.ndarray
    ambiguous: np.ndarray
    bias: np.ndarray
    pii: np.ndarray
    choices: np.ndarray  # (n, _Col.COUNT)
    digits: np.ndarray  # (n, _DIGITS) decimal digits


def _draw(seed: int, n: int) -> _Draws:
    rng = np.random.default_rng(seed)
    return _Draws(
        attributes=rng.random((n, len(SENSITIVE_ATTRIBUTES))),
        condition=rng.random(n),
        ambiguous=rng.random(n),
        bias=rng.random(n),
        pii=rng.random(n),
        choices=rng.random((n, _Col.COUNT)),
        digits=rng.integers(0, 10, size=(n, _DIGITS)),
    )


def _int(low: int, high: int, u: float) -> int:
    """An integer in [low, high] from a uniform."""
    return low + min(int(u * (high - low + 1)), high - low)


# --------------------------------------------------------------------------
# Note body
# --------------------------------------------------------------------------


def _modifier(urgent: bool, vague: bool, r: Sequence[float]) -> str:
    if r[_Col.MODIFIER] >= _en._MODIFIER_RATE:
        return ""
    consistent = 0.5 if vague else _en._MODIFIER_CONSISTENT
    looks_ill = urgent if r[_Col.MODIFIER_OK] < consistent else not urgent
    return _pick(_URGENT_MODIFIERS if looks_ill else _CALM_MODIFIERS, r[_Col.MODIFIER_PICK])


def _vital_zh(english: str) -> str:
    name, value = english.split(" ", 1)
    label, unit = _VITAL_NAMES[name]
    if name == "Temp":
        value = value.removesuffix("C") + "℃"
    return f"{label}{value}{unit}"


def _vitals_sentence(urgent: bool, vague: bool, r: Sequence[float]) -> str:
    """Optional observations sentence with one to three vitals (the English ranges, Chinese notation)."""
    if r[_Col.VITALS] >= _en._VITALS_RATE:
        return ""
    vitals = [_vital_zh(v) for v in _vital_strings(_vitals_tier(urgent, vague, r[_Col.VITALS_OK]), r)]
    count = 1 + min(int(r[_Col.VITALS_N] * 3), 2)
    start = min(int(r[_Col.VITALS_START] * len(vitals)), len(vitals) - 1)
    chosen = [vitals[(start + k) % len(vitals)] for k in range(count)]
    return _pick(_VITALS_TEMPLATES, r[_Col.VITALS_FMT]).format(v="，".join(chosen))


def _intro_sentence(urgent: bool, vague: bool, row: Mapping[str, str], age: int, r: Sequence[float]) -> str:
    """First sentence: sex (always), age, maybe ethnicity / hukou, and the complaint."""
    words = _SEX_WORDS[row["sex"]]
    if vague:
        symptom, templates = _pick(_VAGUE_SYMPTOMS, r[_Col.SYMPTOM]), _COMPLAINT_TEMPLATES
    elif urgent:
        symptom, templates = _pick(_URGENT_SYMPTOMS, r[_Col.SYMPTOM]), _COMPLAINT_TEMPLATES
    else:
        pool = _NON_URGENT_COMPLAINTS + _NON_URGENT_REQUESTS
        index = min(int(r[_Col.SYMPTOM] * len(pool)), len(pool) - 1)
        symptom = pool[index]
        templates = _COMPLAINT_TEMPLATES if index < len(_NON_URGENT_COMPLAINTS) else _REQUEST_TEMPLATES
    extra = ""
    if r[_Col.ETH_MENTION] < _en._ETHNICITY_MENTION_RATE:
        extra += "，" + _ETHNICITY_WORDS[row["ethnicity"]]
    if r[_Col.HUKOU_MENTION] < _HUKOU_MENTION_RATE:
        extra += "，" + _HUKOU_WORDS[row["hukou"]]
    return _pick(templates, r[_Col.INTRO]).format(
        sex1=words["one"],
        sexn=words["noun"],
        age=age,
        aw=_AGE_WORDS[row["age_band"]] if r[_Col.AGE_WORD] < _AGE_WORD_RATE else "",
        extra=extra,
        sym=symptom,
        mod=_modifier(urgent, vague, r),
        onset=_pick(_ONSETS, r[_Col.ONSET]),
    )


def _context_sentence(sex: str, band: str, r: Sequence[float]) -> str:
    """Optional sentence with 他/她 or 该先生/该女士, family and history; neutral about urgency."""
    if r[_Col.CONTEXT] >= _en._CONTEXT_RATE:
        return ""
    words = _SEX_WORDS[sex]
    u = r[_Col.CONTEXT_FILL]
    relative = _pick(_RELATIVES[band], u)
    return _pick(_CONTEXT_TEMPLATES, r[_Col.CONTEXT_TPL]).format(
        subj=words["subj"],
        title=words["title"],
        rel=words["spouse"] if relative == "spouse" else relative,
        onset=_pick(_ONSETS, u),
        hx=_pick(_HISTORY, u),
        med=_pick(_MEDICATIONS, u),
    )


# --------------------------------------------------------------------------
# Personal data and look-alikes
# --------------------------------------------------------------------------


def _birth_date(age: int, u: float) -> datetime.date:
    """A birth date at which the person is exactly ``age`` on :data:`REFERENCE_DATE`."""
    ref = REFERENCE_DATE
    earliest = ref.replace(year=ref.year - age - 1) + datetime.timedelta(days=1)
    latest = ref.replace(year=ref.year - age)
    return earliest + datetime.timedelta(days=_int(0, (latest - earliest).days, u))


def _id_number(sex: str, age: int, r: Sequence[float], *, valid: bool) -> str:
    """A resident identity number; with ``valid=False`` the check character is a wrong digit."""
    region = _pick(_REGIONS, r[_Col.REGION])[0]
    birth = _birth_date(age, r[_Col.BIRTH_DAY])
    # 3-digit sequence, odd for men and even for women (001..999)
    sequence = 2 * _int(0, 498, r[_Col.ID_SEQ]) + (1 if sex == "male" else 2)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    check = id_check_character(first17)
    if not valid:
        wrong = [d for d in "0123456789" if d != check]
        check = _pick(wrong, r[_Col.WRONG_CHECK])
    return first17 + check


def _mobile(r: Sequence[float], digits: Sequence[int]) -> str:
    number = "1" + str(_int(3, 9, r[_Col.PHONE])) + "".join(map(str, digits[_MOBILE_DIGITS]))
    a, b, c = number[:3], number[3:7], number[7:]
    return _pick(
        (number, f"+86 {number}", f"{a} {b} {c}", f"{a}-{b}-{c}", f"+86-{a}-{b}-{c}", f"+86{number}"),
        r[_Col.MOBILE_FMT],
    )


def _landline(area: str, r: Sequence[float], digits: Sequence[int]) -> str:
    length = 8 if len(area) == 3 or r[_Col.LANDLINE_LEN] < 0.5 else 7
    return f"{area}-{_int(2, 8, r[_Col.AREA])}{''.join(map(str, digits[_LANDLINE_DIGITS:_LANDLINE_DIGITS + length - 1]))}"


def _luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        d = int(char)
        if position % 2 == 0:  # doubled: these sit at odd positions once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _bank_card(r: Sequence[float], digits: Sequence[int]) -> str:
    length = 16 if r[_Col.CARD_LEN] < 0.6 else 19
    payload = "62" + "".join(map(str, digits[_CARD_DIGITS:_CARD_DIGITS + length - 3]))
    number = payload + _luhn_check_digit(payload)
    if r[_Col.CARD_FMT] < 0.5:
        return number
    return " ".join(number[i:i + 4] for i in range(0, length, 4))


def _address(region: tuple[str, str, str, str], r: Sequence[float]) -> str:
    _, city, district, _ = region
    street = _pick(_STREETS, r[_Col.STREET])
    floor = _int(1, 28, r[_Col.FLOOR])
    room = f"{floor}{_int(1, 4, r[_Col.ROOM]):02d}"
    return (
        f"{city}{district}{street}{_int(1, 299, r[_Col.HOUSE])}号"
        f"{_int(1, 20, r[_Col.BUILDING])}栋{_int(1, 6, r[_Col.UNIT])}单元{room}室"
    )


def _pii(sex: str, age: int, r: Sequence[float], digits: Sequence[int]) -> tuple[str, list[tuple[str, str]]]:
    """The PII fragment and the (kind, value) pairs in it."""
    kinds = _pick(_PII_SUBSETS, r[_Col.PII_KINDS])
    surname, surname_py = _pick(SURNAMES, r[_Col.LAST])
    given, given_py = _pick(GIVEN_NAMES[sex], r[_Col.FIRST])
    name = surname + given
    region = _pick(_REGIONS, r[_Col.REGION])
    fmt = r[_Col.PII_FMT]
    values: dict[str, str] = {"name": name}
    if "id_number" in kinds:
        values["id_number"] = _id_number(sex, age, r, valid=True)
    if "mobile" in kinds:
        values["mobile"] = _mobile(r, digits)
    if "landline" in kinds:
        values["landline"] = _landline(region[3], r, digits)
    if "address" in kinds:
        values["address"] = _address(region, r)
    if "card" in kinds:
        values["card"] = _bank_card(r, digits)
    if "email" in kinds:
        number = f"{digits[_EMAIL_DIGITS]}{digits[_EMAIL_DIGITS + 1]}"
        local = _pick((f"{surname_py}{given_py}{number}", f"{given_py}.{surname_py}", f"{surname_py}_{given_py}"), r[_Col.EMAIL_FMT])
        values["email"] = f"{local}@{_pick(_EMAIL_DOMAINS, r[_Col.DOMAIN])}"
    details = [_pick(_PII_LABELS[k], fmt) + values[k] for k in kinds if k != "name"]
    planted = [(k, values[k]) for k in kinds]
    if "name" not in kinds:
        return "，".join(details), planted
    title = _SEX_WORDS[sex]["title"]
    lead = _pick((f"患者{name}", f"姓名：{name}", f"{name}{title}"), r[_Col.NAME_FORM])
    return "，".join([lead, *details]), planted


def _lookalikes(sex: str, age: int, r: Sequence[float], digits: Sequence[int]) -> tuple[str, list[tuple[str, str]]]:
    """One or two numbers that are not personal data, as a sentence, and the (kind, value) pairs."""
    first = min(int(r[_Col.LOOKALIKE_KIND] * len(LOOKALIKE_KINDS)), len(LOOKALIKE_KINDS) - 1)
    kinds = [LOOKALIKE_KINDS[first]]
    if r[_Col.LOOKALIKE_TWO] < 0.3:
        kinds.append(LOOKALIKE_KINDS[(first + 1) % len(LOOKALIKE_KINDS)])
    visit = REFERENCE_DATE - datetime.timedelta(days=_int(0, 364, r[_Col.VISIT_DAY]))
    planted, parts = [], []
    for kind in kinds:
        if kind == "invalid_id_number":
            value = _id_number(sex, age, r, valid=False)
        elif kind == "date":
            value = _pick((f"{visit.year}年{visit.month}月{visit.day}日", f"{visit:%Y-%m-%d}", f"{visit:%Y-%m-%d} {visit.day % 12 + 8:02d}:{digits[_TIME_DIGITS] % 6}{digits[_TIME_DIGITS + 1]}"), r[_Col.PII_FMT])
        else:
            value = _pick(_LAB_VALUES, r[_Col.LAB]).format(
                a=3.5 + 6 * r[_Col.LAB_VALUE], b=_int(110, 160, r[_Col.LAB_VALUE]), c=3.5 + 1.5 * r[_Col.LAB_VALUE],
                d=4.0 + 4 * r[_Col.LAB_VALUE], e=_int(45, 110, r[_Col.LAB_VALUE]),
            )
        planted.append((kind, value))
        parts.append(value if kind == "lab_value" else _pick(_LOOKALIKE_LABELS[kind], r[_Col.PII_LEAD]) + value)
    return "，".join(parts) + "。", planted


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def generate_clinical_triage_zh(spec: _en.SyntheticSpec = SyntheticSpec()) -> pd.DataFrame:
    """Generate the ``builtin:clinical-triage-zh`` dataset for ``spec``.

    Columns: ``id, text, label, sex, age_band, ethnicity, hukou, has_pii,
    pii_kinds, pii_values, lookalike_kinds, lookalike_values, bias_applied``
    (the ``*_kinds`` / ``*_values`` columns: ``|``-joined, in the same order,
    empty when none).  The same spec always yields the same frame.
    """
    _validate(spec)
    n = int(spec.size)
    draws = _draw(int(spec.seed), n)
    columns = {
        attr: np.asarray(ATTRIBUTE_VALUES[attr], dtype=object)[_categorical(draws.attributes[:, j], _ATTRIBUTE_PROBS[attr])]
        for j, attr in enumerate(SENSITIVE_ATTRIBUTES)
    }
    truly_urgent = draws.condition < spec.urgent_rate
    vague = draws.ambiguous < _en._AMBIGUOUS_RATE
    has_pii = draws.pii < spec.pii_rate
    attribute, value = _parse_group(spec.bias_group)
    bias_applied = (columns[attribute] == value) & truly_urgent & (draws.bias < spec.bias)
    labels = np.where(truly_urgent & ~bias_applied, LABELS[1], LABELS[0])

    rows = [{attr: columns[attr][i] for attr in SENSITIVE_ATTRIBUTES} for i in range(n)]
    texts, pii_kinds, pii_values, look_kinds, look_values = [], [], [], [], []
    urgent_list, vague_list, pii_list = truly_urgent.tolist(), vague.tolist(), has_pii.tolist()
    digit_rows = draws.digits.tolist()
    for i, r in enumerate(draws.choices.tolist()):
        row, digits = rows[i], digit_rows[i]
        low, high = _en._AGE_RANGES[row["age_band"]]
        age = _int(low, high, r[_Col.AGE])
        parts = (
            _intro_sentence(urgent_list[i], vague_list[i], row, age, r),
            _vitals_sentence(urgent_list[i], vague_list[i], r),
            _context_sentence(row["sex"], row["age_band"], r),
        )
        body = "".join(parts)
        planted: list[tuple[str, str]] = []
        looks: list[tuple[str, str]] = []
        if pii_list[i]:
            fragment, planted = _pii(row["sex"], age, r, digits)
            if r[_Col.PII_POS] < _en._PII_AT_START:
                body = f"{fragment}。{body}"
            else:
                body = f"{body}{_pick(_TRAILER_LEADS, r[_Col.PII_LEAD])}{fragment}。"
        elif r[_Col.LOOKALIKE] < _LOOKALIKE_RATE:
            sentence, looks = _lookalikes(row["sex"], age, r, digits)
            body = f"{sentence}{body}" if r[_Col.PII_POS] < 0.5 else f"{body}{sentence}"
        texts.append(body)
        pii_kinds.append("|".join(k for k, _ in planted))
        pii_values.append("|".join(v for _, v in planted))
        look_kinds.append("|".join(k for k, _ in looks))
        look_values.append("|".join(v for _, v in looks))
    return pd.DataFrame(
        {
            "id": [f"ctzh-{i:05d}" for i in range(n)],
            "text": texts,
            "label": labels.tolist(),
            **{attr: columns[attr].tolist() for attr in SENSITIVE_ATTRIBUTES},
            "has_pii": has_pii.astype(bool),
            "pii_kinds": pii_kinds,
            "pii_values": pii_values,
            "lookalike_kinds": look_kinds,
            "lookalike_values": look_values,
            "bias_applied": bias_applied.astype(bool),
        }
    )
