"""Word lists for synthetic Chinese names (communities, roads, compounds, persons, organisations)."""

from __future__ import annotations

import numpy as np

PLACE_WORDS = list(
    "青年 白云 文峰 解放 烈山 季梁 编钟 七里 沿河 新街 交通 城南 明珠 清河 新华 和平 龙门 紫阳 八角 擂鼓 "
    "星光 丰收 东岳 南关 北关 西关 望城 福源 太平 长岗 金桥 银河 桃园 杏林 柳林 松林 竹园 花园 兴隆 永安 "
    "双龙 三里 五里 十里 高庙 河湾 水库 岗头 山前 湖滨 溪口 桥头 庙前 店子 新塆 老屋 黄土 红星 光明 胜利 "
    "建设 友谊 团结 先锋 曙光 朝阳 前进 幸福 民主 中山 东风 五四 迎宾 凤凰 麒麟 玉泉 金山 银山 铁山 石门".split()
)
ROAD_SUFFIX = ["路", "大道", "街", "巷"]
COMPOUND_SUFFIX = ["小区", "花园", "家园", "苑", "公寓", "新村", "佳苑", "雅居"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯鹏飞鑫波辉琳晨欣怡子轩梓涵")
ORG_WORDS = list("华兴 恒通 鑫源 盛达 宏远 金鼎 天瑞 永信 博雅 锦程 众诚 汇丰 瑞祥 弘毅 嘉禾 泰和 隆昌 信达 远航 创新".split())
ORG_KIND = ["商贸有限公司", "科技有限公司", "建筑工程有限公司", "餐饮管理有限公司", "物业服务有限公司", "汽车销售服务有限公司",
            "农业专业合作社", "医药连锁有限公司", "教育咨询有限公司", "个体工商户", "社区卫生服务站", "幼儿园"]


def unique_place_names(rng: np.random.Generator, n: int, suffix) -> np.ndarray:
    """``n`` distinct names: one or two place words plus a suffix (a string or an array), then 2期, 3期 ... when needed."""
    words = np.array(PLACE_WORDS)
    singles = words
    doubles = np.char.add(words[:, None], words[None, :]).ravel()
    doubles = doubles[np.char.str_len(doubles) <= 4]
    pool = np.concatenate([rng.permutation(singles), rng.permutation(doubles)])
    i = np.arange(n)
    names = np.char.add(pool[i % len(pool)], np.asarray(suffix, dtype=str)) if n else np.array([], dtype=str)
    phase = i // len(pool)
    if (phase > 0).any():  # more names than stems: 二期, 三期, ... keep them distinct
        names = np.where(phase > 0, np.char.add(np.char.add(names, (phase + 1).astype(str)), "期"), names)
    return names


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` synthetic two- or three-character Chinese personal names."""
    sur = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.35
    return np.where(two, np.char.add(sur, g1), np.char.add(np.char.add(sur, g1), g2))


def phone_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` synthetic 11-digit mainland mobile numbers."""
    prefix = np.array(["130", "133", "135", "136", "138", "139", "150", "153", "158", "177", "180", "186", "189"])
    body = rng.integers(0, 100_000_000, n)
    return np.char.add(prefix[rng.integers(0, len(prefix), n)], np.char.zfill(body.astype(str), 8))
