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

/// Length (unit normals) below which a hyperplane restricted to a flat of the first layer's
/// arrangement is not trusted to float arithmetic (`exact::whole`): it may be parallel to the flat
/// (length 0) or meet it at a tiny angle, far away, and exact arithmetic decides. Above it the
/// restriction's rounding (~10⁻¹⁵ per coordinate) is below 10⁻⁹ of its length.
pub const RESTRICTED_NORMAL: f64 = 1e-6;

/// Value (input units, relative to 1 + the point's largest coordinate) above which a hyperplane is
/// taken to miss a vertex of the first layer's arrangement without exact arithmetic
/// (`exact::whole`): far above the rounding of a value computed through eight restrictions. Below
/// it, exact arithmetic says whether the hyperplane holds the vertex.
pub const ARRANGEMENT_SIDE: f64 = 1e-10;

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
/// hyperplane lies on it (`exact::walk::vertices`).
pub const CORNER_ON: f64 = 1e-9;

/// Pivot below which a row of unit normals counts as dependent in the rank tests of
/// `exact::walk::vertices` (edges, facet spans), relative to the largest entry.
pub const RANK_PIVOT: f64 = 1e-9;

/// Relative size under which a layer-map row updated by a low-rank correction is recomputed from
/// the previous layer (`model::maps`): far above the update's rounding (~1e-15), far below any row
/// a network computes on purpose, so that neuron kinds come out as from scratch.
pub const NEAR_CANCEL: f64 = 1e-6;

/// Two output maps are the same linear piece when `‖ΔJ‖ + ‖Δc‖ ≤ MAP_EQUAL·(‖J‖ + ‖c‖)` (plus an
/// absolute floor for zero maps; `exact::merge`).
pub const MAP_EQUAL: f64 = 1e-9;

/// Rounding margin (relative to the offsets) of the one-constraint separation screen
/// (`exact::walk::geometry::separated`), whose bounds are sums of a few products.
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
/// space (`exact::walk::reduce`); the basis is checked orthonormal and spanning to this level.
pub const ROW_SPACE: f64 = 1e-12;

/// Relative error (to the objective's 1-norm, in frame units) allowed on an LP's optimal value when
/// it bounds a pre-activation (`bound::hybrid`): a primal point off by the feasibility tolerance in
/// every row moves the objective by at most that times its norm; ten times, for the solver's own
/// rounding.
pub const LP_VALUE: f64 = 10.0 * SOLVER_FEASIBILITY;

/// Shift (frame units) of the dual solver's second witness attempt, for facets thinner than
/// [`WITNESS_SHIFT`] (`lp::fast`): a few decision margins, so that a witness found there still
/// clears [`DECIDE`] after rounding.
pub const THIN_WITNESS_SHIFT: f64 = 4.0 * DECIDE;

/// Largest distance (frame units) from a hyperplane at which a point projected onto it still
/// counts as on it (`lp`): a thousandth of the decision margin, so that a facet witness moved there
/// keeps its margin on every other row.
pub const ON_HYPERPLANE: f64 = DECIDE * 1e-3;

/// A witness found on a line (the 2-D facet test, `exact::walk::geometry`) is accepted when its margin
/// (frame units) exceeds this: the line's interval was already shrunk by [`DECIDE`] at each end,
/// and rounding takes back far less than half of that.
pub const LINE_WITNESS: f64 = 0.5 * DECIDE;

/// A cell's bounding box decides the side of a hyperplane (`exact::partition`) only when the box
/// clears it by this much (frame units): twice [`CORNER_ON`], so that no corner the double
/// description computes in the box can lie on the hyperplane.
pub const BOX_SIDE: f64 = 2.0 * CORNER_ON;

/// Relative rounding margin of the test that a box misses the unit ball (`exact::partition`): the
/// squared distance is a sum of squares of differences, each exact to a few ulps.
pub const BALL_MISS: f64 = 1e-9;

/// An entry of a normalised weight row belongs to the row's support (`bound`, grouping rows before
/// the proportionality test) when its magnitude exceeds this. Far above [`PROPORTIONAL`], so rows
/// that merge share a support; a row split across two buckets is only counted twice (sound).
pub const ROW_SUPPORT: f64 = 1e-6;

/// Ridge added to the Gram matrix of the dual solver's Newton step (`lp::dual`), relative to its
/// largest diagonal entry: keeps the Cholesky factorisation defined on dependent rows. Every
/// answer is checked afterwards, so it affects speed, not soundness.
pub const DUAL_RIDGE: f64 = 1e-12;

/// Largest share of the coordinates the dual solver (`lp::dual`) runs over as a list before it
/// runs over all of them. A listed coordinate costs a gather where all of them run contiguous and
/// vectorised passes; a CNN's convolution rows list a few hundred of 3,072, and a dense row (an
/// MLP's, or a CNN's fully connected layer's) is found dense after an eighth of it is read.
pub const DUAL_LISTED_MAX_SHARE: f64 = 0.125;

/// Fewest working rows at which the dual solver (`lp::dual`) updates its Newton matrix from one
/// iteration to the next instead of building it again. Below it a build is a few products over
/// the free coordinates, cheaper than tracking which coordinates changed (MNIST 256x2's solves,
/// 1–10 rows, ran 4% slower with updates throughout); a CNN probe's solves reach 30–100 rows.
pub const DUAL_GRAM_UPDATE_MIN_ROWS: usize = 8;

/// Largest share of the coordinates whose freedom may change between two iterations for the
/// dual solver's Newton matrix to be updated (a rank-one term each) rather than built again.
pub const DUAL_GRAM_UPDATE_MAX_CHANGED: f64 = 0.25;

/// Relative rounding margin of the row-sum bound in the layer maps' sparse updates
/// (`model::maps`): a value above the bound by more than this certainly exceeds it.
pub const MAP_BOUND: f64 = 1e-12;

/// Relative rounding (to the largest map's norm) of a random projection of two output maps
/// (`plot::graph`), added to the reach within which maps are compared pairwise.
pub const PROJECTION: f64 = 1e-15;

/// Floor of the scale in the rank tests (`exact::walk::vertices`), so that an all-zero set of rows has
/// rank 0 rather than dividing by zero.
pub const RANK_SCALE_FLOOR: f64 = 1e-300;

/// BatchNormalization's `epsilon` when an ONNX node gives none: the default of the ONNX operator
/// specification (not a tolerance of ours).
pub const ONNX_BATCH_NORM_EPSILON: f64 = 1e-5;

// ---- Limits ----

/// Regions of memory a walk keeps in reserve under `--max-memory` (regions; times the bytes per
/// region): what one chunk of 64 regions can add before the next budget check, at up to 32 new
/// neighbours each.
pub const MEMORY_HEADROOM_REGIONS: u64 = 64 * 32;

/// Largest network (hidden neurons) whose walk identifies regions by their exact patterns by
/// default (`exact::walk::visited`, `Identity::Auto`): up to here a pattern is at most 128 bytes;
/// above, a 16-byte fingerprint (with the collision bound in the report) keeps the visited set
/// within the memory targets (a CIFAR CNN's pattern is 2.3 KB).
pub const FINGERPRINT_ABOVE_NEURONS: usize = 1024;

/// Bytes the walk's frontier may hold in memory before its newest part is written to disk
/// (`exact::walk::frontier`); a quarter of `--max-memory` when that is smaller. In 784 inputs a
/// queued region's way in is 12.5 KB, and a walk's frontier reaches a tenth of the regions found
/// (1,729 of 17,657 on MNIST 256x2, L-inf 0.01): 64 MiB holds 5,300 such regions, so walks up to
/// ~50,000 regions in 784-D never spill, and larger ones stay flat in memory (64 MiB is 67 bytes
/// per region at 10⁶).
pub const FRONTIER_MEMORY: u64 = 64 << 20;

/// Random points tried near the domain's centre for a start point off every region boundary
/// (`exact::walk::start_point`). A random point lies on a boundary with probability zero; ten
/// thousand misses mean the network's boundaries are dense there.
pub const START_POINT_TRIES: usize = 10_000;

/// Budgets (`--budget`, counted from the start of the bounds) within which `bound` and `validate`
/// give their estimate column: the bounds take up to one, the estimate what is left of this many,
/// so that a default `bound` answers in about a second. An analysis that alone outlasts the
/// budget (a CIFAR ResNet's) leaves no estimate: a probe there takes seconds.
pub const BUDGETS_WITH_ESTIMATE: u32 = 2;

/// Points sampled for the lower bound when the analysis alone used up the time budget
/// (`bound::bounds`): one batch per thread is 84 points and 0.3 s on `resnet_4b`.
pub const SAMPLES_PAST_BUDGET: usize = 8;

/// Bootstrap resamples behind an estimate's interval (`estimate`): enough that the 2.5% and 97.5%
/// percentiles move by well under the interval's own width from one seed to another.
pub const ESTIMATE_BOOTSTRAP: usize = 2000;

/// Bootstrap resamples behind each effect size's interval in `audit-compare` (default of
/// `--resamples`): the percentile interval's ends then move by a few percent of its width from one
/// seed to another.
pub const COMPARE_BOOTSTRAP: usize = 2000;

/// Effective probes (`(Σ X)² / Σ X²`) below which an estimate's interval is flagged unreliable:
/// with fewer, a few heavy probes make the mean, and a bootstrap of them under-covers.
pub const ESTIMATE_MIN_EFFECTIVE: f64 = 30.0;

/// The largest share of the probes' sum that one probe may carry before the interval is flagged
/// unreliable.
pub const ESTIMATE_MAX_SHARE: f64 = 0.2;

/// Random points of the domain whose patterns measure how a cut-tree node's regions split between
/// its children (`estimate::RegionShare`). Each probe follows the points in its node; a few
/// thousand keep the measure useful for a dozen binary splits at least, and cost one batched
/// forward pass each.
pub const ESTIMATE_SAMPLE_POINTS: usize = 4096;

/// The uniform part of `estimate::RegionShare`'s child probabilities: every feasible child keeps
/// at least half of it, so a child the sample missed multiplies a probe's weight by at most
/// `2 / ESTIMATE_UNIFORM_SHARE`. 0.2 (more weight on the sample) was no better on real networks.
pub const ESTIMATE_UNIFORM_SHARE: f64 = 0.5;

/// Probes per stratum the estimate's exact prefix leaves at least (`estimate::estimate_with`):
/// the breadth-first enumeration of the cut tree's top stops before its frontier passes
/// `probes / ESTIMATE_PROBES_PER_STRATUM` nodes, so that each stratum gets enough probes for a
/// variance and a bootstrap.
pub const ESTIMATE_PROBES_PER_STRATUM: usize = 4;

/// Strata of the estimate's exact prefix, at most, by default: past a few hundred, deeper
/// enumeration removes little variance, and under a time limit (when the number of probes is not
/// known in advance) more strata would leave each with too few probes for a variance.
pub const ESTIMATE_MAX_STRATA: usize = 256;

/// A cut-tree node whose domain-sample points fall below this many gets fresh points drawn
/// inside it (`estimate::volume`), so that the probes' choices follow the regions down to the
/// leaves instead of turning into coin flips once the sample is spent.
pub const ESTIMATE_REFRESH_BELOW: usize = 16;

/// Points drawn inside a node at a refresh: enough to tell a 10% side from a 50% one.
pub const ESTIMATE_REFRESH_POINTS: usize = 64;

/// Hit-and-run steps discarded before a refresh keeps points: the start is the node's witness,
/// which may sit in a corner.
pub const ESTIMATE_HIT_AND_RUN_BURN: usize = 16;

/// Inputs above which a cut-tree node's points are not refreshed (`ESTIMATE_REFRESH_BELOW`): in
/// high dimension hit-and-run mixes slowly and each step costs a pass over the node's rows; on
/// the 784-input MNIST MLP refreshing cut the probes in 10 s from ~2,600 to 600–1,200, with no
/// gain in accuracy, while on 5-input ACAS Xu boxes it helped.
pub const ESTIMATE_REFRESH_MAX_INPUTS: usize = 16;
