"""The one result type: JSON round trip, tidy rows and frames, the scipy law it names."""

from __future__ import annotations

import dataclasses
import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.estimators.results import check_fitted_data


@pytest.fixture(scope="module")
def fits() -> list[ws.WeibullFit]:
    w = np.random.default_rng(0).normal(0.0, 0.02, 5000)
    return [ws.fit(w, name, values="weights") for name in ws.ESTIMATORS]


def test_json_round_trip(fits: list[ws.WeibullFit]) -> None:
    """to_json -> json.loads -> from_dict gives back an equal result, for every estimator."""
    for fit in fits:
        text = fit.to_json()
        back = ws.WeibullFit.from_dict(json.loads(text))
        assert back == fit
        assert back.to_json() == text
        if "trim" in back.options:
            assert back.options["trim"] == fit.options["trim"] and isinstance(back.options["trim"], tuple)


def test_non_finite_diagnostics_become_null() -> None:
    fit = ws.WeibullFit(shape=1.0, scale=2.0, estimator="mle", n=10, n_used=10, shape_se=math.nan)
    data = fit.to_dict()
    assert data["shape_se"] is None
    assert json.loads(fit.to_json())["shape_se"] is None


def test_from_dict_rejects_unknown_fields() -> None:
    data = ws.WeibullFit(shape=1.0, scale=2.0, estimator="mle", n=10, n_used=10).to_dict()
    with pytest.raises(ValueError, match=r"unknown WeibullFit fields: \['colour'\]"):
        ws.WeibullFit.from_dict({**data, "colour": "red"})


def test_frozen_and_options_immutable(fits: list[ws.WeibullFit]) -> None:
    fit = fits[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.shape = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        fit.options["trim"] = (0.0, 1.0)  # type: ignore[index]


def test_to_row_and_results_table_details(fits: list[ws.WeibullFit]) -> None:
    frame = ws.results_table(fits, details=True)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["estimator"]) == list(ws.ESTIMATORS)
    for column in ("shape", "scale", "n", "n_used", "converged", "r2", "package_version",
                   "omitted_nonfinite", "omitted_zeros", "option_values"):
        assert column in frame.columns
    assert (frame["n"] == 5000).all()
    np.testing.assert_array_equal(frame["shape"].to_numpy(), [f.shape for f in fits])
    row = fits[0].to_row()
    assert json.loads(row["option_trim"]) == [0.1, 0.9]
    assert fits[0].to_series()["shape"] == fits[0].shape
    # each row holds its fit's own columns, as to_row gives them
    for fit, (_, record) in zip(fits, frame.iterrows(), strict=True):
        for key, value in fit.to_row().items():
            assert record[key] == value or (pd.isna(record[key]) and pd.isna(value)), key


def test_results_to_frame_is_the_deprecated_spelling_of_results_table(fits: list[ws.WeibullFit]) -> None:
    with pytest.warns(FutureWarning, match=r"results_to_frame is deprecated: use results_table\(results, "
                                           r"details=True\)"):
        frame = ws.results_to_frame(fits)
    pd.testing.assert_frame_equal(frame, ws.results_table(fits, details=True))
    # the columns it gave before (from to_row), and the table's seed
    assert set(frame.columns) == {k for fit in fits for k in fit.to_row()} | {"seed"}
    assert "results_to_frame" in ws.__all__ and "results_table" in ws.__all__


def test_distribution_is_weibull_min(fits: list[ws.WeibullFit]) -> None:
    from scipy import stats

    for fit in fits:
        dist = fit.distribution()
        assert isinstance(dist.dist, type(stats.weibull_min))
        assert dist.kwds == {"c": fit.shape, "scale": fit.scale}


def test_repr_html_names_fields(fits: list[ws.WeibullFit]) -> None:
    html = fits[0]._repr_html_()
    shown = repr(fits[0]).split("k=")[1].split(",")[0]
    assert html.startswith("<table") and "probability_plot" in html and shown in html


# ---------------------------------------------------------------------- plot needs the fitted data
def test_plot_refuses_data_other_than_the_fitted(fits: list[ws.WeibullFit]) -> None:
    w = np.random.default_rng(0).normal(0.0, 0.02, 5000)  # the fixture's data
    other = np.random.default_rng(1).normal(0.0, 0.02, 5000)  # same size, other values
    for fit in fits:
        magnitudes = np.abs(w)
        assert fit.data_range == (magnitudes.min(), magnitudes.max())
        plt.close(fit.plot(w[::-1].copy()))  # the fitted data, in any order
        plt.close(fit.plot(ws.as_sample(w, form="counts")))  # or their sample
        with pytest.raises(ValueError, match=rf"^`x` is not the data of this {fit.estimator} fit: its "
                                             r"magnitudes span \[.*\], the fitted data's \[.*\]; pass the "
                                             r"fitted data$"):
            fit.plot(other)
        with pytest.raises(ValueError, match=r"it has 4999 values, the fitted data 5000"):
            fit.plot(w[1:], kind="qq")
        with pytest.raises(ValueError, match=r"1 of its values omitted as zeros, 0 of the fitted data's"):
            fit.plot(np.r_[w[:-1], 0.0], kind="hist")
    plt.close("all")


def test_the_fingerprint_survives_the_json_round_trip_and_older_records() -> None:
    x = np.random.default_rng(2).weibull(1.4, 2000).astype(np.float32)
    fit = ws.fit_mle(x)
    assert fit.data_range == (float(x.min()), float(x.max()))
    back = ws.WeibullFit.from_dict(json.loads(fit.to_json()))
    assert back == fit and back.data_range == fit.data_range
    # a record without it (an earlier version) is checked on n and the omissions alone
    older = ws.WeibullFit.from_dict({k: v for k, v in fit.to_dict().items() if k != "data_range"})
    assert older.data_range is None
    check_fitted_data(older, ws.as_sample(x[::-1] * 1.5))
    with pytest.raises(ValueError, match="`w` is not the data of this mle fit"):
        check_fitted_data(fit, ws.as_sample(x * 1.5), name="w")
