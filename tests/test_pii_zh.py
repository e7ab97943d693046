"""Chinese personal data in ``harness.text.pii``: resident IDs, mobiles and landlines,
bank cards, PRC passports, e-mail / IP inside Chinese text, names, street addresses.

Planted values sit in realistic sentences (full-width punctuation, no spaces); look-alikes
that fail a check (ID checksum, date, region; Luhn; no 护照 context) must not be found;
a generated corpus measures recall and the look-alike false-positive rate.  Valid IDs and
card numbers are built here with independent implementations of the checksums.
"""

from __future__ import annotations

import datetime
import random

import pytest

from harness.text.pii import ALL_KINDS, PLACEHOLDERS, find_pii, mask_text


def kinds_of(text: str, **kw) -> list[tuple[str, str]]:
    return [(m.kind, m.value(text)) for m in find_pii(text, **kw)]


# ------------------------------------------------------------------ independent generators

PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
             "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"]


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2, written from its definition: weight of position i is 2^(17-i) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id(rng: random.Random, province: str | None = None, born: datetime.date | None = None) -> str:
    province = province or rng.choice(PROVINCES)
    region = province + f"{rng.randint(1, 99):02d}{rng.randint(1, 99):02d}"
    if born is None:
        born = datetime.date(1900, 1, 1) + datetime.timedelta(days=rng.randint(0, (datetime.date.today() - datetime.date(1900, 1, 1)).days))
    first17 = region + born.strftime("%Y%m%d") + f"{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def luhn_check_digit(body: str) -> str:
    """The digit that makes body+digit pass Luhn (doubling every second digit from the right of the full number)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d = d * 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def make_card(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def group4(number: str, sep: str) -> str:
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


def make_mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(str(rng.randint(0, 9)) for _ in range(9))


SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
                "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤常温康施"
                "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗")
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "司徒", "夏侯", "令狐"]
# Common given-name characters, including a few (发, 来) that the detector treats as "not a name" in notes.
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞辉建国林海波宁欣怡婷雪琳晨浩宇轩子涵梓博文思雨佳"
             "嘉俊一诺泽晓小春志新云玲燕斌宏德成荣光永梅亮生福东清宝凤丹洪庆民峰天鑫瑞龙家振兴祥富贵胜利安秋菊莲喜珍金忠全"
             "发来进长友山水香翠淑琴慧颖倩雅蕾薇璐琪昊然睿晗铭瑶楠阳丰旭锦亚伦权力男义仁礼智信勤俭学武松柏江河湖川石田禾米豆麦")


def make_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND) if rng.random() < 0.08 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


PLACES = [("北京市", "朝阳区"), ("上海市", "浦东新区"), ("广东省深圳市", "南山区"), ("浙江省杭州市", "西湖区"),
          ("四川省成都市", "武侯区"), ("湖北省武汉市", "洪山区"), ("江苏省南京市", "鼓楼区"), ("天津市", "和平区"),
          ("重庆市", "渝中区"), ("陕西省西安市", "雁塔区"), ("河南省郑州市", "金水区"), ("山东省济南市", "历下区")]
ROADS = ["建国路", "科技园路", "人民路", "解放大道", "中山北路", "长安街", "南京东路", "文三路", "和平大街", "光明巷", "五一路", "学院路"]


def make_address(rng: random.Random) -> str:
    province_city, district = rng.choice(PLACES)
    head = rng.choice([province_city + district, district, province_city + district, ""])
    tail = rng.choice(["", f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2808)}室",
                       f"{rng.randint(1, 20)}号楼{rng.randint(101, 1808)}室", "院"])
    return f"{head}{rng.choice(ROADS)}{rng.randint(1, 999)}号{tail}"


# ------------------------------------------------------------------ single detectors, realistic sentences

VALID_ID = "110101199003074514"  # standard test number: region 110101, born 1990-03-07
VALID_ID_X = "11010519491231002X"


def test_independent_id_checksum_agrees_with_known_numbers() -> None:
    assert id_check_char(VALID_ID[:17]) == VALID_ID[17]
    assert id_check_char(VALID_ID_X[:17]) == "X"


@pytest.mark.parametrize("text, kind, value", [
    ("身份证号110101199003074514，已核对。", "cn_id", "110101199003074514"),
    ("患者身份证：11010519491231002X。", "cn_id", "11010519491231002X"),
    ("证件号码11010519491231002x（身份证）", "cn_id", "11010519491231002x"),
    ("身份证 110101 19900307 4514 已登记", "cn_id", "110101 19900307 4514"),
    ("手机13812345678，请联系家属。", "phone", "13812345678"),
    ("联系电话：+86 138 1234 5678。", "phone", "+86 138 1234 5678"),
    ("家属电话+8613912345678已留存", "phone", "+8613912345678"),
    ("请拨0086-15012345678联系", "phone", "0086-15012345678"),
    ("电话8618612345678", "phone", "8618612345678"),
    ("手机号：177-1234-5678。", "phone", "177-1234-5678"),
    ("手机号码199 8765 4321，", "phone", "199 8765 4321"),
    ("座机：010-12345678。", "phone", "010-12345678"),
    ("科室电话(0755)1234567，", "phone", "(0755)1234567"),
    ("总机0571-88776655转8001，", "phone", "0571-88776655转8001"),
    ("电话021 6437 8888。", "phone", "021 6437 8888"),
    ("联系电话：02164378888", "phone", "02164378888"),
    ("银行卡号6222021234567890128，", "card", "6222021234567890128"),
    ("卡号：4111 1111 1111 1111。", "card", "4111 1111 1111 1111"),
    ("退款至5500-0000-0000-0004账户", "card", "5500-0000-0000-0004"),
    ("护照号码：E12345678，", "cn_passport", "E12345678"),
    ("持护照G87654321入境", "cn_passport", "G87654321"),
    ("护照号EA1234567。", "cn_passport", "EA1234567"),
    ("邮箱zhang.wei88@163.com，", "email", "zhang.wei88@163.com"),
    ("结果已发送至li_na@qq.com。", "email", "li_na@qq.com"),
    ("电子邮件：wangfang@example.cn联系", "email", "wangfang@example.cn"),
    ("登录IP：192.168.1.20，", "ip", "192.168.1.20"),
    ("IP地址10.0.0.5异常", "ip", "10.0.0.5"),
    ("IPv6地址2001:db8::8a2e:370:7334。", "ip", "2001:db8::8a2e:370:7334"),
    ("患者张伟，男，45岁。", "name", "张伟"),
    ("患者王芳芳自述头痛3天。", "name", "王芳芳"),
    ("患者李明因胸痛入院。", "name", "李明"),
    ("姓名：欧阳娜娜", "name", "欧阳娜娜"),
    ("联系人：司马光，", "name", "司马光"),
    ("姓名：孙子轩，男", "name", "孙子轩"),
    ("家属赵磊陪同就诊。", "name", "赵磊"),
    ("主治医师：陈静。", "name", "陈静"),
    ("病人 孙丽 发热2天", "name", "孙丽"),
    ("请王先生到3号诊室。", "name", "王"),
    ("刘德华先生今日复诊。", "name", "刘德华"),
    ("张医生已查看患者。", "name", "张"),
    ("李娜女士陪同。", "name", "李娜"),
    ("住址：北京市朝阳区建国路88号3栋2单元501室。", "cn_address", "北京市朝阳区建国路88号3栋2单元501室"),
    ("现住广东省深圳市南山区科技园路1号，", "cn_address", "广东省深圳市南山区科技园路1号"),
    ("家住人民路12号院", "cn_address", "人民路12号院"),
    ("家住阳光花园3栋501室。", "cn_address", "阳光花园3栋501室"),
    ("出生日期：1990年3月7日，", "dob", "1990年3月7日"),
])
def test_detects_chinese_formats_in_running_text(text: str, kind: str, value: str) -> None:
    assert (kind, value) in kinds_of(text), kinds_of(text)
    assert value not in mask_text(text)
    assert PLACEHOLDERS[kind] in mask_text(text)


def test_id_is_not_also_a_card_and_mask_is_one_placeholder() -> None:
    rng = random.Random(3)
    # find resident IDs that also pass Luhn: still one cn_id, never a card
    luhn_ids = []
    while len(luhn_ids) < 5:
        candidate = make_id(rng)
        if candidate[-1] != "X" and luhn_check_digit(candidate[:-1]) == candidate[-1]:
            luhn_ids.append(candidate)
    for number in luhn_ids:
        text = f"身份证号{number}，"
        assert kinds_of(text) == [("cn_id", number)]
        assert mask_text(text) == "身份证号[CN_ID]，"


def test_overlaps_resolve_consistently() -> None:
    text = "患者张伟，身份证110101199003074514，手机+86 138 1234 5678，邮箱zw@163.com，住北京市朝阳区建国路88号。"
    assert mask_text(text) == "患者[NAME]，身份证[CN_ID]，手机[PHONE]，邮箱[EMAIL]，住[CN_ADDRESS]。"
    # the same value found by two detectors (English grouped phone, mainland mobile) is reported once
    assert [k for k, _ in kinds_of("手机138-1234-5678")] == ["phone"]
    # a mobile inside an ID is not a phone: the ID wins, once
    assert kinds_of("证号110101199003074514") == [("cn_id", "110101199003074514")]


def test_kinds_restrict_chinese_detectors_too() -> None:
    text = "患者张伟，身份证110101199003074514，护照E12345678，住北京市朝阳区建国路88号。"
    assert kinds_of(text, kinds=["cn_id"]) == [("cn_id", "110101199003074514")]
    assert [k for k, _ in kinds_of(text, kinds=["name", "cn_address"])] == ["name", "cn_address"]
    assert {"cn_id", "cn_passport", "cn_address"} <= set(ALL_KINDS)


# ------------------------------------------------------------------ look-alikes that are not personal data

def _bad_check(number: str) -> str:
    good = number[17]
    return number[:17] + next(c for c in "0123456789X" if c != good)


LOOKALIKES = [
    f"身份证号{_bad_check(VALID_ID)}，",                      # checksum
    "身份证号110101199002304512，",                            # 30 February
    "身份证号110101199013074511，",                            # month 13
    "身份证号990101199003074514，",                            # no province 99
    "身份证号100101199003074510，",                            # no province 10
    "身份证号110101209903074519，",                            # born in the future
    "身份证号110101189903074516，",                            # born before 1900
    "卡号6222021234567890127，",                               # fails Luhn
    "卡号4111 1111 1111 1112。",                               # fails Luhn
    "订单号：6222021234567890128，",                           # order number shaped like a card
    "订单号：13812345678，",                                   # order number shaped like a mobile
    "快递单号SF1234567890123。",
    "检验条码1234567890，",                                    # 10 digits
    "挂号时间：2024-03-10 18:39，就诊日期2023-10-02 10:38。",  # date and time, not a grouped phone
    "流水号20230305123456789，",
    "编号2023030512345678",
    "产品型号E12345678，批号G20230305。",                      # passport shape, no 护照
    "患者于2023年3月5日入院，2023-03-05复查。",                 # dates
    "血压140/90mmHg，体温38.5℃，心率88次/分，血氧98%。",        # vitals
    "白细胞12.5×10^9/L，血红蛋白135g/L，血小板256×10^9/L。",
    "患者主诉头痛3天，伴恶心呕吐。",
    "患者自述胸闷2小时，否认高血压病史。",
    "患者无发热，既往体健。",
    "患者于3天前出现咳嗽咳痰。",
    "患者今日感到乏力，因头晕来院。",
    "患者高热3天，最高39.2℃。",
    "患者黄疸明显，全身皮肤瘙痒。",
    "患者平素体健，曾于2019年行阑尾切除术。",
    "患者向医生诉腹痛。",
    "高血压患者应规律服药。",
    "糖尿病患者血糖控制不佳。",
    "帕金森患者需长期随访。",
    "家属诉患者夜间睡眠差。",
    "家属孙女陪同就诊。",
    "医生建议住院治疗，家属同意。",
    "市区医院就诊，区域医疗中心转诊。",
    "病房位于住院部3号楼5层12床。",
    "服用阿司匹林100mg，每日1次，共30天。",
    "版本1.2.3.4.5已更新，端口8080。",
    "时间10:30:00，持续约15分钟。",
    "第2023030号文件，共12页。",
    "体重65kg，身高170cm，BMI22.5。",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_are_not_personal_data(text: str) -> None:
    assert find_pii(text) == [], kinds_of(text)


def test_english_behaviour_unchanged_on_samples() -> None:
    # guards differ only next to CJK characters; English text gives the old answers
    assert kinds_of("card 4111 1111 1111 1111 on file") == [("card", "4111 1111 1111 1111")]
    assert kinds_of("order 13812345678 shipped") == []              # bare 11 digits without context: not a phone, as before
    assert kinds_of("reach +8613912345670") == [("phone", "+8613912345670")]
    assert kinds_of("from 192.168.1.20 at noon") == [("ip", "192.168.1.20")]
    assert kinds_of("order 6222021234567890128 shipped") == [("card", "6222021234567890128")]  # no IIN/label rule in English
    assert mask_text("Patient Abigail O'Brien, tel 555-0177") == "Patient [NAME], tel [PHONE]"
    # one deliberate change, in every language: a date with a clock time is not a grouped phone number
    assert kinds_of("seen 2024-03-10 18:39 today") == []


# ------------------------------------------------------------------ generated corpus: recall and false positives

def _positive_corpus(n: int, seed: int) -> list[tuple[str, str, str]]:
    """(sentence, kind, planted value)."""
    rng = random.Random(seed)
    out: list[tuple[str, str, str]] = []
    for _ in range(n):
        kind = rng.choice(["cn_id", "mobile", "landline", "card", "cn_passport", "email", "ip", "name", "cn_address"])
        if kind == "cn_id":
            value = make_id(rng)
            if rng.random() < 0.2 and value.endswith("X"):
                value = value[:-1] + "x"
            text = rng.choice(["患者身份证号{v}，已核实。", "身份证：{v}。", "证件号码{v}（居民身份证）", "其身份证{v}已登记", "ID号{v}，"]).format(v=value)
            out.append((text, "cn_id", value))
        elif kind == "mobile":
            mobile = make_mobile(rng)
            sep = rng.choice(["", " ", "-"])
            body = sep.join((mobile[:3], mobile[3:7], mobile[7:]))
            value = rng.choice(["", "+86", "+86 ", "0086", "0086-", "86"]) + body
            text = rng.choice(["手机{v}，请联系家属。", "联系电话：{v}。", "请拨打{v}联系患者", "家属电话{v}", "手机号码为{v}。"]).format(v=value)
            out.append((text, "phone", value))
        elif kind == "landline":
            if rng.random() < 0.4:
                area, local = rng.choice(["010", "020", "021", "022", "023", "024", "025", "027", "028", "029"]), f"{rng.randint(2000_0000, 8999_9999)}"
            else:
                area, local = f"0{rng.randint(3, 9)}{rng.randint(10, 99)}", str(rng.randint(200_0000, 899_9999) if rng.random() < 0.5 else rng.randint(2000_0000, 8999_9999))
            value = rng.choice([f"{area}-{local}", f"({area}){local}", f"{area} {local}", f"{area}-{local}转{rng.randint(1, 9999)}"])
            text = rng.choice(["座机：{v}。", "科室电话{v}，", "总机{v}，夜间值班", "联系电话：{v}"]).format(v=value)
            out.append((text, "phone", value))
        elif kind == "card":
            prefix, length = rng.choice([("62", 16), ("62", 19), ("4", 16), ("51", 16), ("55", 16), ("622", 18)])
            number = make_card(rng, prefix, length)
            value = rng.choice([number, group4(number, " "), group4(number, "-")])
            text = rng.choice(["银行卡号{v}，", "卡号：{v}。", "退款至{v}账户", "请核对银行卡{v}"]).format(v=value)
            out.append((text, "card", value))
        elif kind == "cn_passport":
            value = rng.choice(["E", "G"]) + f"{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.7 else (
                "E" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + f"{rng.randint(0, 9_999_999):07d}")
            text = rng.choice(["护照号码：{v}，", "持护照{v}入境", "护照号{v}。", "外籍？否，护照{v}"]).format(v=value)
            out.append((text, "cn_passport", value))
        elif kind == "email":
            user = rng.choice(["zhangwei", "li.na", "wang_fang", "chen88", "liu.yang2020", "xiaoming"]) + str(rng.randint(1, 999))
            value = f"{user}@{rng.choice(['163.com', 'qq.com', '126.com', 'example.cn', 'hospital.org.cn'])}"
            text = rng.choice(["邮箱{v}，", "结果已发送至{v}。", "电子邮件：{v}联系", "邮箱：{v}（工作）"]).format(v=value)
            out.append((text, "email", value))
        elif kind == "ip":
            value = ".".join(str(rng.randint(1, 254)) for _ in range(4)) if rng.random() < 0.8 else f"2001:db8::{rng.randint(1, 0xffff):x}"
            text = rng.choice(["登录IP：{v}，", "IP地址{v}异常", "来自{v}的访问。"]).format(v=value)
            out.append((text, "ip", value))
        elif kind == "name":
            value = make_name(rng)
            text = rng.choice(["患者{v}，男，45岁。", "患者{v}因胸痛入院。", "患者{v}自述头痛3天。", "患者{v}今日复诊。", "患者{v}于昨日入院。",
                               "患者{v}诉胸闷。", "患者{v}咳嗽3天。", "患者{v}反复发热。", "患者{v}进行CT检查。", "患者：{v}（女，32岁）",
                               "姓名：{v}", "姓名 {v}，性别女", "联系人：{v}，电话见下", "联系人{v}（女儿）", "家属{v}陪同就诊。", "家属：{v}。",
                               "主治医师：{v}。", "主治医师{v}查房", "医生：{v}", "医生{v}查看患者后", "病人{v}发热2天",
                               "{v}先生今日复诊。", "{v}女士陪同。", "请{v}小姐到3号诊室。", "{v}医生已会诊。", "感谢{v}老师。",
                               "{v}同志，", "{v}患者，男，60岁。"]).format(v=value)
            out.append((text, "name", value))
        else:
            value = make_address(rng)
            text = rng.choice(["住址：{v}。", "现住{v}，", "家住{v}，独居。", "户籍地址：{v}"]).format(v=value)
            out.append((text, "cn_address", value))
    return out


# Ordinary clinical words, many starting with a surname character (于, 高, 黄, 平, 曾, 全, 常, 凌...).
AFTER_LEAD = """主诉 自述 自诉 诉 无 否认 于今日 于昨日 于3天前 于门诊 于外院 于入院后 今日 今晨 昨日 因 既往 出现 感到 高热 高烧
    高血压 黄疸 平素 明显 全身 安静 常感 时有 曾于 曾经 目前 近期 近日 神志清 精神差 一般情况可 饮食可 睡眠差 体温 血压 心率 呼吸
    意识 病情 入院后 来院 就诊 诊断为 系 男性 女性 及家属 本人 拒绝 同意 要求 表示 情绪 服用 口服 长期 反复 持续 突发 左侧 右侧
    双侧 双下肢 术后 仍 再次 多次 偶有 尚可 既往史 家族史 查体 应 需 可 已 未 经治疗 好转 配合 依从性 出院 住院 转入 由 被 自行
    陪同 在家 白细胞 血常规 心电图 行 接受 予 给予 监测 卧床 进食 活动 夜间 晨起 午后 凌晨 上午 下午 晚上 周末 体重 文化程度 职业
    籍贯 住址 现 血糖 肝功能 签字 商量 谈话 建议 告知 考虑 查房 高度怀疑 会诊""".split()
BEFORE_PATIENT = """高血压 糖尿病 冠心病 肺炎 哮喘 肿瘤 乳腺癌 肝癌 老年 老年男性 中年 青年 儿童 成年 孕妇 危重 重症 门诊 住院 急诊 术后 透析
    化疗 骨折 外伤 烧伤 中毒 发热 新冠 帕金森 艾滋病 痛风 房颤 心衰 脑梗 过敏 贫血 黄疸 该 此 同病房 邻床 本院 外院 其他 所有 部分
    一名 高危 高龄 晚期 康复期 精神病 结核病 抑郁症""".split()
BEFORE_TITLE = """主治 主管 值班 实习 接诊 首诊 管床 上级 科室 门诊 急诊 专科 全科 家庭 社区 外科 内科 儿科 眼科 骨科 中医 麻醉 康复
    放射科 语文 数学 英语 音乐 历史 体育 班主任 这位 那位 一位 各位 年轻 好 向 给 问 找 叫 当 做 跟 对 被 让 告诉""".split()
SYMPTOMS = ["头痛", "胸闷气短", "腹痛伴腹泻", "发热咳嗽", "乏力纳差", "头晕", "恶心呕吐", "双下肢水肿", ""]


def _lookalike_corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        kind = rng.randrange(12)
        if kind == 0:  # ID with a wrong check character
            out.append(f"身份证号{_bad_check(make_id(rng))}，")
        elif kind == 1:  # ID with an impossible date
            good = make_id(rng)
            bad = good[:6] + rng.choice([f"{rng.randint(1900, 2000)}0230", f"{rng.randint(1900, 2000)}13{rng.randint(1, 28):02d}",
                                         f"{rng.randint(1900, 2000)}0{rng.randint(1, 9)}00", f"{datetime.date.today().year + 1}0101"]) + good[14:17]
            out.append(f"身份证号{bad + id_check_char(bad)}，")
        elif kind == 2:  # ID with no province
            good = make_id(rng)
            bad = rng.choice(["00", "10", "19", "20", "24", "30", "38", "40", "47", "55", "60", "66", "70", "80", "90", "99"]) + good[2:17]
            out.append(f"身份证号{bad + id_check_char(bad)}，")
        elif kind == 3:  # card failing Luhn
            number = make_card(rng, rng.choice(["62", "4", "51"]), 16)
            bad = number[:-1] + str((int(number[-1]) + rng.randint(1, 9)) % 10)
            out.append(f"卡号{rng.choice([bad, group4(bad, ' ')])}，")
        elif kind == 4:  # 10-digit numbers, order / waybill numbers
            digits = "".join(str(rng.randint(0, 9)) for _ in range(10))
            out.append(rng.choice([f"检验条码{digits}，", f"订单号：{make_mobile(rng)}，", f"订单号{make_card(rng, '62', 16)}。",
                                   f"流水号2023{digits}", f"快递单号SF{digits}。"]))
        elif kind == 5:  # dates
            out.append(f"患者于{rng.randint(2000, 2024)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日入院，{rng.randint(2000, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}复查。")
        elif kind == 6:  # vitals and labs
            out.append(f"血压{rng.randint(90, 180)}/{rng.randint(50, 110)}mmHg，体温{rng.randint(36, 40)}.{rng.randint(0, 9)}℃，"
                       f"心率{rng.randint(50, 130)}次/分，白细胞{rng.randint(3, 20)}.{rng.randint(0, 9)}×10^9/L。")
        elif kind == 7:  # passport shapes without 护照
            out.append(f"产品型号{rng.choice('EG')}{rng.randint(0, 99_999_999):08d}，批号E{rng.choice('ABCD')}{rng.randint(0, 9_999_999):07d}。")
        elif kind == 8:  # words after a lead (患者, 家属, 医生...) and before a title that are not names
            symptom = rng.choice(SYMPTOMS)
            out.append(rng.choice([
                f"{rng.choice(['患者', '病人', '家属', '医生'])}{rng.choice(AFTER_LEAD)}{symptom}，建议复查。",
                f"{rng.choice(BEFORE_PATIENT)}患者{symptom}，需定期随访。",
                f"{rng.choice(BEFORE_TITLE)}{rng.choice(['医生', '老师', '先生', '女士', '同志', '小姐'])}表示同意。",
            ]))
        elif kind == 9:  # place words that are not an address
            out.append(rng.choice(["市区医院就诊。", "区域医疗中心转诊。", "住院部3号楼5层12床。", "患者来自农村地区。", "门诊2号诊室。",
                                   f"第{rng.randint(1, 99)}号文件。"]))
        elif kind == 10:  # doses and durations
            out.append(f"服用阿司匹林{rng.choice([75, 100])}mg，每日{rng.randint(1, 3)}次，共{rng.randint(3, 90)}天。")
        else:  # times, versions
            out.append(f"时间{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00，版本{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}。")
    return out


def measure(n: int = 2000, seed: int = 7) -> tuple[dict[str, float], float, int]:
    """Recall per kind on planted values, false-positive rate on look-alike sentences."""
    hits: dict[str, list[int]] = {}
    for text, kind, value in _positive_corpus(n, seed):
        start = text.index(value)
        end = start + len(value)
        found = any(m.kind == kind and m.start <= start and end <= m.end for m in find_pii(text))
        hits.setdefault(kind, []).append(int(found))
    recall = {kind: sum(v) / len(v) for kind, v in sorted(hits.items())}
    recall["all"] = sum(sum(v) for v in hits.values()) / sum(len(v) for v in hits.values())
    lookalikes = _lookalike_corpus(n, seed)
    false_positives = sum(1 for text in lookalikes if find_pii(text))
    return recall, false_positives / len(lookalikes), len(lookalikes)


def test_recall_and_false_positive_rate_on_a_generated_corpus() -> None:
    recall, fp_rate, _ = measure()
    assert recall["all"] >= 0.95, recall
    assert all(r >= 0.95 for r in recall.values()), recall
    assert fp_rate <= 0.02, fp_rate


def test_scan_of_chinese_notes_is_fast() -> None:
    import time
    texts = [t for t, _, _ in _positive_corpus(3000, 1)] + _lookalike_corpus(3000, 1)
    started = time.perf_counter()
    for t in texts:
        find_pii(t)
    assert time.perf_counter() - started < 5.0


if __name__ == "__main__":  # python tests/test_pii_zh.py: print the measured numbers
    r, fp, n = measure()
    print("recall:", {k: round(v, 4) for k, v in r.items()})
    print(f"look-alike false-positive rate: {fp:.4f} on {n} sentences")


def test_chinese_record_numbers_are_medical_record_numbers_like_an_english_mrn() -> None:
    from harness.text.pii import find_pii

    for text, value in [("门诊号：2019123456，患者主诉胸痛", "2019123456"), ("住院号 2020654321。", "2020654321"), ("病历号A1234567。", "A1234567")]:
        found = find_pii(text)
        assert [(m.kind, text[m.start:m.end]) for m in found] == [("mrn", value)]
    assert find_pii("门诊复查，血压140/90mmHg") == []


def test_harness_anonymize_masks_chinese_personal_data_and_keeps_look_alikes(tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    source = tmp_path / "notes.csv"
    source.write_text(
        "text\n患者张伟，男，65岁，身份证号110101199003074514，手机138 1234 5678，住址北京市朝阳区建国路88号3栋2单元501室。\n"
        "标本条码110101199003074515，血压150/95mmHg。\n",
        encoding="utf-8",
    )
    harness = Path(sys.executable).with_name("harness")
    done = subprocess.run([str(harness), "anonymize", str(source), "-o", str(tmp_path / "out.csv")], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1] == "患者[NAME]，男，65岁，身份证号[CN_ID]，手机[PHONE]，住址[CN_ADDRESS]。"
    assert lines[2] == "标本条码110101199003074515，血压150/95mmHg。"  # wrong check character: not an identity number
