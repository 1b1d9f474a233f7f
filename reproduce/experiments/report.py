"""`python -m reproduce report`: the verdicts as text, written from the results' JSON files.

Every number and every "what decides it" sentence below is computed from OUT/<figure>/<figure>.json
and OUT/atlas/atlas.json (default OUT: results/); nothing is typed by hand. It writes

- the README's verdict section, between the lines `<!-- verdicts:begin -->` and
  `<!-- verdicts:end -->` of ./README.md: a short table, one row per claim with its verdict at the
  figures' setting and the atlas's counts (`readme_section`);
- docs/beyond_ethanol.md, the claims on five regression sets (`datasets_report`);
- docs/results.md, the results page: the full verdict table with every claim's numbers
  (`verdict_section`), the figures, the convolution study, the atlas's outcomes by normalization
  and horizon, and the history of the claim definitions with each version's counts.

`tests/experiments/test_report.py` fails when the committed text differs from what this writes.
"""

from __future__ import annotations

import json
import pathlib

from . import datasets_report
from .atlas_claims import CLAIMS
from .atlas_claims import OUTCOMES
from .atlas_claims import evidence_key
from .atlas_claims import figures_setting
from ..lab.records import write_atomically

BEGIN, END = "<!-- verdicts:begin -->", "<!-- verdicts:end -->"
FIGURES = ("figure2", "figure3", "figure4_left", "figure4_right", "figure5_left",
           "figure5_right", "conv_overparam", "atlas", "datasets")
AXIS_NAMES = {"normalization": "normalization", "horizon": "horizon",
              "learning_rate_grid": "learning-rate grid", "selection_rule": "selection rule"}


def load(root) -> dict:
    """{figure: its JSON document, or None where there is none}."""
    root = pathlib.Path(root)
    found = {}
    for name in FIGURES:
        path = root / name / f"{name}.json"
        found[name] = json.loads(path.read_text()) if path.is_file() else None
    return found


# ---- numbers as text ---------------------------------------------------------------------------


def number(value, digits=3) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        return f"{int(value):,}"
    return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"


def spread(stat, digits=3) -> str:
    """"median [min–max]" of a {"median", "min", "max"} entry; "not reached" without a median."""
    if not stat or stat.get("median") is None:
        reached = (stat or {}).get("seeds_with_a_value", 0)
        return "not reached" + (f" ({reached} seeds reach it)" if reached else "")
    low, high = number(stat["min"], digits), number(stat["max"], digits)
    middle = number(stat["median"], digits)
    return middle if low == high == middle else f"{middle} [{low}–{high}]"


def rate(lr) -> str:
    return "none" if lr is None else f"{lr:.0e}".replace("e-0", "e-")


def reaching(stat, level) -> str:
    """"to {level} in median [range]", or that the median seed does not reach it."""
    if stat and stat.get("median") is not None:
        return f"to {level} in {spread(stat)}"
    reached = (stat or {}).get("seeds_with_a_value", 0)
    return f"{level} not reached" + (f" ({reached} seeds reach it)" if reached else "")


def selected_text(name, entry) -> str:
    return (f"{name} (lr {rate(entry['learning_rate'])}): final gap "
            f"{spread(entry.get('final_relative_gap'))}, "
            f"{reaching(entry.get('iterations_to_relative_gap_1e-01'), '1e-1')}")


# ---- what was measured, per claim ---------------------------------------------------------------


def _figure2(doc, pairs) -> str:
    curves = doc["results"]["curves"]
    parts = []
    for first, second, label in pairs:
        a, b = curves.get(first), curves.get(second)
        if a and b:
            parts.append(f"{label} {spread(a['final_relative_gap'])} vs "
                         f"{spread(b['final_relative_gap'])}")
    return "final gaps, " + "; ".join(parts)


def measured(claim, docs) -> str:
    """The numbers behind a claim at the figures' own setting (median [min–max] over seeds)."""
    if claim == "fig2_emulation" and docs["figure2"]:
        config = docs["figure2"]["config"]
        return _figure2(docs["figure2"], [
            (f"l{p} depth {d} width {w}", f"l{p} end-to-end N={d} (width-{w} start)",
             f"ℓ{p} depth {d} width {w} deep vs rule:")
            for p in config["losses"] for d in config["depths"] for w in config["hidden_units"]])
    if claim == "fig2_width" and docs["figure2"]:
        config = docs["figure2"]["config"]
        w1, w2 = config["hidden_units"][0], config["hidden_units"][-1]
        return _figure2(docs["figure2"], [
            (f"l{p} depth {d} width {w1}", f"l{p} depth {d} width {w2}",
             f"ℓ{p} depth {d} width {w1} vs {w2}:")
            for p in config["losses"] for d in config["depths"]])
    tables = {
        "fig3_l2": ("figure3", [("depth 1", "l2 depth 1"), ("depth 2", "l2 depth 2"), ("depth 3", "l2 depth 3")]),
        "fig3_l4": ("figure3", [("depth 1", "l4 depth 1"), ("depth 2", "l4 depth 2"), ("depth 3", "l4 depth 3")]),
        "fig4l_gd_beats_adaptive": ("figure4_left", [("depth-3 GD", "GD depth 3"), ("AdaGrad", "AdaGrad"),
                                                     ("AdaDelta", "AdaDelta")]),
        "fig4l_adagrad_slower": ("figure4_left", [("depth-1 GD", "GD depth 1"), ("AdaGrad", "AdaGrad")]),
        "fig5l_identity": ("figure5_left", [("depth 1", "depth 1 near_zero"),
                                            ("depth 4 identity", "depth 4 identity"),
                                            ("depth 8 identity", "depth 8 identity")]),
    }
    if claim in tables and docs[tables[claim][0]]:
        figure, rows = tables[claim]
        selected = docs[figure]["results"]["selected"]
        return "; ".join(selected_text(name, selected[key]) for name, key in rows if key in selected)
    if claim == "fig4r_adam" and docs["figure4_right"]:
        summary = docs["figure4_right"]["results"]["summary"]
        return "; ".join(f"{depth} (lr {rate(entry['learning_rate'])}): final gap "
                         f"{spread(entry['final_relative_gap'])}, "
                         f"{reaching(entry['iterations_to_relative_gap_1e-02'], '1e-2')}"
                         for depth, entry in summary.items())
    cell = figures_cell(docs["atlas"], claim) if docs["atlas"] else None
    if claim == "fig5l_late_start" and cell:
        found = cell["claims"][claim]
        if found["outcome"] == "n/a":
            return found["why"]
        firsts = ", ".join("none" if s is None else f"{s:,}" for s in found.get("first_progress", []))
        return (f"selected lr {rate(found['decided_by'].get('l4 GD depth 4'))}: first visible "
                f"progress per seed at {firsts or '—'} (seeds: {', '.join(found.get('seeds', []))})")
    if claim == "fig5l_depth8_stuck" and cell:
        by_rate = cell["claims"][claim]["by_rate"]
        stuck = [r for r, v in by_rate.items() if v == "for"]
        return (f"every seed diverges or is stuck at {len(stuck)} of {len(by_rate)} rates"
                + ("" if len(stuck) == len(by_rate) else
                   "; not at " + ", ".join(r for r in by_rate if r not in stuck)))
    return "—"


def figures_cell(atlas, claim):
    """The atlas cell at the figures' own setting, at the longest horizon where `claim` applies."""
    setting = figures_setting(atlas["config"])
    cells = [c for c in atlas["results"]["cells"] if all(c[a] == v for a, v in setting.items())
             and c["claims"].get(claim, {}).get("outcome", "n/a") != "n/a"]
    return cells[-1] if cells else None


# ---- what decides it -----------------------------------------------------------------------------


def by_axis(atlas, claim) -> dict:
    """{axis: {value: {outcome: count}}} over the distinct outcomes, for the axes in the key."""
    seen = {}
    for cell in atlas["results"]["cells"]:
        if cell["claims"].get(claim, {}).get("outcome", "n/a") != "n/a":
            seen.setdefault(evidence_key(cell, claim), cell)
    table = {}
    for axis in CLAIMS[claim]["depends_on"]:
        if axis not in ("normalization", "horizon"):
            continue
        groups = {}
        for cell in seen.values():
            counts = groups.setdefault(_value(axis, cell[axis]), dict.fromkeys(OUTCOMES, 0))
            counts[cell["claims"][claim]["outcome"]] += 1
        table[axis] = groups
    return table


def _value(axis, value) -> str:
    return f"{value // 1000}K" if axis == "horizon" and value >= 1000 else str(value)


def _counts_text(counts) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v)


def decides(atlas, claim) -> str:
    """The axis whose values best separate the outcomes (fewest outcomes off their group's most
    common one), said with its counts; or that every setting gave the same outcome."""
    summary = atlas["results"]["summary"][claim]
    present = [k for k in OUTCOMES if summary[k]]
    if len(present) <= 1:
        return f"{present[0] if present else 'n/a'} in every setting tried"
    table = by_axis(atlas, claim)
    if not table:
        return "the selected learning rates (grid and rule)"

    def impurity(groups):
        return sum(sum(c.values()) - max(c.values()) for c in groups.values())

    axis = min(table, key=lambda a: (impurity(table[a]), list(table).index(a)))
    groups = table[axis]
    text = "; ".join(f"{value}: {_counts_text(counts)}" for value, counts in groups.items())
    rest = impurity(groups)
    tail = ("" if rest == 0 else
            f" ({rest} of {summary['n']} differ within their {AXIS_NAMES[axis]}: the learning rates selected)")
    return f"the {AXIS_NAMES[axis]}: {text}{tail}"


# ---- the README section and the results page -----------------------------------------------------


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _previous(changelog, claim) -> str:
    previous = changelog[-2]
    counts = previous.get("counts", {}).get(claim)
    return " / ".join(map(str, counts)) if counts else "—"


def verdict_section(docs) -> str:
    atlas = docs["atlas"]
    if atlas is None:
        return "No atlas results were found: run `python -m reproduce atlas`, then `report`."
    described = atlas["results"]["claims"]
    changelog = described.get("changelog", [])
    version = described.get("version", 1)
    lines = [
        f"Verdicts under claim definitions version {version} (the atlas's JSON has each "
        "definition). Counts are over distinct outcomes: settings that select identical runs "
        "count once; n is how many there are for the claim.",
        "",
        _history_sentence(changelog),
        "",
        "| figure | the paper's claim | measured here, figures' setting (median [min–max] over seeds) "
        "| at the figures' setting | atlas: holds / mixed / inconclusive / fails of n "
        f"| version {changelog[-2]['version'] if len(changelog) > 1 else '—'}: holds / partly / fails "
        "| what decides it |",
        "|---|---|---|---|---|---|---|",
    ]
    for claim, meta in CLAIMS.items():
        entry = atlas["results"]["summary"][claim]
        counts = " / ".join(str(entry[k]) for k in OUTCOMES) + f" of {entry['n']}"
        lines.append("| " + " | ".join(_cell(x) for x in (
            meta["figure"], meta["claim"], measured(claim, docs),
            f"**{entry['at_the_figures_setting']}**", counts, _previous(changelog, claim),
            decides(atlas, claim))) + " |")
    lines.append("| 5-right | " + " | ".join(_cell(x) for x in (
        "overparameterizing the MNIST convnet's dense layers accelerates it",
        figure5_right_text(docs["figure5_right"]), "—", "—", "—",
        "the loss plotted: total (with L2) or cross-entropy")) + " |")
    return "\n".join(lines)


def _history_sentence(changelog) -> str:
    if len(changelog) < 2:
        return ""
    current = changelog[-1]
    earlier = [entry for entry in changelog[:-1] if "after" in entry.get("fixed", "")]
    said = []
    if earlier:
        said.append("The definitions were revised after results were seen: "
                    + "; ".join(f"version {e['version']} ({', '.join(e.get('changes', []))}; "
                                f"why: {e.get('why', '—')})" for e in earlier) + ".")
    said.append(f"Version {current['version']} was fixed {current['fixed']}; it changed: "
                + "; ".join(current.get("changes", [])) + f". Why: {current.get('why', '—')}. "
                "Each earlier version's counts are in docs/results.md and the atlas JSON.")
    return " ".join(said)


def readme_section(docs) -> str:
    """The README's verdicts: per claim the verdict at the figures' setting and the atlas's
    counts; the numbers behind them are on the results page (`verdict_section`)."""
    atlas = docs["atlas"]
    if atlas is None:
        return "No atlas results were found: run `python -m reproduce atlas`, then `report`."
    summary = atlas["results"]["summary"]
    verdicts = [summary[claim]["at_the_figures_setting"] for claim in CLAIMS]
    tally = _counts_text({outcome: verdicts.count(outcome) for outcome in OUTCOMES})
    version = atlas["results"]["claims"].get("version", 1)

    def named(claims):
        return "; ".join(f"Fig. {CLAIMS[c]['figure']}, {CLAIMS[c]['claim']}" for c in claims) or "none"

    at_setting = [c for c in CLAIMS if summary[c]["at_the_figures_setting"] == "holds"]
    everywhere = [c for c in CLAIMS if summary[c]["n"] and summary[c]["holds"] == summary[c]["n"]]
    lines = [
        f"Holding at the figures' setting: {named(at_setting)}. Holding in every atlas setting: "
        f"{named(everywhere)}.",
        "",
        f"Verdicts at the figures' own setting, of {len(verdicts)} claims: {tally}. Across the atlas's "
        "settings (normalization × learning-rate rule × horizon × grid), the counts of distinct "
        f"outcomes (claim definitions version {version}, revised after results were seen; "
        "each version is on the results page):",
        "",
        "| figure | the paper's claim | at the figures' setting | atlas: holds / mixed / "
        "inconclusive / fails of n |",
        "|---|---|---|---|",
    ]
    for claim, meta in CLAIMS.items():
        entry = summary[claim]
        counts = " / ".join(str(entry[k]) for k in OUTCOMES) + f" of {entry['n']}"
        lines.append("| " + " | ".join(_cell(x) for x in (
            meta["figure"], meta["claim"], f"**{entry['at_the_figures_setting']}**", counts)) + " |")
    lines.append("| 5-right | " + " | ".join(_cell(x) for x in (
        "overparameterizing the MNIST convnet's dense layers accelerates it",
        figure5_right_short(docs["figure5_right"]), "—")) + " |")
    lines += datasets_report.readme_sentences(docs.get("datasets"))
    lines += ["", "Every number behind these verdicts (medians and ranges over seeds, what decides "
              "each count): [docs/results.md](docs/results.md)."]
    return "\n".join(lines)


def figure5_right_short(doc) -> str:
    """The overparameterized model's loss ratio to the original over the last iteration range."""
    if doc is None:
        return "—"
    over = doc["results"]["over_seeds"]
    ratios = over.get("overparameterized", {}).get("smoothed_ratio_to_original_by_range")
    if not ratios:
        return "—"
    last = {column: list(ratios[column].items())[-1] for column in ("total_loss", "cross_entropy")}
    seeds = len(over["original"]["seeds"])
    return (f"no verdict: overparameterized ÷ original over iterations {last['total_loss'][0]}, "
            f"total loss {number(last['total_loss'][1]['median'])}, cross-entropy "
            f"{number(last['cross_entropy'][1]['median'])} (median of {seeds} seeds)")


def figure5_right_text(doc) -> str:
    if doc is None:
        return "—"
    over = doc["results"]["over_seeds"]
    parts = []
    for model in ("overparameterized", "overparameterized_l2_all", "emulated"):
        entry = over.get(model)
        if not entry or "smoothed_ratio_to_original_by_range" not in entry:
            continue
        ratios = entry["smoothed_ratio_to_original_by_range"]
        for column, name in (("total_loss", "total loss"), ("cross_entropy", "cross-entropy")):
            ranges = " / ".join(spread(stat) for stat in ratios[column].values())
            parts.append(f"{model} ÷ original, {name}, iterations "
                         f"{' / '.join(ratios[column])}: {ranges}")
        parts.append(f"{model} test error {spread(entry['test_error_percent'])}%")
    original = over.get("original", {}).get("test_error_percent")
    seeds = len(over["original"]["seeds"])
    parts.append(f"original test error {spread(original)}% ({seeds} seed{'s' if seeds > 1 else ''})")
    return "; ".join(parts)


def convolutions_section(doc) -> list[str]:
    """The convolution study's numbers: a table per model and what the seeds' ranges say."""
    if doc is None:
        return []
    config, results = doc["config"], doc["results"]
    names = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
    steps = sorted(results[config["datasets"][0]][config["models"][0]]["smoothed_cross_entropy_median_at"], key=int)
    lines = ["## Beyond the paper: overparameterized convolutions", "",
             f"{len(config['seeds'])} seeds, {config['num_steps']} steps (the tutorial trains "
             f"{config['tutorial_num_steps']}); cross-entropy: trailing mean of "
             f"{config['smoothing_window']} steps, median over seeds.", "",
             "| data | model | parameters | final test error %, median (per seed) | "
             f"cross-entropy at step {' / '.join(steps)} |", "|---|---|---:|---|---|"]
    for dataset in config["datasets"]:
        for model in config["models"]:
            entry = results[dataset][model]
            seeds = " / ".join(f"{e:.2f}" for e in entry["test_error_percent_per_seed"])
            at = " / ".join(f"{entry['smoothed_cross_entropy_median_at'][k]:.3f}" for k in steps)
            lines.append(f"| {names.get(dataset, dataset)} | {model} | {entry['parameters']:,} | "
                         f"{entry['test_error_percent_median']:.2f} ({seeds}) | {at} |")
    lines.append("")
    for dataset in config["datasets"]:
        finals = {m: results[dataset][m]["final_smoothed_cross_entropy_per_seed"] for m in config["models"]}
        best = min(finals, key=lambda m: sorted(finals[m])[len(finals[m]) // 2])
        apart = [m for m in finals if m != best and max(finals[best]) < min(finals[m])]
        overlap = [m for m in finals if m != best and m not in apart]
        said = (f"its seeds are all below every seed of {', '.join(apart)}" if apart else "")
        said += ("; " if apart and overlap else "") + (
            f"its seed range overlaps {', '.join(overlap)}'s" if overlap else "")
        lines.append(f"- {names.get(dataset, dataset)}: the lowest median final cross-entropy is "
                     f"{best}'s; {said}.")
    collapsed = [results[d][m]["collapsed"] for d in config["datasets"] for m in config["models"]
                 if "collapsed" in results[d][m]]
    lines += [f"- Collapse: {sum(c['identical_test_error'] for c in collapsed)} of {len(collapsed)} "
              "overparameterized models keep their test error in every seed after `collapse`, with "
              f"{sorted({p for c in collapsed for p in c['parameters']})} parameters; logits differ "
              f"by at most {max(c['max_abs_logit_difference'] for c in collapsed):.1e}.", ""]
    return lines


FIGURE_TITLES = {"figure2": "Figure 2", "figure3": "Figure 3", "figure4_left": "Figure 4-left",
                 "figure4_right": "Figure 4-right", "figure5_left": "Figure 5-left",
                 "figure5_right": "Figure 5-right", "conv_overparam": "Overparameterized "
                 "convolutions (beyond the paper)", "atlas": "The robustness atlas",
                 "datasets": "Beyond Ethanol: five regression sets"}


def figures_section(docs) -> list[str]:
    """The figures whose JSON was found, as images (paths from docs/ to results/)."""
    found = [name for name in FIGURES if docs.get(name) is not None]
    if not found:
        return []
    lines = ["## Figures", ""]
    for name in found:
        lines += [f"### {FIGURE_TITLES[name]}", "", f"![{FIGURE_TITLES[name]}](../results/{name}/{name}.png)", ""]
    return lines


def results_page(docs) -> str:
    """docs/results.md: the verdict section, then per claim its outcomes by axis, and the history."""
    lines = ["# Results", "",
             "Written by `python -m reproduce report` from the JSON files in `results/`; do not "
             "edit by hand (a test compares this page with what the command writes).", "",
             "## Verdicts", "", verdict_section(docs), ""]
    lines += figures_section(docs)
    lines += convolutions_section(docs["conv_overparam"])
    atlas = docs["atlas"]
    if atlas is not None:
        lines += ["## Outcomes by normalization and horizon", "",
                  "Distinct outcomes per value of each axis the claim depends on "
                  "(holds / mixed / inconclusive / fails).", ""]
        for claim, meta in CLAIMS.items():
            lines.append(f"**Fig. {meta['figure']}: {meta['claim']}** ({meta['definition']})")
            lines.append("")
            for axis, groups in by_axis(atlas, claim).items():
                lines.append(f"- {AXIS_NAMES[axis]}: " + "; ".join(
                    f"{value}: " + " / ".join(str(c[k]) for k in OUTCOMES) for value, c in groups.items()))
            lines.append("")
        lines += ["## The definitions' history", "",
                  "Each version's counts as it reported them (versions 0 and 1: holds / partly / "
                  "fails over every setting; version 2: holds / mixed / inconclusive / fails over "
                  "distinct outcomes).", ""]
        changelog = atlas["results"]["claims"].get("changelog", [])
        header = "| claim | " + " | ".join(f"version {e['version']}" for e in changelog) + " |"
        lines += [header, "|---" * (len(changelog) + 1) + "|"]
        for claim in CLAIMS:
            row = [f"{'/'.join(map(str, e['counts'][claim]))}" if "counts" in e else
                   "/".join(str(atlas["results"]["summary"][claim][k]) for k in OUTCOMES)
                   for e in changelog]
            lines.append(f"| {claim} | " + " | ".join(row) + " |")
        lines.append("")
        for entry in changelog:
            lines.append(f"- **Version {entry['version']}**, fixed {entry['fixed']}: "
                         + (entry.get("definitions") or "; ".join(entry.get("changes", [])))
                         + (f" Why: {entry['why']}" if entry.get("why") else ""))
        lines.append("")
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """`text` with the lines between BEGIN and END replaced by `section`."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"the README has no {BEGIN} … {END} section to fill")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{section}\n{END}{tail}"


def run(out_root="results", checkout=".") -> dict:
    """Write the README section and docs/results.md of `checkout` from `out_root`'s JSON."""
    docs = load(out_root)
    checkout = pathlib.Path(checkout)
    readme, page = checkout / "README.md", checkout / "docs" / "results.md"
    written = {}
    if readme.is_file():
        write_atomically(readme, replace_section(readme.read_text(), readme_section(docs)).encode())
        written["readme"] = str(readme)
    if page.parent.is_dir():
        write_atomically(page, results_page(docs).encode())
        written["results_page"] = str(page)
        beyond = page.parent / datasets_report.PAGE
        write_atomically(beyond, datasets_report.page(docs.get("datasets")).encode())
        written["datasets_page"] = str(beyond)
    if not written:
        print(readme_section(docs))
    return written
