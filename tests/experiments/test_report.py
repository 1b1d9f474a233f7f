"""The verdict text is written from the JSON, never typed: the committed README section and
docs/results.md are exactly what `python -m reproduce report` writes from results/; and the
layout check that every figure passes finds what it should."""

import matplotlib
import pytest
from helpers import ROOT

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reproduce.lab import plotting  # noqa: E402
from reproduce.experiments import report  # noqa: E402


@pytest.fixture(scope="module")
def committed():
    return report.load(ROOT / "results")


def test_the_readme_verdicts_are_what_report_writes(committed):
    readme = (ROOT / "README.md").read_text()
    assert report.replace_section(readme, report.readme_section(committed)) == readme, (
        "README.md's verdict section differs from the JSON: run `python -m reproduce report`")


def test_the_results_page_is_what_report_writes(committed):
    page = (ROOT / "docs" / "results.md").read_text()
    assert page == report.results_page(committed), (
        "docs/results.md differs from the JSON: run `python -m reproduce report`")


def test_every_claim_has_a_row_with_its_counts(committed):
    section = report.verdict_section(committed)
    summary = committed["atlas"]["results"]["summary"]
    for claim, entry in summary.items():
        counts = " / ".join(str(entry[k]) for k in ("holds", "mixed", "inconclusive", "fails"))
        assert f"{counts} of {entry['n']}" in section, claim
    assert "revised after results were seen" in section


def test_the_readme_table_has_every_claim_and_points_at_the_numbers(committed):
    section = report.readme_section(committed)
    summary = committed["atlas"]["results"]["summary"]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(summary) + 1  # header, one per claim, Figure 5-right
    for claim, entry in summary.items():
        counts = " / ".join(str(entry[k]) for k in ("holds", "mixed", "inconclusive", "fails"))
        assert f"**{entry['at_the_figures_setting']}** | {counts} of {entry['n']}" in section, claim
    verdicts = [entry["at_the_figures_setting"] for entry in summary.values()]
    assert f"of {len(verdicts)} claims: " in section
    assert f"claims: holds {verdicts.count('holds')}, " in section
    assert "[docs/results.md](docs/results.md)" in section
    everywhere = [claim for claim, entry in summary.items() if entry["holds"] == entry["n"]]
    said = section.split("Holding in every atlas setting: ", 1)[1].split("\n", 1)[0]
    assert said.count("Fig. ") == len(everywhere)


def test_the_results_page_shows_each_figure(committed):
    page = report.results_page(committed)
    for name, doc in committed.items():
        if doc is not None:
            assert f"](../results/{name}/{name}.png)" in page, name
            assert (ROOT / "results" / name / f"{name}.png").is_file(), name


def test_numbers_as_text():
    assert report.spread({"median": 0.05301, "min": 0.0529, "max": 0.0532}) == "0.053 [0.0529–0.0532]"
    assert report.spread({"median": 18864.0, "min": 18817.0, "max": 19058.0}) == "18,864 [18,817–19,058]"
    assert report.spread({"median": None, "seeds_with_a_value": 2}) == "not reached (2 seeds reach it)"
    assert report.reaching({"median": 242.0, "min": 232.0, "max": 250.0}, "1e-1") == "to 1e-1 in 242 [232–250]"
    assert report.reaching({"median": None, "seeds_with_a_value": 0}, "1e-2") == "1e-2 not reached"
    assert report.rate(1e-3) == "1e-3" and report.rate(None) == "none"


def test_replace_section_needs_both_markers():
    text = f"a\n{report.BEGIN}\nold\n{report.END}\nb"
    assert report.replace_section(text, "new") == f"a\n{report.BEGIN}\nnew\n{report.END}\nb"
    with pytest.raises(ValueError, match="verdicts:begin"):
        report.replace_section("no markers", "new")


def _figure():
    figure, ax = plt.subplots()
    ax.plot([1, 10, 100], [1e-3, 1e-2, 1], label="curve")
    ax.set_yscale("log")
    ax.set_title("t")
    return figure, ax


def test_the_layout_check_finds_missing_labels_overlaps_and_legends_over_data():
    figure, ax = _figure()
    assert plotting.layout_problems(figure) == ["'t': the x axis has no label",
                                                "'t': the y axis has no label"]
    ax.set(xlabel="iteration", ylabel="loss")
    assert plotting.layout_problems(figure) == []
    ax.text(50, 1e-2, "hello")
    ax.text(50, 1e-2, "world")
    legend = ax.legend(loc="lower right")  # a corner the curve does not reach
    assert plotting.layout_problems(figure) == ["text 'hello' overlaps 'world'"]
    box = legend.get_window_extent(figure.canvas.get_renderer())
    x, y = ax.transData.inverted().transform(((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2))
    ax.plot([x], [y], "o", label="under the legend")
    assert "'t': the legend covers data of 'under the legend'" in plotting.layout_problems(figure)
    plt.close(figure)


def test_category_axes_need_no_label():
    figure, ax = plt.subplots()
    ax.imshow([[0, 1], [1, 0]])
    ax.set_xticks([0, 1], ["a", "b"])
    ax.set_yticks([0, 1], ["c", "d"])
    assert plotting.layout_problems(figure) == []
    plt.close(figure)


def test_what_decides_it_is_the_axis_that_separates_the_outcomes():
    def cell(norm, horizon, outcome, rate):
        return {"normalization": norm, "learning_rate_grid": "paper", "horizon": horizon,
                "selection_rule": "area",
                "claims": {"fig3_l4": {"outcome": outcome, "decided_by": {"l4 GD depth 1": rate}}}}

    cells = [cell("z-score", 25_000, "holds", 1e-3), cell("z-score", 100_000, "holds", 1e-3),
             cell("min-max", 25_000, "fails", 1e-3), cell("min-max", 100_000, "fails", 1e-2)]
    summary = {"fig3_l4": {"holds": 2, "mixed": 0, "inconclusive": 0, "fails": 2, "n": 4}}
    atlas = {"results": {"cells": cells, "summary": summary}}
    assert report.decides(atlas, "fig3_l4") == "the normalization: z-score: holds 2; min-max: fails 2"
    cells[3]["claims"]["fig3_l4"]["outcome"] = "holds"
    summary["fig3_l4"].update(holds=3, fails=1)
    assert report.decides(atlas, "fig3_l4").endswith(
        "(1 of 4 differ within their normalization: the learning rates selected)")
    summary["fig3_l4"].update(holds=4, fails=0)
    assert report.decides(atlas, "fig3_l4") == "holds in every setting tried"


def test_the_data_sets_page_is_what_report_writes(committed):
    from reproduce.experiments import datasets_report

    page = (ROOT / "docs" / datasets_report.PAGE).read_text()
    assert page == datasets_report.page(committed["datasets"]), (
        f"docs/{datasets_report.PAGE} differs from the JSON: run `python -m reproduce report`")
    if committed["datasets"] is not None:  # one generated sentence per claim in the README
        readme = (ROOT / "README.md").read_text()
        for claim in committed["datasets"]["results"]["claims"]:
            assert datasets_report.claim_sentence(committed["datasets"]["results"], claim) in readme
