"""The billing documents benchmark in smoke size: it renders and reports rates and the ratio."""

from __future__ import annotations

from bench.billing_documents import measure, run


def test_measure_reports_rates_and_the_ratio_to_the_bare_page() -> None:
    result = measure(3)
    assert result["documents_per_s"] > 0
    assert result["bare_pdf_per_s"] > 0
    # the complete document does strictly more work than the bare page
    assert 0 < result["documents_vs_bare_pdf"] < 1
    assert result["document_kib"] > 10  # embedded fonts, ICC profile and XML


def test_run_has_the_bench_result_shape() -> None:
    result = run(smoke=True)
    assert "documents_per_s" in result["metrics"]
    assert "documents_vs_bare_pdf" in result["ratios"]
