//! Every numerical tolerance of the library, in one place, with its unit and meaning.
//!
//! LPs and QPs are solved in a *normalised frame*: coordinates are shifted to the domain's centre
//! and divided by its scale (the radius of a ball, the largest half-width of a box, 1 for the whole
//! space), and every constraint is divided by the norm of its normal. Distances below are therefore
//! fractions of the domain's size.

/// Relative size under which a computed coefficient counts as an exact cancellation: a surrogate
/// row `a` (or offset `β`) whose norm is below `CANCEL * (sum of |terms| that formed it)` is zero.
pub const CANCEL: f64 = 1e-10;

/// Margin (frame units) that an LP's inscribed-ball slack `t` must exceed to certify that an open
/// polyhedron meets the open domain. Slacks in `[-DECIDE, DECIDE]` are *borderline*: counted as
/// "does not meet" (touching is not meeting, theory §2.1) and tallied, so that users see them.
pub const DECIDE: f64 = 1e-7;

/// Shift (frame units) by which the dual least-norm solver moves every row and box side inwards
/// when it looks for a witness (`lp::fast`): the witness then has this much room, so that the
/// next region's witness stepped off it has room too. Facets thinner than this are retried with
/// `4·DECIDE`.
pub const WITNESS_SHIFT: f64 = 1e-4;

/// A hyperplane whose normalised offset exceeds `1 + SCREEN` misses the unit ball; used to screen
/// hyperplanes before any LP. Pure rounding margin.
pub const SCREEN: f64 = 1e-12;

/// HiGHS primal and dual feasibility tolerance.
pub const SOLVER_FEASIBILITY: f64 = 1e-9;

/// Maximum number of Kelley cutting-plane rounds in the reference ball test before the decision is
/// reported as borderline.
pub const KELLEY_ROUNDS: usize = 400;

/// Reach (frame units; input units for the whole space) of the LP-free facet test on a line: only
/// the part of a facet within this distance of the frame origin is looked at. Nearly parallel
/// lines meet ~1/angle away, where coordinates carry no correct digits; no domain reaches that far
/// except the whole space, whose regions are decided within this reach.
pub const LINE_REACH: f64 = 1e6;
/// Cap on the inscribed radius in LPs over an unbounded domain (the whole input space), so that the
/// LP stays bounded (theory §6.3, T1).
pub const WHOLE_SPACE_SLACK_CAP: f64 = 1.0;

/// A point certifies its activation region when every non-constant pre-activation satisfies
/// `|z| > WITNESS * (magnitude of the terms of z)`.
pub const WITNESS: f64 = 1e-9;

/// Relative widening of every interval bound, so that floating-point rounding cannot make a bound
/// unsound: a computed bound is moved outward by `ROUNDING` times the magnitude of the terms that
/// formed it (rounding errors of the sums involved are below 1e-13 of that magnitude for networks
/// of up to ~10⁵ neurons per layer).
pub const ROUNDING: f64 = 1e-11;

/// Two constraints of a region are the same hyperplane (one facet, flipped together) when their
/// unit normals agree to this in every coordinate and their offsets (frame units) to this
/// relative: duplicated, opposite and scaled neurons, computed by different products.
pub const COINCIDENT: f64 = 1e-9;

/// Widening (frame units) of a box bounding region ∩ domain (propagated or from LPs), for the
/// rounding of bound propagation and the LP solver's feasibility tolerance.
pub const BOX_SLACK: f64 = 1e-7;

/// A corner of the double description closer than this (frame units) to a constraint's
/// hyperplane lies on it (`exact::vertices`).
pub const CORNER_ON: f64 = 1e-9;

/// Pivot below which a row of unit normals counts as dependent in the rank tests of
/// `exact::vertices` (edges, facet spans), relative to the largest entry.
pub const RANK_PIVOT: f64 = 1e-9;

/// Relative size under which a layer-map row updated by a low-rank correction is recomputed from
/// the previous layer (`model::maps`): far above the update's rounding (~1e-15), far below any row
/// a network computes on purpose, so that neuron kinds come out as from scratch.
pub const NEAR_CANCEL: f64 = 1e-6;

/// Two output maps are the same linear piece when `‖ΔJ‖ + ‖Δc‖ ≤ MAP_EQUAL·(‖J‖ + ‖c‖)` (plus an
/// absolute floor for zero maps; `exact::merge`).
pub const MAP_EQUAL: f64 = 1e-9;

/// Rounding margin (relative to the offsets) of the one-constraint separation screen
/// (`exact::geometry::separated`), whose bounds are sums of a few products.
pub const SEPARATION: f64 = 1e-9;

/// A slice polygon (`plot::slice`) of area below this times r² is a numerical sliver and dropped.
pub const SLICE_AREA: f64 = 1e-14;

/// A plot plane whose direction (or second direction, relative to its length) is shorter than this
/// after Gram–Schmidt is degenerate and refused (`plot::slice`).
pub const PLANE_DEGENERATE: f64 = 1e-12;

/// Relative outward rounding of the certified spectral-norm bound (`analysis::linalg`).
pub const NORM_ROUNDING: f64 = 1e-9;

/// Two normalised `(w, b)` rows of a layer are the same hyperplane for the bounds' rank counts
/// (`bound`): far below [`COINCIDENT`], so a merge there is always a merge in the walk.
pub const PROPORTIONAL: f64 = 1e-13;

/// KKT tolerance (frame units) of the dual least-norm iteration (`lp::dual`) on violations and
/// complementarity. Nothing depends on it for soundness: every answer is checked afterwards.
pub const DUAL_OPTIMAL: f64 = 1e-13;

/// Relative size (to the row's norm) below which a first-layer row's residual against the basis
/// built so far is rounding, not a direction, when an L2 ball is walked in the first layer's row
/// space (`exact::reduce`); the basis is checked orthonormal and spanning to this level.
pub const ROW_SPACE: f64 = 1e-12;
