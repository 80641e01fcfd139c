"""A smoke run of benchmarks/matching.py at a tiny size, so that a change to the matching
engine's interface, or a wrong answer from it, breaks the build rather than the next benchmark.
Timings are not checked here (see docs/benchmarks.md)."""

import matching


def test_a_tiny_run_reports_every_part_and_finds_no_wrong_answer(capsys):
    status = matching.main(
        [
            "--volunteers",
            "3000",
            "--latency-requests",
            "60",
            "--batch-volunteers",
            "2000",
            "--requests",
            "100,200",
            "--runs",
            "1",
            "--output",
            "-",
        ]
    )

    report = capsys.readouterr().out
    assert status == 0
    for heading in (
        "### Targets",
        "### Building and changing the index (3,000 volunteers)",
        "### One request, top 20 (3,000 volunteers)",
        "### Batch assignment (2,000 volunteers)",
    ):
        assert heading in report
    assert "Recall against the scan: 100.00 %" in report
    assert "60 of 60 answers identical" in report
    assert "Every assignment checked" in report


def test_the_report_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\nKept.\n")

    matching.write_report(path, "## Matching engine: results\n\nFirst.\n")
    matching.write_report(path, "## Matching engine\n\nSecond.\n")

    assert path.read_text() == (
        "# Benchmarks\n\nKept.\n\n<!-- results: matching -->\n## Matching engine\n\nSecond.\n"
        "<!-- end results: matching -->\n"
    )
