#!/usr/bin/env python3
# Trains the tiny SentencePiece models under model/src/test/resources/spm/ and writes expected.json:
# the ids and pieces Debian's sentencepiece (spm_train / python3-sentencepiece 0.1.97) gives for each
# test string, with the special tokens and id layouts that transformers' slow tokenizers add on top
# (read from tokenization_t5.py, tokenization_llama.py, tokenization_xlm_roberta.py, tokenization_marian.py):
#   t5:    spm ids, then </s> (id 1);  <extra_id_i> = pieces + 99 - i
#   llama: <s> (id 1), then spm ids
#   xlmr:  <s>=0 <pad>=1 </s>=2 <unk>=3, spm id i>=3 -> i+1 (fairseq offset), spm unk -> 3; <s> A </s>; <mask> = pieces + 1
#   marian: source.spm / target.spm pieces -> vocab.json ids (<unk> for pieces missing there), then </s>
#   m2m100: spm pieces -> vocab.json ids (<unk> if missing); __xx__ at len(vocab.json) + i; [__src__] pieces [</s>]
# No floats go into expected.json. Run from this folder with Debian's python3 (sentencepiece + protobuf):
#   /usr/bin/python3 make_fixtures.py ../../model/src/test/resources/spm
import json, os, subprocess, sys

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus.txt")
norm = os.path.join(here, "norm.tsv")
os.makedirs(out, exist_ok=True)
tmp = "/tmp/spm-reference"
os.makedirs(tmp, exist_ok=True)

def rep(path, lines, times):
    with open(path, "w") as f:
        for _ in range(times):
            f.writelines(lines)
    return path

lines = open(corpus).readlines()
all3 = rep(f"{tmp}/all.txt", lines, 3)
src = rep(f"{tmp}/src.txt", [l for l in lines if l.startswith(("I am", "Tom", "The model", "Machine", "Sentence", "The quick", "A tok", "Hello", "Numbers", "Emojis"))], 4)
tgt = rep(f"{tmp}/tgt.txt", [l for l in lines if l.startswith(("Ich", "Der", "Das", "Je", "Le", "El", "Tabs"))], 4)

def train(name, inp, *flags):
    subprocess.run(["spm_train", f"--input={inp}", f"--model_prefix={tmp}/{name}", "--hard_vocab_limit=false", *flags],
                   check=True, capture_output=True)
    return f"{tmp}/{name}.model"

uni = ["--model_type=unigram", "--character_coverage=0.985", f"--normalization_rule_tsv={norm}"]
models = {
    "t5": train("t5", all3, *uni, "--vocab_size=300", "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1"),
    "xlmr": train("xlmr", all3, *uni, "--vocab_size=300", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1"),
    "llama": train("llama", all3, "--model_type=bpe", "--vocab_size=500", "--character_coverage=0.985",
                   "--normalization_rule_name=identity", "--remove_extra_whitespaces=false", "--byte_fallback=true",
                   "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1"),
    "llama-nofallback": train("bpe-nofallback", all3, "--model_type=bpe", "--vocab_size=250", "--character_coverage=0.985",
                   "--normalization_rule_name=identity", "--remove_extra_whitespaces=false",
                   "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1"),
    "albert": train("albert", all3, *uni, "--vocab_size=300", "--pad_id=0", "--unk_id=1", "--bos_id=-1", "--eos_id=-1",
                    "--control_symbols=[CLS],[SEP],[MASK]"),
    "xlnet": train("xlnet", all3, *uni, "--vocab_size=300", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
                   "--control_symbols=<cls>,<sep>,<pad>,<mask>,<eod>,<eop>"),
    "deberta": train("deberta", all3, *uni, "--vocab_size=300", "--pad_id=0", "--bos_id=1", "--eos_id=2", "--unk_id=3",
                     "--pad_piece=[PAD]", "--bos_piece=[CLS]", "--eos_piece=[SEP]", "--unk_piece=[UNK]"),
    "marian-source": train("source", src, "--model_type=unigram", "--vocab_size=150", "--character_coverage=0.99",
                   f"--normalization_rule_tsv={norm}", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1"),
    "marian-target": train("target", tgt, "--model_type=unigram", "--vocab_size=150", "--character_coverage=0.99",
                   f"--normalization_rule_tsv={norm}", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1"),
    "m2m100": train("m2m100", all3, "--model_type=bpe", "--vocab_size=300", "--character_coverage=0.985",
                    f"--normalization_rule_tsv={norm}", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1"),
}
files = {"t5": "t5-spiece.model", "xlmr": "xlmr-sentencepiece.bpe.model", "llama": "llama-tokenizer.model",
         "llama-nofallback": "llama-nofallback-tokenizer.model", "marian-source": "marian-source.spm",
         "marian-target": "marian-target.spm", "albert": "albert-spiece.model", "xlnet": "xlnet-spiece.model",
         "deberta": "deberta-spm.model", "m2m100": "m2m100-sentencepiece.bpe.model"}
for k, f in files.items():
    with open(models[k], "rb") as a, open(os.path.join(out, f), "wb") as b:
        b.write(a.read())

import sentencepiece as spm
sp = {k: spm.SentencePieceProcessor(model_file=v) for k, v in models.items()}

# Test strings. Unigram families (t5, xlmr, marian) strip leading whitespace in sentencepiece but not in the
# converted fast tokenizer (its Strip normalizer is right-only), so their strings never start with whitespace.
common = [
    "Hello world!", "The quick brown fox jumps over the lazy dog.", "Le café est très bon à Paris.",
    "Der Bär läuft über die Straße.", "東京は日本の首都です。", "Привет, мир!", "Emojis 🙂 and 🚀 here",
    "Numbers 3.14159 and 1000000 and 2026-12-06", "double  spaces   and    runs", "trailing spaces   ",
    "Tabs\tand\ttabs", "Full-width ＡＢＣ ｄｅｆ １２３", "Ligatures ﬁne ﬂat ½ x²", "e\u0301 versus \u00e9",
    "Ω and \u2126 ohm", "zqxj unseen qqq", "a", "", "Ich bin ein kleiner Frosch.", "I am a small frog.",
    "ideographic\u3000space", "mixed 日本 and ǅ and ß",
]
leading = ["  leading spaces", " one leading", "\tleading tab", "   "]

def pieces(k, t): return sp[k].encode(t, out_type=str)
def ids(k, t): return sp[k].encode(t)

def nounk_decode(k, t):
    # what the slow tokenizer's decode(skip_special_tokens=True) gives: sentencepiece's decode of the
    # pieces, with <unk> (a special token there) dropped
    unk = sp[k].unk_id()
    return sp[k].decode([i for i in ids(k, t) if i != unk])

ref = {"generator": "Debian sentencepiece 0.1.97 (spm_train, python3-sentencepiece); see ci/spm-reference/make_fixtures.py",
       "families": {}}

t5n = sp["t5"].get_piece_size()
ref["families"]["t5"] = {
    "file": files["t5"], "pieces": t5n, "eos": 1, "pad": 0, "unk": 2,
    "extra_id_0": t5n + 99, "extra_id_99": t5n,
    "cases": [{"text": t, "pieces": pieces("t5", t), "ids": ids("t5", t) + [1], "decoded": nounk_decode("t5", t)} for t in common]
             + [{"text": "Hello</s>", "ids": ids("t5", "Hello") + [1, 1]},
                {"text": "Hello<extra_id_0>", "ids": ids("t5", "Hello") + [t5n + 99, 1]}],
}

def xl(i):
    return 3 if i == 0 else (i + 1 if i >= 3 else {1: 0, 2: 2}[i])
xn = sp["xlmr"].get_piece_size()
ref["families"]["xlmr"] = {
    "file": files["xlmr"], "pieces": xn, "bos": 0, "pad": 1, "eos": 2, "unk": 3, "mask": xn + 1,
    "cases": [{"text": t, "pieces": pieces("xlmr", t), "ids": [0] + [xl(i) for i in ids("xlmr", t)] + [2],
               "decoded": nounk_decode("xlmr", t)} for t in common]
             + [{"text": "Hello<mask>", "ids": [0] + [xl(i) for i in ids("xlmr", "Hello")] + [xn + 1, 2]}],
    "pairs": [{"a": "Hello world!", "b": "Привет, мир!",
               "ids": [0] + [xl(i) for i in ids("xlmr", "Hello world!")] + [2, 2] + [xl(i) for i in ids("xlmr", "Привет, мир!")] + [2]}],
}

# Pegasus reads the T5-layout model (pad 0, eos 1, unk 2): tokens 0..offset-1 are pad, eos, <mask_1>, <mask_2>,
# <unk_2>..<unk_102>, and sentencepiece id i >= 2 is i + offset (PegasusTokenizer._convert_token_to_id); </s> appended.
OFF = 103
def peg(i):
    return {0: 0, 1: 1}.get(i, i + OFF)
ref["families"]["pegasus"] = {
    "file": files["t5"], "offset": OFF, "pad": 0, "eos": 1, "mask_1": 2, "mask_2": 3, "unk": 2 + OFF,
    "cases": [{"text": t, "ids": [peg(i) for i in ids("t5", t)] + [1], "decoded": nounk_decode("t5", t)} for t in common + leading]
             + [{"text": "Hello<mask_1>", "ids": [peg(i) for i in ids("t5", "Hello")] + [2, 1]}],
    "pairs": [{"a": "Hello world!", "b": "Привет, мир!",
               "ids": [peg(i) for i in ids("t5", "Hello world!") + ids("t5", "Привет, мир!")] + [1]}],
}

# ALBERT and XLNet: their slow tokenizers' steps, restated: whitespace runs to one space and stripped, `` and ''
# to ", NFKD without combining marks (keep_accents false), lower case (ALBERT's default, not XLNet's), sentencepiece,
# then a piece that ends in digit + comma is segmented again without its comma (and without a ▁ it did not have),
# the comma kept as its own piece. Texts with leading or trailing whitespace are left out: the converted fast
# tokenizers (AlbertConverter, XLNetConverter) keep a ▁ for it that these slow ones strip.
import unicodedata
def slow_pieces(k, text, lower):
    t = " ".join(text.split()).replace("``", '"').replace("''", '"')
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    if lower:
        t = t.lower()
    out = []
    for p in sp[k].encode(t, out_type=str):
        if len(p) > 1 and p.endswith(",") and p[-2].isdigit():
            again = sp[k].encode(p[:-1].replace("\u2581", ""), out_type=str)
            if not p.startswith("\u2581") and again[0].startswith("\u2581"):
                again = again[1:] if len(again[0]) == 1 else [again[0][1:]] + again[1:]
            out += again + [","]
        else:
            out.append(p)
    return out

def slow_decode(k, ps):
    # decode(skip_special_tokens=True): ids back to pieces, <unk> (special) dropped, joined, ▁ as space, stripped
    ids = [sp[k].piece_to_id(p) for p in ps]
    return "".join(sp[k].id_to_piece(i) for i in ids if i != sp[k].unk_id()).replace("\u2581", " ").strip()

commas = ["Prices rose by 1,000, 2,500, and 10,000 dollars.", "In 1999, 2000, and 2001, said ``the report''."]
plain = [t for t in common if t == t.strip()] + commas
for k, lower, fam in [("albert", True, "albert"), ("xlnet", False, "xlnet")]:
    cases = []
    for t in plain:
        ps = slow_pieces(k, t, lower)
        body = [sp[k].piece_to_id(p) for p in ps]
        if fam == "albert":
            full = [sp[k].piece_to_id("[CLS]")] + body + [sp[k].piece_to_id("[SEP]")]
        else:
            full = body + [sp[k].piece_to_id("<sep>"), sp[k].piece_to_id("<cls>")]
        cases.append({"text": t, "pieces": ps, "ids": full, "decoded": slow_decode(k, ps)})
    ref["families"][fam] = {"file": files[k], "cls": sp[k].piece_to_id("[CLS]" if fam == "albert" else "<cls>"),
                            "sep": sp[k].piece_to_id("[SEP]" if fam == "albert" else "<sep>"), "cases": cases}

# CamemBERT (CamembertTokenizer) on the XLM-R-layout model: <s>NOTUSED=0 <pad>=1 </s>NOTUSED=2 <unk>=3
# <unk>NOTUSED=4, sentencepiece id i >= 1 is i + 4 (so <s>=5, </s>=6), its unk (0) is 3; <s> A </s>; <mask> last.
def cam(i):
    return 3 if i == 0 else i + 4
ref["families"]["camembert"] = {
    "file": files["xlmr"], "bos": 5, "eos": 6, "unk": 3, "pad": 1, "mask": xn + 4,
    "cases": [{"text": t, "ids": [5] + [cam(i) for i in ids("xlmr", t)] + [6], "decoded": nounk_decode("xlmr", t)} for t in common]
             + [{"text": "Hello<mask>", "ids": [5] + [cam(i) for i in ids("xlmr", "Hello")] + [xn + 4, 6]}],
}

# mBART (MBartTokenizer): the XLM-R ids, then the 25 language codes from id pieces + 1, <mask> after them;
# A </s> src_lang (en_XX by default). mBART-50 (MBart50Tokenizer): 52 codes; src_lang A </s> (here de_DE).
MB25 = ["ar_AR", "cs_CZ", "de_DE", "en_XX", "es_XX", "et_EE", "fi_FI", "fr_XX", "gu_IN", "hi_IN", "it_IT", "ja_XX", "kk_KZ",
        "ko_KR", "lt_LT", "lv_LV", "my_MM", "ne_NP", "nl_XX", "ro_RO", "ru_RU", "si_LK", "tr_TR", "vi_VN", "zh_CN"]
MB50 = MB25 + ["af_ZA", "az_AZ", "bn_IN", "fa_IR", "he_IL", "hr_HR", "id_ID", "ka_GE", "km_KH", "mk_MK", "ml_IN", "mn_MN",
               "mr_IN", "pl_PL", "ps_AF", "pt_XX", "sv_SE", "sw_KE", "ta_IN", "te_IN", "th_TH", "tl_XX", "uk_UA", "ur_PK",
               "xh_ZA", "gl_ES", "sl_SI"]
en = xn + 1 + MB25.index("en_XX")
de50 = xn + 1 + MB50.index("de_DE")
ref["families"]["mbart"] = {
    "file": files["xlmr"], "en_XX": en, "mask": xn + 1 + len(MB25),
    "cases": [{"text": t, "ids": [xl(i) for i in ids("xlmr", t)] + [2, en], "decoded": nounk_decode("xlmr", t)} for t in common],
}
ref["families"]["mbart50"] = {
    "file": files["xlmr"], "src_lang": "de_DE", "de_DE": de50, "mask": xn + 1 + len(MB50),
    "cases": [{"text": t, "ids": [de50] + [xl(i) for i in ids("xlmr", t)] + [2], "decoded": nounk_decode("xlmr", t)} for t in common],
}

# DeBERTa v2/v3 (DebertaV2Tokenizer): lower case only with do_lower_case (false by default); with split_by_punct the
# text is cut before and after each punctuation character (ASCII non-alphanumerics and Unicode P*) and each part
# encoded on its own; pieces the vocabulary lacks are [UNK]; [CLS] A [SEP].
def is_punct(c):
    o = ord(c)
    return 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126 or unicodedata.category(c).startswith("P")

def deberta_ids(text, split):
    parts = [text]
    if split:
        parts, cur = [], ""
        for c in text:
            if is_punct(c):
                if cur:
                    parts.append(cur)
                parts.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            parts.append(cur)
    k = "deberta"
    vocab_set = {sp[k].id_to_piece(i) for i in range(sp[k].get_piece_size())}
    ps = [p for part in parts for p in sp[k].encode(part, out_type=str)]
    return [1] + [sp[k].piece_to_id(p if p in vocab_set else "[UNK]") for p in ps] + [2]

ref["families"]["deberta"] = {
    "file": files["deberta"], "cls": 1, "sep": 2, "unk": 3, "pad": 0, "mask": sp["deberta"].get_piece_size(),
    "cases": [{"text": t, "ids": deberta_ids(t, False), "decoded": nounk_decode("deberta", t)} for t in common + leading],
    "split_by_punct_cases": [{"text": t, "ids": deberta_ids(t, True)} for t in common if t == t.strip()],
}

for k in ["llama", "llama-nofallback"]:
    ref["families"][k] = {
        "file": files[k], "pieces": sp[k].get_piece_size(), "bos": 1, "eos": 2, "unk": 0,
        "cases": [{"text": t, "pieces": pieces(k, t), "ids": [1] + ids(k, t), "decoded": nounk_decode(k, t)} for t in common + leading]
                 + [{"text": "Hello</s>", "ids": [1] + ids(k, "Hello") + [2]}],
    }

# Marian vocab.json: </s>=0, <unk>=1, then the target pieces and the source pieces (shared, as in opus-mt), a
# language code, <pad> last; a few source pieces are left out so that they map to <unk>.
src_p = [sp["marian-source"].id_to_piece(i) for i in range(sp["marian-source"].get_piece_size())]
tgt_p = [sp["marian-target"].id_to_piece(i) for i in range(sp["marian-target"].get_piece_size())]
dropped = [p for p in src_p[3:] if p not in tgt_p][-5:]
vocab = {"</s>": 0, "<unk>": 1}
for p in tgt_p[3:] + src_p[3:]:
    if p not in vocab and p not in dropped:
        vocab[p] = len(vocab)
vocab[">>de<<"] = len(vocab)
vocab["<pad>"] = len(vocab)
with open(os.path.join(out, "marian-vocab.json"), "w", encoding="utf-8") as f:
    json.dump(vocab, f, ensure_ascii=False, indent=0)

def marian(side, t):
    code = []
    if t.startswith(">>") and "<<" in t:
        e = t.find("<<") + 2
        code, t = [t[:e]], t[e:]
    ps = code + sp["marian-" + side].encode(t, out_type=str)
    return ps, [vocab.get(p, 1) for p in ps] + [0]

inverse = {i: p for p, i in vocab.items()}

def marian_decode(side, ids):
    # MarianTokenizer.decode(ids, skip_special_tokens=True): ids -> vocab.json pieces, the special ones dropped,
    # then convert_tokens_to_string (the target spm's decode_pieces, which joins pieces it does not know as they are)
    keep = [inverse[i] for i in ids if inverse[i] not in ("</s>", "<unk>", "<pad>")]
    return sp["marian-target"].decode_pieces(keep).replace("▁", " ").strip()

msrc = common + leading + ["I am a small frog. Tom asked his teacher for advice.", ">>de<< The weather is nice today."]
ref["families"]["marian"] = {
    "source": files["marian-source"], "target": files["marian-target"], "vocab": "marian-vocab.json",
    "eos": 0, "unk": 1, "pad": vocab["<pad>"], "dropped": dropped,
    "source_cases": [dict(zip(("text", "pieces", "ids"), (t, *marian("source", t))), decoded=marian_decode("source", marian("source", t)[1])) for t in msrc],
    "target_cases": [dict(zip(("text", "pieces", "ids"), (t, *marian("target", t))), decoded=marian_decode("target", marian("target", t)[1])) for t in common],
}

# M2M100 (M2M100Tokenizer, slow only): the spm model's pieces (sp_model.encode(text, out_type=str)) mapped through
# vocab.json (encoder; a piece it lacks is encoder["<unk>"]); the 100 m2m100 language tokens __xx__ at len(encoder) + i,
# then num_madeup_words (8) ids with no token of their own (vocab_size = len(encoder) + 100 + 8); input ids are
# [id of __src_lang__] + pieces + [</s>] (set_src_lang_special_tokens; src_lang "en" by default), target ids the same
# with tgt_lang; decode(skip_special_tokens=True) drops <s> </s> <pad> <unk> and the language tokens (an id with no
# token reads as <unk>) and gives the rest to sp_model.decode. vocab.json is laid out as fairseq's dictionary: <s> 0,
# <pad> 1, </s> 2, <unk> 3, then the pieces (here in reverse spm order, so that no spm id + offset rule can match),
# without the longer pieces of "Straße" and without "q", so that those read as <unk>.
M2M_CODES = ["af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "ceb", "cs", "cy", "da", "de", "el", "en",
             "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "he", "hi", "hr", "ht", "hu", "hy", "id", "ig",
             "ilo", "is", "it", "ja", "jv", "ka", "kk", "km", "kn", "ko", "lb", "lg", "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn",
             "mr", "ms", "my", "ne", "nl", "no", "ns", "oc", "or", "pa", "pl", "ps", "pt", "ro", "ru", "sd", "si", "sk", "sl", "so",
             "sq", "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn", "tr", "uk", "ur", "uz", "vi", "wo", "xh", "yi", "yo", "zh", "zu"]
assert len(M2M_CODES) == 100
m2m_sp = sp["m2m100"]
m2m_pieces = [m2m_sp.id_to_piece(i) for i in range(m2m_sp.get_piece_size())]
m2m_dropped = sorted({p for p in m2m_sp.encode("Straße", out_type=str) if len(p) > 1} | {"q"})
m2m_vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
for p in reversed(m2m_pieces[3:]):
    if p not in m2m_vocab and p not in m2m_dropped:
        m2m_vocab[p] = len(m2m_vocab)
with open(os.path.join(out, "m2m100-vocab.json"), "w", encoding="utf-8") as f:
    json.dump(m2m_vocab, f, ensure_ascii=False, indent=0)
m2m_n = len(m2m_vocab)
m2m_lang = {f"__{c}__": m2m_n + i for i, c in enumerate(M2M_CODES)}
m2m_inv = {i: p for p, i in m2m_vocab.items()}
m2m_inv.update({i: t for t, i in m2m_lang.items()})
m2m_special = {"<s>", "</s>", "<pad>", "<unk>"} | set(m2m_lang)

def m2m_ids(t, lang):
    ps = m2m_sp.encode(t, out_type=str)
    return ps, [m2m_lang[f"__{lang}__"]] + [m2m_vocab.get(p, m2m_vocab["<unk>"]) for p in ps] + [m2m_vocab["</s>"]]

def m2m_decode(ids):
    return m2m_sp.decode([m2m_inv.get(i, "<unk>") for i in ids if m2m_inv.get(i, "<unk>") not in m2m_special])

def m2m_case(t, lang):
    ps, ids_ = m2m_ids(t, lang)
    return {"text": t, "pieces": ps, "ids": ids_, "decoded": m2m_decode(ids_)}

m2m_texts = common + leading + ["Der Bär läuft über die Straße, quasi.", "Emojis 🙂🚀 東京 ǅΩ"]
ref["families"]["m2m100"] = {
    "file": files["m2m100"], "vocab": "m2m100-vocab.json", "encoder_size": m2m_n, "bos": 0, "pad": 1, "eos": 2, "unk": 3,
    "dropped": m2m_dropped, "__af__": m2m_lang["__af__"], "__en__": m2m_lang["__en__"], "__fr__": m2m_lang["__fr__"],
    "__de__": m2m_lang["__de__"], "__zu__": m2m_lang["__zu__"], "madeup_first": m2m_n + 100, "vocab_size": m2m_n + 108,
    "cases": [m2m_case(t, "en") for t in m2m_texts],
    "fr_cases": [m2m_case(t, "fr") for t in ["Le café est très bon à Paris.", "Hello world!", ""]],
    "de_target_cases": [m2m_case(t, "de") for t in ["Der Bär läuft über die Straße.", "Ich bin ein kleiner Frosch."]],
    "decode_cases": [{"ids": ids_, "decoded": m2m_decode(ids_)} for ids_ in [
        [m2m_lang["__fr__"], m2m_n + 100, m2m_vocab["</s>"]],
        m2m_ids("Hello world!", "en")[1] + [m2m_n + 107, m2m_lang["__zu__"], 1, 0] + m2m_ids("Привет, мир!", "ru")[1]]],
}

def compact(x):
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"))

# one case per line, to keep the file small and its diffs readable
with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
    f.write('{"generator":' + compact(ref["generator"]) + ',\n"families":{\n')
    fams = list(ref["families"].items())
    for n, (name, fam) in enumerate(fams):
        f.write(compact(name) + ":{\n")
        items = list(fam.items())
        for m, (k, v) in enumerate(items):
            end = ",\n" if m < len(items) - 1 else "\n"
            if isinstance(v, list) and v and isinstance(v[0], dict):
                f.write(compact(k) + ":[\n" + ",\n".join(compact(c) for c in v) + "]" + end)
            else:
                f.write(compact(k) + ":" + compact(v) + end)
        f.write("}" + (",\n" if n < len(fams) - 1 else "\n"))
    f.write("}}\n")
print("wrote", out)
