"""ALBERT: the encoder, its pooler and heads, in float64.

Follows transformers/models/albert/modeling_albert.py (read in its 4.5x form, auto_docstring era; the math is the same
back to 4.x's first releases but for AlbertMLMHead's LayerNorm eps, see mlm_logits):

- AlbertEmbeddings.forward: word + token_type + position embeddings, all at embedding_size (positions
  arange(T), token types 0 when not given; position_embedding_type "absolute" only), LayerNorm(embedding_size,
  layer_norm_eps); no projection here.
- AlbertTransformer.forward: embedding_hidden_mapping_in, an nn.Linear(embedding_size, hidden_size) applied
  ALWAYS (unlike ELECTRA's embeddings_project, which exists only when the two sizes differ); then for each
  i in range(num_hidden_layers) the group albert_layer_groups[int(i / (num_hidden_layers / num_hidden_groups))]
  (a float division, truncated: group_index), and each group (AlbertLayerGroup) applies ALL its inner_group_num
  AlbertLayers in order. Parameters are shared: 12 layers of albert-base-v2 (1 group, 1 inner layer) are one
  set of weights applied 12 times.
- AlbertLayer.forward: AlbertAttention (query, key, value; scores · head_size**-0.5, masked keys at the dtype's
  minimum (4.x before the attention interfaces: -10000), softmax, · value, heads merged, dense, then
  attention.LayerNorm(hidden_states + dense(ctx)): post-LN), then ffn (hidden → intermediate), ACT2FN[hidden_act]
  (albert-base-v2: gelu_new, the tanh approximation), ffn_output (intermediate → hidden), then
  full_layer_layer_norm(ffn_output + attention_output). Dropout is the identity at eval.
- AlbertModel.forward: pooler = tanh(pooler(h[:, 0])) (an nn.Linear named `albert.pooler`, no `.dense`).
- AlbertForSequenceClassification: classifier(pooled_output) (no extra dense layer).
- AlbertMLMHead (AlbertForMaskedLM's `predictions`): dense (hidden → embedding_size), ACT2FN[hidden_act],
  LayerNorm(embedding_size, eps=layer_norm_eps), decoder (embedding_size → vocab) whose weight is tied to
  albert.embeddings.word_embeddings.weight and whose bias IS predictions.bias (self.decoder.bias = self.bias).

transformers computes nothing here in float32 beyond the model dtype."""
import numpy as np

import nn


def group_index(num_hidden_layers, num_hidden_groups, i):
    """AlbertTransformer.forward: group_idx = int(i / (num_hidden_layers / num_hidden_groups)), float division."""
    return int(i / (num_hidden_layers / num_hidden_groups))


def plan(cfg):
    """The parameter prefixes (relative to albert.) of every AlbertLayer application, in order."""
    n, g, inner = cfg["num_hidden_layers"], cfg.get("num_hidden_groups", 1), cfg.get("inner_group_num", 1)
    return [f"encoder.albert_layer_groups.{group_index(n, g, i)}.albert_layers.{j}." for i in range(n) for j in range(inner)]


def embed(cfg, P, ids, token_type_ids=None):
    """AlbertEmbeddings.forward -> (B, T, embedding_size)."""
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(f"position_embedding_type {cfg['position_embedding_type']!r}: only absolute is followed here")
    ids = np.asarray(ids)
    b, t = ids.shape
    tt = np.zeros_like(ids) if token_type_ids is None else np.asarray(token_type_ids)
    h = P["embeddings.word_embeddings.weight"][ids] + P["embeddings.token_type_embeddings.weight"][tt] \
        + P["embeddings.position_embeddings.weight"][np.broadcast_to(np.arange(t), (b, t))]
    return nn.layer_norm(h, P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], cfg.get("layer_norm_eps", 1e-12))


def layer(cfg, P, p, h, allowed):
    """AlbertLayer.forward with the parameters under prefix p."""
    nh = cfg["num_attention_heads"]
    hs = cfg["hidden_size"] // nh
    eps = cfg.get("layer_norm_eps", 1e-12)
    a = p + "attention."
    q = nn.heads(nn.linear(h, P[a + "query.weight"], P[a + "query.bias"]), nh, hs)
    k = nn.heads(nn.linear(h, P[a + "key.weight"], P[a + "key.bias"]), nh, hs)
    v = nn.heads(nn.linear(h, P[a + "value.weight"], P[a + "value.bias"]), nh, hs)
    ctx = nn.merge(nn.attention(q, k, v, hs ** -0.5, allowed))
    att = nn.layer_norm(h + nn.linear(ctx, P[a + "dense.weight"], P[a + "dense.bias"]),
                        P[a + "LayerNorm.weight"], P[a + "LayerNorm.bias"], eps)
    f = nn.ACT[cfg.get("hidden_act", "gelu_new")](nn.linear(att, P[p + "ffn.weight"], P[p + "ffn.bias"]))
    f = nn.linear(f, P[p + "ffn_output.weight"], P[p + "ffn_output.bias"])
    return nn.layer_norm(f + att, P[p + "full_layer_layer_norm.weight"], P[p + "full_layer_layer_norm.bias"], eps)


def encode(cfg, P, ids, token_type_ids=None, attention_mask=None, layers=None):
    """AlbertModel.forward -> last_hidden_state. P: names without the 'albert.' prefix. layers: the prefixes to apply
    (default plan(cfg)), for the selfcheck's variants."""
    h = nn.linear(embed(cfg, P, ids, token_type_ids), P["encoder.embedding_hidden_mapping_in.weight"],
                  P["encoder.embedding_hidden_mapping_in.bias"])
    allowed = None if attention_mask is None else nn.padding(attention_mask)
    for p in plan(cfg) if layers is None else layers:
        h = layer(cfg, P, p, h, allowed)
    return h


def pooler(P, h):
    """AlbertModel: pooler_activation(pooler(h[:, 0])) = tanh(Linear)."""
    return np.tanh(nn.linear(h[:, 0], P["pooler.weight"], P["pooler.bias"]))


def classification(P, pooled):
    """AlbertForSequenceClassification: classifier on the pooled output (dropout the identity at eval)."""
    return nn.linear(pooled, P["classifier.weight"], P["classifier.bias"])


def mlm_logits(cfg, P, h, eps=None):
    """AlbertMLMHead on every row: dense, ACT2FN[hidden_act], LayerNorm(embedding_size) with eps = layer_norm_eps
    (4.x releases before the change passed no eps: torch's 1e-5; `eps` overrides for the selfcheck), then the decoder
    tied to the word embeddings, plus predictions.bias (= predictions.decoder.bias, one Parameter)."""
    x = nn.ACT[cfg.get("hidden_act", "gelu_new")](nn.linear(h, P["predictions.dense.weight"], P["predictions.dense.bias"]))
    x = nn.layer_norm(x, P["predictions.LayerNorm.weight"], P["predictions.LayerNorm.bias"],
                      cfg.get("layer_norm_eps", 1e-12) if eps is None else eps)
    return x @ P["embeddings.word_embeddings.weight"].T + P["predictions.bias"]
