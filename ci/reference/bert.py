"""BERT, RoBERTa / XLM-RoBERTa and DistilBERT encoders and their heads.

BERT follows transformers/models/bert/modeling_bert.py: BertEmbeddings.forward (word + token_type +
position, LayerNorm), get_extended_attention_mask (masked keys get the dtype's minimum), BertSelfAttention
(scores / sqrt(head_size)), BertSelfOutput / BertOutput (dense, then LayerNorm(x + input): post-LN),
BertIntermediate (ACT2FN[hidden_act]), BertPooler (tanh(dense(h[:, 0]))), BertLMPredictionHead
(transform: dense, act, LayerNorm; decoder tied to word_embeddings, plus cls.predictions.bias),
BertOnlyNSPHead / BertPreTrainingHeads (seq_relationship on the pooled output),
BertForSequenceClassification (classifier on the pooled output), BertForTokenClassification (classifier on
every row). RoBERTa and XLM-RoBERTa (modeling_roberta.py, modeling_xlm_roberta.py) are BERT with
create_position_ids_from_input_ids (positions start at padding_idx + 1, padding tokens get padding_idx)
and RobertaClassificationHead (dense, tanh, out_proj on h[:, 0]). DistilBERT follows
modeling_distilbert.py: Embeddings (word + position, LayerNorm eps 1e-12), MultiHeadSelfAttention
(q / sqrt(dim_per_head) before q kᵀ), TransformerBlock (sa_layer_norm(attn + x), FFN lin1 → act → lin2,
output_layer_norm(ffn + sa)). ELECTRA follows modeling_electra.py: ElectraEmbeddings (BertEmbeddings at
embedding_size: word + token_type + position, LayerNorm over embedding_size), ElectraModel's embeddings_project
(Linear(embedding_size, hidden_size)) when the two sizes differ, then BERT's layers (ElectraLayer is BertLayer), no
pooler; ElectraClassificationHead (dense, the exact gelu of get_activation("gelu"), out_proj on h[:, 0]) and
ElectraForTokenClassification (classifier on every row)."""
import numpy as np

import nn


def create_position_ids_from_input_ids(ids, padding_idx):
    """modeling_roberta.create_position_ids_from_input_ids: cumsum of the non-padding mask, times the mask, + padding_idx."""
    m = (np.asarray(ids) != padding_idx).astype(np.int64)
    return np.cumsum(m, axis=1) * m + padding_idx


def _layer(P, p, h, nh, eps, act, allowed, names):
    """One post-LN encoder layer; names maps BERT's parameter names to this family's."""
    c = h.shape[-1]
    hs = c // nh
    q = nn.heads(nn.linear(h, P[p + names["q"] + ".weight"], P[p + names["q"] + ".bias"]), nh, hs)
    k = nn.heads(nn.linear(h, P[p + names["k"] + ".weight"], P[p + names["k"] + ".bias"]), nh, hs)
    v = nn.heads(nn.linear(h, P[p + names["v"] + ".weight"], P[p + names["v"] + ".bias"]), nh, hs)
    a = nn.linear(nn.merge(nn.attention(q, k, v, hs ** -0.5, allowed)), P[p + names["o"] + ".weight"], P[p + names["o"] + ".bias"])
    h = nn.layer_norm(a + h, P[p + names["ln1"] + ".weight"], P[p + names["ln1"] + ".bias"], eps)
    f = act(nn.linear(h, P[p + names["up"] + ".weight"], P[p + names["up"] + ".bias"]))
    f = nn.linear(f, P[p + names["down"] + ".weight"], P[p + names["down"] + ".bias"])
    return nn.layer_norm(f + h, P[p + names["ln2"] + ".weight"], P[p + names["ln2"] + ".bias"], eps)


BERT_NAMES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
              "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "up": "intermediate.dense",
              "down": "output.dense", "ln2": "output.LayerNorm"}
DISTILBERT_NAMES = {"q": "attention.q_lin", "k": "attention.k_lin", "v": "attention.v_lin", "o": "attention.out_lin",
                    "ln1": "sa_layer_norm", "up": "ffn.lin1", "down": "ffn.lin2", "ln2": "output_layer_norm"}


def encode(cfg, P, ids, token_type_ids=None, attention_mask=None):
    """BertModel / RobertaModel / XLMRobertaModel (model_type decides the positions) -> last_hidden_state.
    P: names without the 'bert.' / 'roberta.' prefix, LayerNorm weights as weight/bias."""
    ids = np.asarray(ids)
    b, t = ids.shape
    eps = cfg.get("layer_norm_eps", 1e-12)
    if cfg["model_type"] in ("roberta", "xlm-roberta", "camembert"):
        pos = create_position_ids_from_input_ids(ids, cfg["pad_token_id"])
    else:
        pos = np.broadcast_to(np.arange(t), (b, t))
    tt = np.zeros_like(ids) if token_type_ids is None else np.asarray(token_type_ids)
    h = P["embeddings.word_embeddings.weight"][ids] + P["embeddings.token_type_embeddings.weight"][tt] \
        + P["embeddings.position_embeddings.weight"][pos]
    h = nn.layer_norm(h, P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], eps)
    allowed = None if attention_mask is None else nn.padding(attention_mask)
    act = nn.ACT[cfg.get("hidden_act", "gelu")]
    for i in range(cfg["num_hidden_layers"]):
        h = _layer(P, f"encoder.layer.{i}.", h, cfg["num_attention_heads"], eps, act, allowed, BERT_NAMES)
    return h


def pooler(P, h):
    """BertPooler: tanh(dense(h[:, 0]))."""
    return np.tanh(nn.linear(h[:, 0], P["pooler.dense.weight"], P["pooler.dense.bias"]))


def mlm_logits(cfg, P, h):
    """BertLMPredictionHead on every row: transform (dense, act, LayerNorm), tied decoder + cls.predictions.bias."""
    x = nn.ACT[cfg.get("hidden_act", "gelu")](nn.linear(h, P["cls.predictions.transform.dense.weight"],
                                                       P["cls.predictions.transform.dense.bias"]))
    x = nn.layer_norm(x, P["cls.predictions.transform.LayerNorm.weight"], P["cls.predictions.transform.LayerNorm.bias"],
                      cfg.get("layer_norm_eps", 1e-12))
    return x @ P["embeddings.word_embeddings.weight"].T + P["cls.predictions.bias"]


def nsp_logits(P, pooled):
    return nn.linear(pooled, P["cls.seq_relationship.weight"], P["cls.seq_relationship.bias"])


def roberta_classification(P, h):
    """RobertaClassificationHead: dense → tanh → out_proj on h[:, 0]."""
    x = np.tanh(nn.linear(h[:, 0], P["classifier.dense.weight"], P["classifier.dense.bias"]))
    return nn.linear(x, P["classifier.out_proj.weight"], P["classifier.out_proj.bias"])


def distilbert_encode(cfg, P, ids, attention_mask=None):
    """DistilBertModel -> last_hidden_state (sinusoidal_pos_embds false: learned positions)."""
    ids = np.asarray(ids)
    t = ids.shape[1]
    h = P["embeddings.word_embeddings.weight"][ids] + P["embeddings.position_embeddings.weight"][np.arange(t)][None]
    h = nn.layer_norm(h, P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], 1e-12)
    allowed = None if attention_mask is None else nn.padding(attention_mask)
    act = nn.ACT[cfg.get("activation", "gelu")]
    for i in range(cfg["n_layers"]):
        h = _layer(P, f"transformer.layer.{i}.", h, cfg["n_heads"], 1e-12, act, allowed, DISTILBERT_NAMES)
    return h


def roberta_mlm_logits(cfg, P, h):
    """RobertaLMHead on every row: dense, gelu, layer_norm (layer_norm_eps), the tied decoder + lm_head.bias."""
    x = nn.ACT["gelu"](nn.linear(h, P["lm_head.dense.weight"], P["lm_head.dense.bias"]))
    x = nn.layer_norm(x, P["lm_head.layer_norm.weight"], P["lm_head.layer_norm.bias"], cfg.get("layer_norm_eps", 1e-5))
    return x @ P["embeddings.word_embeddings.weight"].T + P["lm_head.bias"]


def distilbert_mlm_logits(cfg, P, h):
    """DistilBertForMaskedLM on every row: vocab_transform, the config's activation, vocab_layer_norm (eps 1e-12 as
    the class fixes it), vocab_projector + vocab_projector.bias. PreTrainedModel.tie_weights ties vocab_projector
    (get_output_embeddings) to the word embeddings only when tie_word_embeddings (default true); otherwise the
    stored vocab_projector.weight is the matrix."""
    x = nn.ACT[cfg.get("activation", "gelu")](nn.linear(h, P["vocab_transform.weight"], P["vocab_transform.bias"]))
    x = nn.layer_norm(x, P["vocab_layer_norm.weight"], P["vocab_layer_norm.bias"], 1e-12)
    tied = cfg.get("tie_word_embeddings", True)
    w = P["embeddings.word_embeddings.weight"] if tied else P["vocab_projector.weight"]
    return x @ w.T + P["vocab_projector.bias"]


def token_classification(P, h):
    """…ForTokenClassification (RoBERTa, DistilBERT; dropout is the identity at eval): classifier on every row."""
    return nn.linear(h, P["classifier.weight"], P["classifier.bias"])


def distilbert_classification(P, h):
    """DistilBertForSequenceClassification: pre_classifier → ReLU → classifier on h[:, 0]."""
    x = np.maximum(nn.linear(h[:, 0], P["pre_classifier.weight"], P["pre_classifier.bias"]), 0.0)
    return nn.linear(x, P["classifier.weight"], P["classifier.bias"])


def electra_encode(cfg, P, ids, token_type_ids=None, attention_mask=None):
    """ElectraModel.forward -> last_hidden_state. P: names without the 'electra.' prefix."""
    ids = np.asarray(ids)
    b, t = ids.shape
    eps = cfg.get("layer_norm_eps", 1e-12)
    tt = np.zeros_like(ids) if token_type_ids is None else np.asarray(token_type_ids)
    h = P["embeddings.word_embeddings.weight"][ids] + P["embeddings.token_type_embeddings.weight"][tt] \
        + P["embeddings.position_embeddings.weight"][np.broadcast_to(np.arange(t), (b, t))]
    h = nn.layer_norm(h, P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], eps)
    if cfg.get("embedding_size", 128) != cfg["hidden_size"]:
        h = nn.linear(h, P["embeddings_project.weight"], P["embeddings_project.bias"])
    allowed = None if attention_mask is None else nn.padding(attention_mask)
    act = nn.ACT[cfg.get("hidden_act", "gelu")]
    for i in range(cfg["num_hidden_layers"]):
        h = _layer(P, f"encoder.layer.{i}.", h, cfg["num_attention_heads"], eps, act, allowed, BERT_NAMES)
    return h


def electra_classification(P, h):
    """ElectraClassificationHead: dense → exact gelu → out_proj on h[:, 0] (dropout the identity at eval)."""
    x = nn.gelu(nn.linear(h[:, 0], P["classifier.dense.weight"], P["classifier.dense.bias"]))
    return nn.linear(x, P["classifier.out_proj.weight"], P["classifier.out_proj.bias"])
