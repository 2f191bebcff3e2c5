"""Token embeddings and contextual embeddings（词元嵌入与上下文嵌入）.

    H.nearest_tokens(model, tokenizer, " king", k=8)   # neighbours in the input embedding matrix
    H.word_vector(bert, tokenizer, "I sat by the river bank.", "bank")   # a hidden state in context
"""

from __future__ import annotations

import numbers
import unicodedata
from dataclasses import dataclass

from .checks import int_in
from .render import HtmlView, content_id, esc
from .tokens import MAX_ID, Piece, check_text, check_tokenizer, token_pieces

MAX_ROWS = 200  # nearest_tokens shows at most this many neighbours; nearest_token_list returns them all


class NotOneTokenError(ValueError):
    """The text given as a token is several tokens (or none) in this vocabulary."""


def token_id(tokenizer, token) -> int:
    """The id of a single token given as an id (numpy ints too) or as text; NotOneTokenError names the pieces."""
    if isinstance(token, bool) or not isinstance(token, (numbers.Integral, str)):
        raise TypeError(f"token must be a str such as ' Paris' or an int id, got {type(token).__name__}")
    tokenizer = check_tokenizer(tokenizer)
    if isinstance(token, numbers.Integral):
        token = int(token)
        if not 0 <= token <= MAX_ID or tokenizer.convert_ids_to_tokens(token) is None:
            raise NotOneTokenError(f"id {token} is not in this vocabulary ({len(tokenizer):,} tokens)")
        return token
    ids = tokenizer(check_text(token, "the token"), add_special_tokens=False).input_ids
    unk = tokenizer.unk_token_id
    if unk is not None and unk in ids and token != tokenizer.unk_token:
        raise NotOneTokenError(f"{token!r} is not in this vocabulary: the tokenizer turns it into the unknown "
                               f"token {tokenizer.unk_token} (id {unk}), so it has no embedding of its own. "
                               "Try a word this tokenizer knows")
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise NotOneTokenError("the token text is empty; pass a word such as ' Paris' or '鸟'")
    pieces = [p.text for p in token_pieces(tokenizer, ids)]
    hint = ("; byte-level vocabularies store most words with their leading space, try "
            f"{' ' + token.strip()!r}" if not token.startswith(" ") and token.strip() else "")
    raise NotOneTokenError(f"{token!r} is not one token in this vocabulary: it splits into {len(ids)} "
                           f"tokens {pieces}. Pass one of their ids, or another word{hint}")


@dataclass(frozen=True)
class Neighbour:
    rank: int
    piece: Piece
    cosine: float


def nearest_token_list(model, tokenizer, token, k: int = 10) -> tuple[Piece, list[Neighbour]]:
    """The query token and its k nearest tokens by cosine similarity of input embeddings."""
    import torch

    from .generation import check_model
    from .models import check_pair

    check_model(model)
    tokenizer = check_tokenizer(tokenizer, "as the second argument")
    check_pair(model, tokenizer)
    weight = model.get_input_embeddings().weight.detach().float()  # (rows, hidden)
    # Some models pad the table beyond the tokenizer (Qwen2.5: 151,936 rows for 151,669 tokens);
    # rows no token maps to are not neighbours.
    weight = weight[: min(weight.shape[0], len(tokenizer))]
    vocab = weight.shape[0]
    if not int_in(k, 1, vocab - 1):
        raise ValueError(f"k must be an int between 1 and {vocab - 1:,}, got {k!r}")
    query = token_id(tokenizer, token)
    if query >= vocab:
        raise ValueError(f"token id {query} is outside the model's embedding matrix ({vocab:,} rows): "
                         "do the model and tokenizer belong together?")
    unit = torch.nn.functional.normalize(weight, dim=1)
    cosine = unit @ unit[query]  # (vocab,)
    cosine[query] = -2.0  # not its own neighbour
    values, ids = cosine.topk(k)
    pieces = token_pieces(tokenizer, [query] + ids.tolist())
    return pieces[0], [Neighbour(i + 1, p, round(float(v), 4))
                       for i, (p, v) in enumerate(zip(pieces[1:], values.tolist(), strict=True))]


def nearest_tokens(model, tokenizer, token, k: int = 10) -> HtmlView:
    """A table of the k tokens whose input embeddings point the most the same way as `token`'s.

    The table shows at most MAX_ROWS (200) neighbours, with a note; nearest_token_list returns all k.
    """
    query, rows = nearest_token_list(model, tokenizer, token, k)
    shown = rows[:MAX_ROWS]
    td = "padding:2px 10px;border-top:1px solid #dddddd;"
    body = "".join(f"<tr><td style='{td}text-align:right'>{n.rank}</td><td style='{td}white-space:pre'>"
                   f"{esc(n.piece.text)}</td><td style='{td}text-align:right'>{n.piece.id}</td>"
                   f"<td style='{td}text-align:right'>{n.cosine:.3f}</td></tr>" for n in shown)
    note = (f"<div style='font-style:italic;'>… showing the first {len(shown):,} of {len(rows):,} neighbours; "
            "H.nearest_token_list(...) returns them all</div>" if len(rows) > len(shown) else "")
    html_text = (f"<div id='{content_id('nearest', query.id, k)}'><div style='font-weight:600;'>"
                 f"Nearest tokens to {esc(query.text)} (id {query.id}) by cosine similarity</div>"
                 f"<table style='border-collapse:collapse;'><tr><th>#</th><th>token</th><th>id</th>"
                 f"<th>cosine</th></tr>{body}</table>{note}</div>")
    plain = f"{query.text}: " + ", ".join(f"{n.piece.text} {n.cosine:.3f}" for n in shown)
    if len(rows) > len(shown):
        plain += f" … (+{len(rows) - len(shown):,} more)"
    return HtmlView(html_text, plain)


def _joins(a: str, b: str) -> bool:
    """True when characters a and b are letters or digits of one word: 'k' and 'm' in 'bankment'.

    Wide characters (Chinese, Japanese) never join: those scripts put no spaces between words.
    """
    return all(ch.isalnum() and unicodedata.east_asian_width(ch) not in "WF" for ch in (a, b))


def find_word(sentence: str, word: str) -> int:
    """Where `word` first stands as a whole word in `sentence` ('bank' in 'the bank', not in 'embankment').

    Raises ValueError when it does not occur, or occurs only inside longer words.
    """
    start = sentence.find(word)
    if start < 0:
        raise ValueError(f"{word!r} does not occur in {sentence!r}")
    inside = []
    while start >= 0:
        end = start + len(word)
        before = start > 0 and _joins(sentence[start - 1], word[0])
        after = end < len(sentence) and _joins(word[-1], sentence[end])
        if not before and not after:
            return start
        a, b = start, end
        while a > 0 and _joins(sentence[a - 1], sentence[a]):
            a -= 1
        while b < len(sentence) and _joins(sentence[b - 1], sentence[b]):
            b += 1
        inside.append(sentence[a:b])
        start = sentence.find(word, start + 1)
    raise ValueError(f"{word!r} occurs in {sentence!r} only inside the longer word {inside[0]!r}; word_vector "
                     f"looks for whole words: pass {inside[0]!r} as the word, or a sentence where {word!r} "
                     "stands alone")


def word_vector(model, tokenizer, sentence: str, word: str, layer: int = -1):
    """The hidden state of `word` in `sentence` at `layer` (mean over its tokens); shape (hidden,).

    Uses the tokenizer's offset mapping to find the tokens that cover the first occurrence of
    `word` as a whole word ('bank' in 'the bank', never inside 'embankment'; in Chinese, where
    words have no spaces, any occurrence), so it works for WordPiece, byte-level BPE and Chinese
    characters alike.
    """
    import torch

    from .generation import _as_int, check_model
    from .models import check_pair

    if not isinstance(sentence, str) or not isinstance(word, str) or not word:
        raise TypeError("sentence and word must be non-empty str")
    layer = _as_int(layer)
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise TypeError(f"layer must be an int such as -1 (the last layer) or 0 (the embeddings), got "
                        f"{type(layer).__name__} {layer!r}")
    check_text(sentence, "the sentence")
    check_text(word, "the word")
    check_model(model)
    tokenizer = check_tokenizer(tokenizer, "as the second argument")
    check_pair(model, tokenizer)
    config = getattr(model, "config", None)
    n_layers = getattr(config, "num_hidden_layers", None)
    if isinstance(n_layers, int) and not -(n_layers + 1) <= layer <= n_layers:
        raise ValueError(f"layer must be in {-(n_layers + 1)}..{n_layers} (embeddings + {n_layers} "
                         f"layers), got {layer}")
    start = find_word(sentence, word)
    end = start + len(word)
    enc = tokenizer(sentence, return_tensors="pt", return_offsets_mapping=True)
    offsets = enc.pop("offset_mapping")[0].tolist()
    positions = [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]
    if not positions:
        raise ValueError(f"no token of {sentence!r} covers {word!r} (was it cut off, or only whitespace?)")
    limit = getattr(config, "max_position_embeddings", None)
    if isinstance(limit, int) and enc["input_ids"].shape[1] > limit:
        raise ValueError(f"the sentence has {enc['input_ids'].shape[1]:,} tokens but this model reads at most "
                         f"{limit:,}: shorten it to the part around {word!r}")
    with torch.no_grad():
        out = model(**enc.to(model.device), output_hidden_states=True)
    n_layers = len(out.hidden_states)
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer must be in {-n_layers}..{n_layers - 1} (embeddings + {n_layers - 1} "
                         f"layers), got {layer}")
    return out.hidden_states[layer][0, positions].mean(dim=0).float().cpu()
