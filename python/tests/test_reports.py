"""The Python results mirror the reports typed in the library (docs/reports.schema.json, generated
from the Rust types and checked against them by tests/reports.rs): a field added there without its
Python twin, or the other way round, fails here."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

import regionwalk as rw
from conftest import FIXTURES, ROOT


def properties(report: str) -> set:
    schemas = json.loads((ROOT / "docs" / "reports.schema.json").read_text())
    return set(schemas[report]["properties"])


def test_count_result_has_one_field_per_count_report_field():
    python = {f.name for f in dataclasses.fields(rw.CountResult)} - set(rw.CountResult._LOCAL)
    assert python == properties("CountReport")


def test_results_read_only_documented_fields():
    net = rw.Network.from_file(FIXTURES / "small" / "marabou" / "fc_2-2-3.nnet")
    b = rw.bound(net, [0.1, -0.2], 0.5)
    assert set(b.report) == properties("BoundsReport")
    assert {"bounds", "best", "lower", "skipped", "exact"} <= properties("BoundsReport")
    v = rw.validate(net, [0.1, -0.2], 0.5, linear=True)
    assert set(v.report) <= properties("ValidateReport")
    assert v.count.units == v.report["units"] == "normalised"
    c = rw.count(net, [0.1, -0.2], 0.5, certify=True, linear=True)
    assert set(c.report) == properties("CountReport")
    assert c.uncertified == [] and c.certified == c.regions


def test_audit_columns_are_the_audit_rows():
    # The row's [layer, neuron] pair is split into two columns.
    columns = set(rw.AUDIT_COLUMNS) - {"boundary_layer"}
    assert columns == properties("AuditRow")
    rows = rw.audit(rw.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]),
                    np.zeros((1, 2)), 0.5, as_frame=False)
    assert set(rows) == set(rw.AUDIT_COLUMNS)


def test_estimate_result_has_one_field_per_estimate_report_field():
    python = {f.name for f in dataclasses.fields(rw.EstimateResult)} - {"report"}
    assert python == properties("EstimateReport")
