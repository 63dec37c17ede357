"""Quality of the restore stages (clean + repair) on generated pages with known truth.

Figures (issue 3 targets):
- joins: precision and recall of "these two kept lines are one paragraph" (>= 0.98 each);
- boilerplate: share of injected boilerplate lines removed (>= 0.99), and content lines
  removed (must be 0);
- for information: share of true paragraphs restored to exactly their clean text (pages in
  Simplified / in Traditional with pinyin), and lost characters flagged.

    uv run python bench/restore_quality.py [--pages 400] [--seed 3]

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.restore_corpus import Page, generate
from flows.steps.clean import clean_page
from flows.steps.repair import repair_blocks

TARGET_JOINS, TARGET_BOILERPLATE = 0.98, 0.99


@dataclass
class Figures:
    pages: int = 0
    true_joins: int = 0
    predicted_joins: int = 0
    correct_joins: int = 0
    boilerplate_lines: int = 0
    boilerplate_removed: int = 0
    content_lines_removed: int = 0
    exact: dict[str, list[int]] | None = None  # script -> [exact, total]
    lost_paragraphs: int = 0
    lost_flagged: int = 0
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return self.correct_joins / self.predicted_joins if self.predicted_joins else 1.0

    @property
    def recall(self) -> float:
        return self.correct_joins / self.true_joins if self.true_joins else 1.0

    @property
    def boilerplate_share(self) -> float:
        return self.boilerplate_removed / self.boilerplate_lines if self.boilerplate_lines else 1.0

    def targets_met(self) -> bool:
        return (
            self.precision >= TARGET_JOINS
            and self.recall >= TARGET_JOINS
            and self.boilerplate_share >= TARGET_BOILERPLATE
            and self.content_lines_removed == 0
        )


def evaluate_page(page: Page, figures: Figures) -> None:
    start = time.perf_counter()
    cleaned = clean_page(page.text)
    paragraphs = repair_blocks(cleaned.blocks)
    figures.seconds += time.perf_counter() - start
    figures.pages += 1

    # Which generated line each kept block is (blocks keep the page order).
    kept: list[int] = []
    j = 0
    for block in cleaned.blocks:
        while page.lines[j].raw != block.raw:
            j += 1
        kept.append(j)
        j += 1
    kept_set = set(kept)
    for i, line in enumerate(page.lines):
        if line.kind == "boilerplate":
            figures.boilerplate_lines += 1
            figures.boilerplate_removed += i not in kept_set
        elif line.kind == "content" and i not in kept_set:
            figures.content_lines_removed += 1

    # Joins: every pair of neighbouring kept lines is "same paragraph" or not.
    same_paragraph = {k for para_start in _starts(paragraphs) for k in range(*para_start)}
    for k in range(len(kept) - 1):
        a, b = page.lines[kept[k]], page.lines[kept[k + 1]]
        truth = a.kind == b.kind == "content" and a.para == b.para
        predicted = k in same_paragraph
        figures.true_joins += truth
        figures.predicted_joins += predicted
        figures.correct_joins += truth and predicted

    # Exact text of whole paragraphs (body and caption text, nothing lost in the source).
    block_of_para: dict[int, list[int]] = {}
    for k, line_no in enumerate(kept):
        if (para := page.lines[line_no].para) is not None:
            block_of_para.setdefault(para, []).append(k)
    by_first_block = {}
    k = 0
    for p in paragraphs:
        by_first_block[k] = p
        k += p.joined_from
    script = "traditional" if page.traditional else "simplified"
    for index, truth in enumerate(page.paragraphs):
        blocks = block_of_para.get(index, [])
        restored = by_first_block.get(blocks[0]) if blocks else None
        if truth.lost_chars:
            figures.lost_paragraphs += 1
            # Flagged either way: removed ("lost_char") or restored from the page's readings.
            figures.lost_flagged += restored is not None and bool(
                {"lost_char", "restored_char"} & set(restored.flags)
            )
        elif truth.role in ("body", "caption"):
            counts = figures.exact.setdefault(script, [0, 0])  # type: ignore[union-attr]
            counts[0] += restored is not None and restored.text == truth.text
            counts[1] += 1


def _starts(paragraphs) -> list[tuple[int, int]]:
    """For each paragraph, the range of block indexes k whose pair (k, k+1) it joins."""
    out, k = [], 0
    for p in paragraphs:
        out.append((k, k + p.joined_from - 1))
        k += p.joined_from
    return out


def run(pages: int, seed: int) -> Figures:
    figures = Figures(exact={})
    for page in generate(pages, seed):
        evaluate_page(page, figures)
    return figures


def report(f: Figures) -> str:
    exact = ", ".join(f"{s} {e}/{t} ({e / t:.3f})" for s, (e, t) in sorted((f.exact or {}).items()) if t)
    return "\n".join(
        [
            f"pages {f.pages}, clean+repair {f.seconds:.2f} s",
            f"joins: precision {f.precision:.4f} ({f.correct_joins}/{f.predicted_joins}), "
            f"recall {f.recall:.4f} ({f.correct_joins}/{f.true_joins})   target >= {TARGET_JOINS}",
            f"boilerplate lines removed {f.boilerplate_share:.4f} ({f.boilerplate_removed}/{f.boilerplate_lines})"
            f"   target >= {TARGET_BOILERPLATE}; content lines removed {f.content_lines_removed} (target 0)",
            f"paragraphs restored to their exact clean text: {exact}",
            f"paragraphs with a lost character flagged (lost_char / restored_char): {f.lost_flagged}/{f.lost_paragraphs}",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    figures = run(args.pages, args.seed)
    print(report(figures))
    print("targets met" if figures.targets_met() else "TARGETS MISSED")
    return 0 if figures.targets_met() else 1


if __name__ == "__main__":
    sys.exit(main())
