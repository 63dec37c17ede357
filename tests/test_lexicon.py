"""The pipeline's segmenter cuts the words jieba cuts: a cached lexicon, exactly, and with
jieba-rs cutting most runs (`Lexicon.fast_runs`), but for floating-point near-ties."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import jieba
import pytest
from jieba import finalseg

from bench.corpus import write_corpus
from flows.steps import decode as decode_step
from flows.steps import lexicon
from flows.steps.tokenize import (
    JIEBA_DICT,
    USER_DICT,
    jieba_with_user_dictionary,
    regional_lexicon,
    regional_tokenizer,
    segmenter,
)

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.fixture(scope="module")
def jieba_cut():
    return regional_tokenizer().lcut


@pytest.fixture(scope="module", params=["segmenter", "lexicon alone"])
def cut(request):
    return segmenter().lcut if request.param == "segmenter" else regional_lexicon().lcut


def seed_texts() -> list[tuple[str, str]]:
    return [
        (path.name, decode_step.decode_bytes(path.read_bytes()).text) for path in sorted(SEEDS.glob("*.txt"))
    ]


@pytest.mark.parametrize(("name", "text"), seed_texts(), ids=lambda v: v[:12] if isinstance(v, str) else "")
def test_cuts_the_seed_pages_as_jieba_does(cut, jieba_cut, name, text):
    # Whole pages (line breaks, boilerplate, pinyin, Traditional pages as they arrive) and
    # line by line.
    assert cut(text) == jieba_cut(text), name
    lines = text.splitlines()
    assert [cut(line) for line in lines] == [jieba_cut(line) for line in lines]


def test_cuts_a_generated_corpus_as_jieba_does(cut, jieba_cut, tmp_path):
    write_corpus(tmp_path, 1.0, seed=21)
    pages = [p.read_text(encoding="utf-8") for p in sorted(tmp_path.glob("*.txt"))]
    assert len(pages) > 50
    differing = [i for i, page in enumerate(pages) if cut(page) != jieba_cut(page)]
    assert differing == []


def test_runs_jieba_rs_cuts_otherwise_are_cut_by_the_lexicon(jieba_cut):
    # Runs mixing Han with letters, digits and jieba's run characters (+#&._%-), where
    # jieba's HMM and jieba-rs's part ways; no Han character twice in a run, so no two
    # routes over the same words in another order (the near-ties below).
    han = sorted({c for _, text in seed_texts() for c in text if "\u4e00" <= c <= "\u9fd5"})
    rng = random.Random(5)
    runs = []
    for _ in range(20_000):
        others = rng.choices("0123456789abcXYZ+#&._%-", k=rng.randint(0, 8))
        chars = rng.sample(han, rng.randint(0, 8)) + others
        rng.shuffle(chars)
        runs.append("".join(chars))
    runs += ["2022-02-08", "1.2-3", "ab_cd", "D.GAK大", "A9-x", "3.5%的"]
    assert [segmenter().lcut(run) for run in runs] == [jieba_cut(run) for run in runs]
    assert lexicon.rust_may_differ("2022-02-08") and not lexicon.rust_may_differ("GDP增长3%")


def test_texts_jieba_rs_cuts_whole_are_cut_as_jieba_does(jieba_cut):
    # The seeds' characters with whitespace of every kind, punctuation, full-width forms
    # and the separator of the word lists, in random texts: most go to jieba-rs whole.
    chars = sorted({c for _, text in seed_texts() for c in text})
    extra = (
        list(" \t\r\n\u3000\xa0\x1f\x85\u2028，。“”、：；（）《》！？…—·×%+#&abcXYZ0123456789ＡＢ１２") * 3
    )
    rng = random.Random(11)
    texts = ["".join(rng.choices(chars + extra, k=rng.randint(1, 40))) for _ in range(5_000)]
    texts = [t.replace("\n", "\r\n") if i % 3 == 0 else t for i, t in enumerate(texts)]
    whole = [t for t in texts if lexicon.rust_cuts_whole(t)]
    assert len(whole) > 3_000
    assert [segmenter().lcut(t) for t in texts] == [jieba_cut(t) for t in texts]
    for text in ("2022-02-08", "3.5%", "a_b", "㐀中", "𠀀中", "①", "한국어"):
        assert not lexicon.rust_cuts_whole(text)


# A fresh process (the user words are added once per process), whose rjieba adds each word
# slowly: without the lock, threads asking at once for the segmenter add words while others
# already cut with it, and rjieba refuses that ("Already borrowed").
_THREADS_AT_ONCE = """
import threading, time
import rjieba
from flows.steps.tokenize import segmenter

add_word = rjieba.add_word
rjieba.add_word = lambda *args: (time.sleep(0.001), add_word(*args))[1]
errors, text = [], "牡丹区吴店镇桥口村村民魏月菊一边听着村里大喇叭播放的操作方法" * 50

def cut_a_few_times():
    try:
        for _ in range(20):
            assert segmenter().lcut(text)[:3] == ["牡丹区", "吴店镇", "桥口村"]
    except Exception as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=cut_a_few_times) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors)
"""


def test_threads_asking_for_the_segmenter_at_once_all_cut():
    # The thread runner's tokenize tasks start together.
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_AT_ONCE], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_near_tie_jieba_rs_may_take_the_other_way(jieba_cut):
    # The one difference found on the 100 MB corpus: 区 / 人人 / 人 and 区 / 人 / 人人 are
    # the same words, their log-probabilities summed in another order; jieba-rs took the
    # second, and cut 区人 by the HMM. The words differ only over those four characters.
    text = "管控区人人人公共保护和摄影展服务中心"
    ours, jiebas = segmenter().lcut(text), jieba_cut(text)
    assert regional_lexicon().lcut(text) == jiebas
    assert ours[:1] == jiebas[:1] == ["管控"] and ours[3:] == jiebas[4:]
    assert "".join(ours[1:3]) == "".join(jiebas[1:4]) == "区人人人"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\r\n\r\n\t",
        "abc def",
        "GDP增长3.5%,C++与C#各占一半。",
        "2024年7月18日上午10:30",
        "ＡＢＣ１２３全角",
        "𠀀𠀁中文𠀂",  # Han beyond jieba's U+4E00-U+9FD5 runs
        "噯噯噯噯噯噯",  # a run of characters the dictionary does not hold
        "報(bào)紙記者",  # Traditional with glued pinyin
        "。。,,!!——……",
        "克里斯蒂娜·阿吉莱拉说",
        "牡丹区吴店镇桥口村村民魏月菊",  # the user dictionary's names
        "😀中文e\u0301",
        "的的的的的的的的的的的的的的的的的的的的的的的的的",
    ],
)
def test_cuts_odd_text_as_jieba_does(cut, jieba_cut, text):
    assert cut(text) == jieba_cut(text)


def test_the_hmm_cuts_as_jiebas_finalseg_does():
    # Runs of characters the dictionary does not hold reach the HMM; random runs of the
    # seeds' characters (Han, digits, letters, punctuation) reach every state and tie.
    chars = sorted({c for _, text in seed_texts() for c in text if not c.isspace()})
    rng = random.Random(8)
    runs = ["".join(rng.choices(chars, k=rng.randint(1, 14))) for _ in range(20_000)]
    runs += ["ab12中文3.5%的", "的的的", "𠀀中", "噯噯噯噯"]
    assert [lexicon.hmm_words(run) for run in runs] == [list(finalseg.cut(run)) for run in runs]


def counting(build):
    calls = []

    def counted() -> jieba.Tokenizer:
        calls.append(1)
        return build()

    return counted, calls


def test_the_lexicon_is_built_once_then_opened_from_the_cache(tmp_path, jieba_cut):
    build, calls = counting(lambda: jieba_with_user_dictionary(USER_DICT))
    first = lexicon.cached(tmp_path, (JIEBA_DICT, USER_DICT), build)
    again = lexicon.cached(tmp_path, (JIEBA_DICT, USER_DICT), build)
    assert calls == [1]
    (saved,) = tmp_path.iterdir()  # no scratch directory left behind
    assert saved.name.startswith("lexicon-")
    text = "7月18日,牡丹区吴店镇桥口村村民魏月菊一边听着村里“大喇叭”播放的操作方法"
    assert first.lcut(text) == again.lcut(text) == jieba_cut(text)
    assert len(again.words) == len(first.words) > 340_000


def test_a_changed_user_dictionary_gets_a_lexicon_of_its_own(tmp_path):
    user_dict = tmp_path / "userdict.txt"
    shutil.copy(USER_DICT, user_dict)
    cache = tmp_path / "cache"
    text = "他在镇桥口等车"
    before = lexicon.cached(cache, (JIEBA_DICT, user_dict), lambda: jieba_with_user_dictionary(user_dict))
    assert "镇桥口" not in before.lcut(text)
    with user_dict.open("a", encoding="utf-8") as f:
        f.write("镇桥口 100000 ns\n")
    after = lexicon.cached(cache, (JIEBA_DICT, user_dict), lambda: jieba_with_user_dictionary(user_dict))
    assert "镇桥口" in after.lcut(text)
    assert after.lcut(text) == jieba_with_user_dictionary(user_dict).lcut(text)
    assert len(list(cache.iterdir())) == 2


def test_only_the_newest_lexicons_are_kept(tmp_path):
    # Each change of the user dictionary builds a lexicon of its own; the oldest go, the
    # newest stay (another checkout's among them), and the one in use still cuts.
    cache, user_dict = tmp_path / "cache", tmp_path / "userdict.txt"
    opened, built = [], []
    for n in range(lexicon.KEEP_LEXICONS + 2):
        user_dict.write_text(f"测试词{n} 100000 n\n", encoding="utf-8")
        before = set(cache.glob("lexicon-*"))
        opened.append(
            lexicon.cached(cache, (JIEBA_DICT, user_dict), lambda: jieba_with_user_dictionary(user_dict))
        )
        (new,) = set(cache.glob("lexicon-*")) - before
        os.utime(new, (n, n))  # built a second apart
        built.append(new)
    assert sorted(cache.glob("lexicon-*")) == sorted(built[2:])
    newest = lexicon.cached(cache, (JIEBA_DICT, user_dict), lambda: jieba_with_user_dictionary(user_dict))
    assert len(list(cache.iterdir())) == lexicon.KEEP_LEXICONS  # opened, not built again
    assert f"测试词{lexicon.KEEP_LEXICONS + 1}" in newest.lcut(f"他说测试词{lexicon.KEEP_LEXICONS + 1}")
    assert "测试词0" in opened[0].lcut("他说测试词0")  # removed while open: still cuts


def test_two_processes_building_at_once_keep_the_first_lexicon(tmp_path, jieba_cut):
    # The race of two workers finding no cache: while this build runs, another finishes
    # and renames its lexicon into place; this one is then dropped, not half-written.
    sources = (JIEBA_DICT, USER_DICT)

    def build_while_another_finishes() -> jieba.Tokenizer:
        lexicon.cached(tmp_path, sources, lambda: jieba_with_user_dictionary(USER_DICT))
        return jieba_with_user_dictionary(USER_DICT)

    lexicon_ = lexicon.cached(tmp_path, sources, build_while_another_finishes)
    assert [p.name.startswith("lexicon-") for p in tmp_path.iterdir()] == [True]
    assert lexicon_.lcut("牡丹区吴店镇桥口村") == jieba_cut("牡丹区吴店镇桥口村")


def test_a_damaged_lexicon_is_refused_with_the_reason(tmp_path):
    lexicon.cached(tmp_path, (JIEBA_DICT, USER_DICT), lambda: jieba_with_user_dictionary(USER_DICT))
    (saved,) = tmp_path.iterdir()
    log_prob = saved / "log_prob.f64"
    log_prob.write_bytes(log_prob.read_bytes()[:-8])
    with pytest.raises(ValueError, match="damaged lexicon"):
        lexicon.Lexicon.open(saved)
