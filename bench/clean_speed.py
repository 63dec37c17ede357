"""CPU cost of `clean_page`, checked against a saved reference of its output (issue 8).

    uv run python -m bench.clean_speed --save     # once, with the code to compare against
    uv run python -m bench.clean_speed            # later: same output? CPU s before / now

Pages: every file of the inboxes given (default: the 10 MB benchmark corpus and the five
seeds), decoded as the flow decodes them, plus the pages of `bench.restore_corpus`
(a quarter Traditional, lost characters, boilerplate) and, from each of its Simplified
pages, a mixed one (one line converted to Traditional). `--save` writes each page's whole
`CleanPage` (blocks with text, raw, flags, heading and gap; meta; script; stats) and the
CPU seconds it took; a later run cleans the same pages, reports the first page whose
output differs in any field, and prints the CPU seconds of both. CPU time
(`process_time`, best of `--repeat` rounds) is less disturbed than wall time on a shared
machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import opencc

from bench import restore_corpus
from flows.steps import decode, discover
from flows.steps.clean import clean_page

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INBOXES = (ROOT.parent / "main" / "bench-out" / "corpus-10mb-seed8", ROOT / "seeds")
DEFAULT_REFERENCE = ROOT / "bench-out" / "clean-reference.pkl"
RESTORE_PAGES = 300


def load_pages(inboxes: list[Path]) -> dict[str, str]:
    """name -> decoded text, for every file that decodes, and the restore corpus's pages."""
    pages: dict[str, str] = {}
    for inbox in inboxes:
        for f in discover.list_inbox(inbox):
            if f.reject_reason:
                continue
            try:
                pages[f"{inbox.name}/{f.path}"] = decode.decode_bytes(Path(f.abs_path).read_bytes()).text
            except decode.DecodeError:
                continue
    s2t = opencc.OpenCC("s2t")
    for i, page in enumerate(restore_corpus.generate(RESTORE_PAGES, seed=3)):
        pages[f"restore_corpus/{i}"] = page.text
        # Neither corpus has mixed pages (a Simplified page quoting a Traditional line):
        # make one of every Simplified page by converting its second-longest line.
        lines = page.text.split("\n")
        if not page.traditional and len(lines) > 2:
            n = sorted(range(len(lines)), key=lambda j: len(lines[j]))[-2]
            lines[n] = s2t.convert(lines[n])
            pages[f"restore_corpus/{i}-mixed"] = "\n".join(lines)
    return pages


def clean_all(pages: dict[str, str], repeat: int) -> tuple[dict[str, dict[str, Any]], float]:
    """Each page's cleaned output as plain data, and the best CPU seconds of `repeat` rounds."""
    best = float("inf")
    out: dict[str, Any] = {}
    for _ in range(repeat):
        start = time.process_time()
        cleaned = {name: clean_page(text) for name, text in pages.items()}
        best = min(best, time.process_time() - start)
        out = cleaned
    return {name: dataclasses.asdict(page) for name, page in out.items()}, best


def first_difference(expected: dict[str, Any], actual: dict[str, Any]) -> str | None:
    if expected.keys() != actual.keys():
        return f"page sets differ: {sorted(expected.keys() ^ actual.keys())[:5]}"
    for name, page in expected.items():
        if page != actual[name]:
            for key in page:
                if page[key] != actual[name][key]:
                    if key == "blocks":
                        pairs = zip(page[key], actual[name][key], strict=False)
                        i, (a, b) = next((i, p) for i, p in enumerate(pairs) if p[0] != p[1])
                        return f"{name}: block {i}\n  expected {a}\n  actual   {b}"
                    return f"{name}: {key}\n  expected {page[key]}\n  actual   {actual[name][key]}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, action="append", help="default: 10 MB corpus and seeds")
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--save", action="store_true", help="write the reference from this code")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    pages = load_pages(args.inbox or list(DEFAULT_INBOXES))
    mb = sum(len(t.encode("utf-8")) for t in pages.values()) / 2**20
    outputs, cpu = clean_all(pages, args.repeat)
    scripts = [page["script"] for page in outputs.values()]
    print(
        f"{len(pages)} pages, {mb:.1f} MB of text "
        f"({scripts.count('traditional')} traditional, {scripts.count('mixed')} mixed)"
    )
    if args.save:
        args.reference.parent.mkdir(parents=True, exist_ok=True)
        args.reference.write_bytes(pickle.dumps({"outputs": outputs, "cpu": cpu}))
        print(f"clean_page: {cpu:.2f} CPU s; reference saved to {args.reference}")
        return 0
    reference = pickle.loads(args.reference.read_bytes())
    difference = first_difference(reference["outputs"], outputs)
    print(f"clean_page: {reference['cpu']:.2f} CPU s in the reference, {cpu:.2f} CPU s now")
    if difference:
        print(f"OUTPUT DIFFERS: {difference}")
        return 1
    print(f"output identical on all {len(pages)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
