"""Load the YAML lexicons into flat lookup tables and build the jieba tokenizer."""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from re import _constants as _sre_c
from re import _parser as _sre_p
from typing import Any

import yaml

from handlers._compose import compile_rules
from handlers._jieba import jieba
from handlers._normalize import prepare

__all__ = ["CATEGORY_CODES", "DEFAULT_LEXICON_DIR", "Lexicon", "Slot", "build_tokenizer", "load_lexicon", "required_options"]

DEFAULT_LEXICON_DIR = Path(__file__).resolve().parents[1] / "config" / "lexicons"

CATEGORY_CODES = (
    "teacher_conduct", "fees", "homework", "teaching", "food", "safety", "transport", "enrollment",
    "after_school", "aid", "wellbeing", "facilities", "communication", "schedule", "other",
)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Slot:
    """Indexes into the flat score vector a message accumulates."""

    COMPLAINT, HELP, SUGGESTION, INQUIRY, PRAISE, ACK = range(6)
    CAT0 = 6  # categories occupy CAT0 .. CAT0 + 14 in CATEGORY_CODES order
    URGENT = CAT0 + len(CATEGORY_CODES)
    BACKGROUND = URGENT + 1
    VIOLENCE = URGENT + 2
    TEACHER = URGENT + 3
    PEER = URGENT + 4
    THANKS = URGENT + 5
    STATUS = URGENT + 6
    CHAT = URGENT + 7
    HEDGE = URGENT + 8
    REQUEST = URGENT + 9
    IMMEDIATE = URGENT + 10
    GROUP = URGENT + 11
    TARGET = URGENT + 12
    HARM = URGENT + 13  # an injury whose category follows whoever caused it
    AGENT = URGENT + 14  # 1 when the harm in a message was done by a teacher
    PEER_HARM = URGENT + 15  # violence credited to classmates or strangers
    SIZE = URGENT + 16


# Sections of kinds.yaml / urgency.yaml / modifiers.yaml → (slot, negatable).
_SECTIONS: dict[str, tuple[int, bool]] = {
    "complaint": (Slot.COMPLAINT, True), "help": (Slot.HELP, False),
    "suggestion": (Slot.SUGGESTION, False), "inquiry": (Slot.INQUIRY, False),
    "praise": (Slot.PRAISE, True), "none": (Slot.ACK, False), "thanks": (Slot.THANKS, False),
    "status": (Slot.STATUS, False), "chat": (Slot.CHAT, False), "hedge": (Slot.HEDGE, False),
    "request": (Slot.REQUEST, False), "urgent": (Slot.URGENT, True), "background": (Slot.BACKGROUND, False),
    "violence": (Slot.VIOLENCE, True), "teacher": (Slot.TEACHER, False), "peer": (Slot.PEER, False),
    "immediate": (Slot.IMMEDIATE, False), "group": (Slot.GROUP, False), "target": (Slot.TARGET, False),
    "harm": (Slot.HARM, True),
}
_CATEGORY_PARTS = {"topic": (), "problem": (Slot.COMPLAINT,), "good": (Slot.PRAISE, Slot.TARGET), "urgent": (Slot.URGENT,)}

Effect = tuple[int, float, bool]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Everything the classifier reads from config/lexicons, compiled for fast lookup."""

    terms: dict[str, tuple[Effect, ...]]
    patterns: tuple[tuple[re.Pattern[str], tuple[Effect, ...], frozenset[str] | None, bool], ...]
    negators: frozenset[str]
    places: frozenset[str]
    clause_breaks: frozenset[str]
    emoticons: dict[str, str]
    signals: dict[str, tuple[Effect, ...]]
    labels: dict[str, Any]
    params: dict[str, float]
    userdict: Path
    max_ngram: int
    digest: str
    net: dict[str, Any]  # safety_net.yaml, compiled by handlers._safety_net
    combine: dict[str, float]  # combine.yaml: how rules and the learned layer are combined


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader) or {}


def _norm_term(term: object) -> str:
    return prepare(str(term))[0].lower()


def _add(table: dict[str, list[Effect]], words: dict[str, Any] | None, effects: list[Effect]) -> None:
    for word, weight in (words or {}).items():
        term = _norm_term(word)
        if term:
            table.setdefault(term, []).extend((slot, float(weight) * scale, neg) for slot, scale, neg in effects)


def _effects_for(spec: dict[str, Any]) -> tuple[Effect, ...]:
    effects: list[Effect] = []
    for key, weight in spec.items():
        if key in ("re", "negatable", "note"):
            continue
        if key in CATEGORY_CODES:
            effects.append((Slot.CAT0 + CATEGORY_CODES.index(key), float(weight), False))
        elif key in _SECTIONS:
            slot, negatable = _SECTIONS[key]
            effects.append((slot, float(weight), negatable))
        else:
            raise ValueError(f"patterns.yaml: unknown target {key!r}")
    return tuple(effects)


def load_lexicon(directory: Path | None = None) -> Lexicon:
    """Read and compile the lexicon YAML files of a directory."""
    directory = Path(directory or DEFAULT_LEXICON_DIR)
    digest = hashlib.sha1()
    for path in sorted(directory.iterdir()):
        if path.suffix in (".yaml", ".yml", ".txt"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    table: dict[str, list[Effect]] = {}
    for name in ("kinds.yaml", "urgency.yaml", "modifiers.yaml"):
        data = _read_yaml(directory / name)
        for section, words in data.items():
            if section in _SECTIONS and isinstance(words, dict):
                slot, negatable = _SECTIONS[section]
                _add(table, words, [(slot, 1.0, negatable)])
    categories = _read_yaml(directory / "categories.yaml")
    for code, parts in categories.items():
        if code not in CATEGORY_CODES:
            raise ValueError(f"categories.yaml: unknown category {code!r}")
        cat_slot = Slot.CAT0 + CATEGORY_CODES.index(code)
        for part, extra in _CATEGORY_PARTS.items():
            effects = [(cat_slot, 1.0, False)] + [(slot, 1.0, True) for slot in extra]
            _add(table, parts.get(part), effects)
    modifiers = _read_yaml(directory / "modifiers.yaml")
    specs = list(_read_yaml(directory / "patterns.yaml"))
    if (directory / "compose.yaml").is_file():
        specs += compile_rules(_read_yaml(directory / "compose.yaml"))
    patterns = tuple(
        (re.compile(spec["re"]), _effects_for(spec), _required_chars(spec["re"]), bool(spec.get("negatable", True)))
        for spec in specs
    )
    emoticons = {_norm_term(k): str(v) for k, v in (modifiers.get("emoticons") or {}).items()}
    terms = {term: tuple(effects) for term, effects in table.items()}
    return Lexicon(
        terms=terms,
        patterns=patterns,
        negators=frozenset(_norm_term(w) for w in modifiers.get("negators") or ()),
        places=frozenset(_norm_term(w) for w in modifiers.get("places") or ()),
        clause_breaks=frozenset(modifiers.get("clause_breaks") or ()),
        emoticons=emoticons,
        signals={str(k): _effects_for(v) for k, v in (modifiers.get("signals") or {}).items()},
        labels=_read_yaml(directory / "labels.yaml"),
        params={k: float(v) for k, v in (_read_yaml(directory / "urgency.yaml").get("params") or {}).items()},
        userdict=directory / "userdict.txt",
        max_ngram=3,
        digest=digest.hexdigest()[:16],
        net=_read_yaml(directory / "safety_net.yaml") if (directory / "safety_net.yaml").is_file() else {},
        combine={k: float(v) for k, v in (_read_yaml(directory / "combine.yaml") if (directory / "combine.yaml").is_file()
                                          else {}).items()},
    )


def _first_chars(items: Any) -> set[str] | None:
    """Return the smallest set of characters of which every match must contain one, if known."""
    best: set[str] | None = None
    for op, av in items:
        req: set[str] | None = None
        if op is _sre_c.LITERAL:
            req = {chr(av)}
        elif op is _sre_c.IN:
            req = {chr(a) for o, a in av if o is _sre_c.LITERAL}
            if len(req) != len(av):
                req = None
        elif op is _sre_c.SUBPATTERN:
            req = _first_chars(av[-1])
        elif op is _sre_c.BRANCH:
            req = set()
            for branch in av[1]:
                sub = _first_chars(branch)
                if sub is None:
                    req = None
                    break
                req |= sub
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            req = _first_chars(av[2])
        if req and (best is None or len(req) < len(best)):
            best = req
    return best


def _required_chars(pattern: str) -> frozenset[str] | None:
    """Return characters a text must contain for ``pattern`` to match (a cheap prefilter), or None."""
    try:
        chars = _first_chars(_sre_p.parse(pattern))
    except Exception:  # the prefilter is an optimisation only; never fail on it
        return None
    return frozenset(chars) if chars else None


def _all_options(items: Any) -> list[frozenset[str]]:
    """Return character sets a match must each intersect: one per mandatory element of ``items``."""
    out: list[frozenset[str]] = []
    for op, av in items:
        if op is _sre_c.LITERAL:
            out.append(frozenset(chr(av)))
        elif op is _sre_c.IN:
            req = {chr(a) for o, a in av if o is _sre_c.LITERAL}
            if req and len(req) == len(av):
                out.append(frozenset(req))
        elif op is _sre_c.SUBPATTERN:
            out += _all_options(av[-1])
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            out += _all_options(av[2])
        elif op is _sre_c.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                sub = _all_options(branch)
                if not sub:
                    break
                union |= min(sub, key=len)
            else:
                out.append(frozenset(union))
    return out


def required_options(pattern: str) -> tuple[frozenset[str], ...]:
    """Return character sets a text must each share a character with for ``pattern`` to match.

    A conjunctive prefilter ("被.{0,4}打" needs 被 and 打): cheaper than running a regex
    that cannot match. Empty when nothing is known; the prefilter is an optimisation only.
    """
    try:
        options = _all_options(_sre_p.parse(pattern))
    except Exception:
        return ()
    return tuple(dict.fromkeys(sorted(options, key=len)))


def _cache_dir() -> Path:
    path = Path(os.environ.get("LIANXIN_CACHE_DIR") or Path(tempfile.gettempdir()) / "lianxin-jieba")
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_tokenizer(lexicon: Lexicon) -> jieba.Tokenizer:
    """Return a private jieba tokenizer with the user dictionary and every lexicon term.

    The prefix dictionary (jieba's own plus our words) is cached keyed by the
    lexicon digest as a few marshal chunks (``_read_chunks``): ``marshal.loads``
    on bytes is several times faster than the ``marshal.load(file)`` jieba uses
    itself, and reading a chunk at a time keeps only ~1 MB of file bytes alive
    beside the dictionary instead of the whole 9 MB blob (a worker's peak RSS).
    """
    tokenizer = jieba.Tokenizer()
    try:
        cache_dir = _cache_dir()
    except OSError:
        cache_dir = None
    key = f"{jieba.__version__}-{lexicon.digest}"
    cache_file = cache_dir / f"lianxin-{key}.chunks" if cache_dir else None
    if cache_file is not None and cache_file.is_file():
        try:
            tokenizer.FREQ, tokenizer.total = _read_chunks(cache_file)
            tokenizer.initialized = True  # jieba 0.42 internals: skips its own (slower) load
            return tokenizer
        except (OSError, ValueError, EOFError, TypeError, struct.error):
            pass
    base_cache = cache_dir / "jieba.cache" if cache_dir else None
    try:
        tokenizer.FREQ, tokenizer.total = marshal.loads(base_cache.read_bytes())  # type: ignore[union-attr]
        tokenizer.initialized = True
    except (AttributeError, OSError, ValueError, EOFError, TypeError):
        if cache_dir is not None:
            tokenizer.tmp_dir = str(cache_dir)
        tokenizer.initialize()
    if lexicon.userdict.is_file():
        tokenizer.load_userdict(str(lexicon.userdict))
    for term in lexicon.terms:
        if len(term) > 1 and not term.isascii():
            tokenizer.add_word(term)
    if cache_file is not None:
        try:
            fd, tmp = tempfile.mkstemp(dir=cache_file.parent)
            with os.fdopen(fd, "wb") as fh:
                _write_chunks(fh, tokenizer.FREQ, tokenizer.total)
            os.replace(tmp, cache_file)
            _prune(cache_file)
        except OSError:
            pass
    return tokenizer


_CHUNK = 50_000  # dictionary entries per marshal chunk (~1 MB)
_HEADER = struct.Struct("<qq")  # total, number of chunks
_LENGTH = struct.Struct("<q")


def _write_chunks(fh: Any, freq: dict[str, int], total: int) -> None:
    """Write the prefix dictionary as length-prefixed marshal chunks of ``_CHUNK`` entries."""
    items = list(freq.items())
    chunks = [dict(items[i : i + _CHUNK]) for i in range(0, len(items), _CHUNK)]
    fh.write(_HEADER.pack(total, len(chunks)))
    for chunk in chunks:
        blob = marshal.dumps(chunk)
        fh.write(_LENGTH.pack(len(blob)) + blob)


def _read_chunks(path: Path) -> tuple[dict[str, int], int]:
    """Read what ``_write_chunks`` wrote: the prefix dictionary (same insertion order) and the total."""
    freq: dict[str, int] = {}
    with path.open("rb") as fh:
        total, n = _HEADER.unpack(fh.read(_HEADER.size))
        for _ in range(n):
            (size,) = _LENGTH.unpack(fh.read(_LENGTH.size))
            blob = fh.read(size)
            if len(blob) != size:
                raise EOFError(f"{path}: truncated")
            freq.update(marshal.loads(blob))
        if fh.read(1):
            raise ValueError(f"{path}: trailing bytes")
    return freq, total


def _prune(keep: Path, spare: int = 3) -> None:
    """Delete all but the newest few tokenizer caches (each lexicon edit makes a new one)."""
    for stale in keep.parent.glob("lianxin-*.marshal"):  # the one-blob format of earlier versions
        stale.unlink(missing_ok=True)
    caches = sorted(keep.parent.glob("lianxin-*.chunks"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in caches[spare:]:
        if old != keep:
            old.unlink(missing_ok=True)
