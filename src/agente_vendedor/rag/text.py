"""How text is prepared for search: folding, tokens, Spanish stop words, synonyms, trigram queries, documents."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import resources

from agente_vendedor.core.text import fold

_TOKEN = re.compile(r"[a-z0-9]+")
MAX_TERMS = 12
# Verbs that say what the thing is for, never what it is ("algo para hacer batidos"): they do not count when
# judging how well a product answers a query.
CONTAINERS = frozenset("juego set pack kit caja paquete bolsa saco lote".split())
UNITS = frozenset("w kw v gb tb mb kg g gr l ml cm mm m mah hz".split())
GENERIC_VERBS = frozenset("hacer usar utilizar guardar poner servir sirva sirve tener llevar comprar regalar".split())
HEAD_WEIGHT = 2.0

STOPWORDS = frozenset(
    """a al algo alguna alguno algun ante bajo busco buscando con contra cual de del desde donde el ella en entre es
    esta este esto hay la las le lo los me mas mi mis muy necesito ni o os otra otro para pero poco por porque puedo
    que quiero se sea ser si sin sobre su sus tambien te tener tengo tiene tienen tienes tu tus un una uno unos unas
    y ya yo cosa cosas favor hola ando quisiera queria buscaba""".split()
)


def tokens(text: str | None) -> list[str]:
    """Accent-folded lower-case words of a text."""
    return _TOKEN.findall(fold(text or ""))


def lexical_text(*parts: str | None) -> str:
    """The folded, space-padded text stored in the full-text tables (padding marks word edges for trigrams)."""
    return " " + " ".join(tok for part in parts for tok in tokens(part)) + " "


def singular(word: str) -> str:
    """A light Spanish plural strip: `zapatillas` -> `zapatilla`, `motores` -> `motor`."""
    if len(word) > 4 and word.endswith("es") and word[-3] not in "aeiou":
        return word[:-2]
    if len(word) > 3 and word.endswith("s"):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The curated synonym groups shipped in `sinonimos.json`."""
    raw = resources.files("agente_vendedor.rag").joinpath("sinonimos.json").read_text(encoding="utf-8")
    groups = json.loads(raw)["grupos"]
    return tuple(tuple(" ".join(tokens(term)) for term in group) for group in groups)


@lru_cache(maxsize=1)
def _synonym_lookup() -> dict[str, tuple[str, ...]]:
    lookup: dict[str, tuple[str, ...]] = {}
    for group in synonym_groups():
        for term in group:
            lookup[term] = group
            lookup[singular(term) if " " not in term else term] = group
    return lookup


@dataclass(frozen=True)
class Consulta:
    """A user query taken apart: its folded text, content words and synonym expansions."""

    original: str
    folded: str
    terms: tuple[str, ...]
    expansions: tuple[str, ...]

    @property
    def all_terms(self) -> tuple[str, ...]:
        """Content words plus the words the synonyms add, capped so a query stays cheap."""
        seen: dict[str, None] = {}
        for term in self.terms + tuple(w for phrase in self.expansions for w in phrase.split()):
            if term not in STOPWORDS:
                seen.setdefault(term, None)
        return tuple(seen)[:MAX_TERMS]

    @property
    def vector_text(self) -> str:
        """What is embedded: the query as written plus its synonyms (the model then sees the regional word too)."""
        if not self.expansions:
            return self.original.strip()
        return f"{self.original.strip()} ({', '.join(self.expansions)})"

    @property
    def has_words(self) -> bool:
        """False for queries made only of punctuation: nothing to look for."""
        return bool(self.terms)


def analyze(query: str) -> Consulta:
    """Split a query into content words and add the synonyms of any word or phrase in the map."""
    words = tokens(query)
    content = [w for w in words if w not in STOPWORDS] or words
    joined = " " + " ".join(words) + " "
    singular_joined = " " + " ".join(singular(w) for w in words) + " "
    expansions: dict[str, None] = {}
    lookup = _synonym_lookup()
    for key, group in lookup.items():
        if f" {key} " in joined or f" {key} " in singular_joined:
            for term in group:
                if f" {term} " not in joined:
                    expansions.setdefault(term, None)
    return Consulta(original=query, folded=" ".join(words), terms=tuple(content), expansions=tuple(expansions))


def trigrams(term: str) -> list[str]:
    """Character trigrams of a word padded with spaces (` ca`, `caf`, ..., `ra `)."""
    padded = f" {term} "
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def fts5_phrase(text: str) -> str:
    """A quoted FTS5 string (our tokens hold only letters, digits and spaces, so no escaping is needed)."""
    return f'"{text}"'


def fts5_query(found: tuple[str, ...], missing: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression over the trigram index.

    Words present in the catalog are matched as substrings of their singular stem (cheap, selective: plurals and
    longer words match) plus the whole word (` pared `, which bm25 rewards as a rarer phrase). Words found nowhere
    are probably misspelt: they match by any of their 4-character (or 3 for short words) pieces, and bm25 ranks
    documents sharing the most.
    """
    parts: dict[str, None] = {}
    for term in found:
        parts.setdefault(fts5_phrase(f" {term} "), None)
        stem = singular(term)
        if len(stem) >= 3:
            parts.setdefault(fts5_phrase(stem), None)
    for term in missing:
        for piece in typo_pieces(term):
            parts.setdefault(fts5_phrase(piece), None)
    return " OR ".join(parts)


def typo_pieces(term: str) -> list[str]:
    """Overlapping pieces of a misspelt word: 4 characters for longer words, 3 for short ones.

    `cafetra` -> `cafe afet fetr etra`: enough survive a typo to find `cafetera`, and 4-character pieces are far
    rarer than trigrams such as `ado` or `dor`, which would make the database score thousands of rows.
    """
    size = 4 if len(term) >= 5 else 3
    return [term[i : i + size] for i in range(len(term) - size + 1)]


def document_text(*parts: str | None) -> str:
    """The text an entity's vector is computed from: its non-empty parts, joined as sentences."""
    return ". ".join(part for part in parts if part)


def fingerprint(document: str) -> str:
    """A short hash of a document: a vector whose fingerprint differs from the live row's is stale and ignored."""
    return hashlib.sha1(document.encode("utf-8")).hexdigest()[:16]


def _term_matches(term: str, words: Sequence[str], *, typo: bool) -> bool:
    """A query word matches a document word by stem prefix ("licuadoras" ~ "licuadora", "9" ~ "9w") or, for a word
    the customer typed (never a synonym we added), from five letters on as a close typo ("bombiyas" ~ "bombillas")."""
    stem = singular(term)
    gender = stem[:-1] if len(stem) >= 4 and stem[-1] in "oa" else None  # "rojo" ~ "roja"
    for word in words:
        base = singular(word)
        if word.startswith(stem) or base == stem or (len(stem) >= 5 and stem in word):
            return True
        if gender is not None and base[:-1] == gender and base[-1:] in ("o", "a"):
            return True
        if typo and len(stem) >= 5 and len(word) >= 4 and _parecidas(stem, base):
            return True
    return False


@lru_cache(maxsize=65_536)
def _parecidas(a: str, b: str) -> bool:
    """A close typo: difflib ratio ≥ 0.8, after its two cheap upper bounds (most pairs stop there)."""
    matcher = SequenceMatcher(None, a, b)
    return matcher.real_quick_ratio() >= 0.8 and matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8


def term_groups(consulta: Consulta) -> list[tuple[str, ...]]:
    """Each content word with its synonyms: a group is matched when any of its words or phrases is."""
    lookup = _synonym_lookup()
    joined = " " + " ".join(singular(w) for w in consulta.folded.split()) + " "
    groups: list[tuple[str, ...]] = []
    covered: set[str] = set()
    for key, group in lookup.items():
        if " " in key:
            phrase = " ".join(singular(w) for w in key.split())
            if f" {phrase} " in joined and group not in groups:
                groups.append(group)
                covered.update(key.split())
    terms = list(consulta.terms)
    for i in range(len(terms) - 1):  # "256 gb" is written "256GB" in the catalog
        if terms[i].isdigit() and terms[i + 1] in UNITS:
            terms[i], terms[i + 1] = terms[i] + terms[i + 1], ""
    # Each group ends with the word as typed: only that one may match as a typo.
    first = [
        tuple(w for w in (lookup.get(t) or lookup.get(singular(t)) or ()) if w != t) + (t,)
        for t in terms
        if t and t not in STOPWORDS and t not in covered and t not in GENERIC_VERBS
    ]
    # "juego de cuchillos", "pack de pelotas": the container is not what is asked for.
    if len(first) > 1 and first[0][-1] in CONTAINERS:
        first = first[1:]
    # Keep the query's word order: the phrase groups go where their first word was.
    ordered = [g for g in first if g not in groups]
    positions = {
        g: min((consulta.terms.index(w) for w in g[0].split() if w in consulta.terms), default=0) for g in groups
    }
    for group in sorted(groups, key=lambda g: positions[g], reverse=True):
        ordered.insert(min(positions[group], len(ordered)), group)
    return ordered


def _merged_units(words: Sequence[str]) -> list[str]:
    """ "15 kg" also as "15kg", as customers write it."""
    return [a + b for a, b in zip(words, words[1:], strict=False) if a.isdigit() and b in UNITS]


@lru_cache(maxsize=32_768)
def _product_words(nombre: str, resto: str) -> tuple[tuple[str, ...], str, tuple[str, ...], str]:
    """A product's words as `coverage` weighs them (cached: the same products come back query after query)."""
    all_name_words = tokens(nombre)
    # "Mochila ... para portátil", "Olla ... con tapa": what follows "para"/"con" qualifies the product.
    cut = next((i for i, w in enumerate(all_name_words) if w in ("para", "con") and i > 0), len(all_name_words))
    head, qualifiers = all_name_words[:cut], all_name_words[cut + 1 :]
    # "Cafetera de goteo 12 tazas", "Cortapelos con 4 peines": a counted word is a measure, not what the product is
    # (but "Juego de 4 tazas", "Caja de 50 bolígrafos" are tazas and bolígrafos).
    measures = [
        w
        for i, w in enumerate(head)
        if w.isalpha() and i >= 1 and head[i - 1].isdigit() and (i < 2 or head[i - 2] != "de")
    ]
    name_words = [w for w in head if w not in measures] + _merged_units(head)
    measures += qualifiers + _merged_units(qualifiers)
    name_text = " " + " ".join(all_name_words) + " "
    other_words = tokens(resto) + measures
    other_text = " " + " ".join(other_words) + " "
    return tuple(name_words), name_text, tuple(other_words), other_text


def coverage(groups: Sequence[tuple[str, ...]], nombre: str, resto: str) -> float:
    """How much of the query a product answers: the share of its words found in the name (1 each) or only in the
    category or description (half each). The first word counts double: in Spanish it is usually the thing asked for
    ("cafetera eléctrica", "croquetas para perro"), the rest qualify it."""
    if not groups:
        return 0.0
    name_words, name_text, other_words, other_text = _product_words(nombre, resto)
    total = 0.0
    for position, group in enumerate(groups):
        best = 0.0
        for term in group:
            if " " in term:
                # "arena para gato" answers "Arena aglomerante para gato": the phrase's words, not only the phrase.
                words = [w for w in term.split() if w not in STOPWORDS]
                if f" {term} " in name_text or all(_term_matches(w, name_words, typo=False) for w in words):
                    best = 1.0
                elif f" {term} " in other_text or all(_term_matches(w, other_words, typo=False) for w in words):
                    best = max(best, 0.5)
            elif _term_matches(term, name_words, typo=term == group[-1]):
                best = 1.0
            elif _term_matches(term, other_words, typo=term == group[-1]):
                best = max(best, 0.5)
            if best == 1.0:
                break
        total += best * (HEAD_WEIGHT if position == 0 else 1.0)
    return total / (len(groups) + HEAD_WEIGHT - 1)
