//! A network restricted to a domain: what every question (count, bound, graph, validate) runs on.
//!
//! The CLI and the Python package build a [`Problem`] the same way, so that they count the same
//! regions: a box coordinate of zero width is *fixed* (as VNN-COMP properties write `X_i = c`), the
//! walk runs on the slice of the network over the free coordinates, and reports lift points back
//! into all of the model's inputs. Reports describe the domain from the [`Domain`] itself.

use crate::bound::BoundReport;
use crate::cluster::{self, Cluster, DataflowResult};
use crate::domain::{Domain, Norm, Shape};
use crate::estimate::{estimate_columns, Estimate, EstimateColumns, EstimateOptions};
use crate::exact::certify::{certify, Certification};
use crate::exact::{self, Checkpoint, WalkOptions, WalkResult};
use crate::model::{lift_point, Network};
use crate::report::{
    BoundFields, BoundsReport, ClipBox, CountReport, DataflowCountReport, DomainKind, DomainReport, EstimateReport,
    Uncertified, ValidateReport,
};
use crate::tolerance::BUDGETS_WITH_ESTIMATE;
use crate::{Error, Result};
use num_bigint::BigUint;
use std::path::Path;
use std::time::Instant;

/// A network and the domain its regions are counted in.
#[derive(Clone, Debug)]
pub struct Problem {
    /// The network the walk runs on: the model itself, or its slice where inputs are fixed.
    pub net: Network,
    /// The domain, over the free inputs only when some are fixed.
    pub domain: Domain,
    /// Inputs held constant, as (index among the model's inputs, value).
    pub fixed: Vec<(usize, f64)>,
    /// `.nnet` models: the units points are in (`normalised` or `raw`), for the reports.
    pub units: Option<&'static str>,
}

/// How `estimate` reports its method.
pub const ESTIMATE_METHOD: &str = "probes down the neuron cut tree (`tree`: the box partition's or the certified \
     LP one; Knuth's paths, or populations of `width` nodes thinned without bias) below an exactly enumerated prefix \
     (strata), children by their share of a domain sample; stratified bootstrap percentile interval";

impl Problem {
    /// The open ball `B(center, radius)` of `net`'s input space.
    pub fn ball(net: Network, center: &[f64], radius: f64, norm: Norm) -> Result<Self> {
        net.check_point(center, "the centre")?;
        let domain = Domain::ball(center, radius, norm)?;
        Ok(Problem { net, domain, fixed: vec![], units: None })
    }

    /// The open box `lower < x < upper`; coordinates with `lower == upper` are fixed and the
    /// problem becomes the slice through them.
    pub fn boxed(net: Network, lower: &[f64], upper: &[f64]) -> Result<Self> {
        let n0 = net.input_dim();
        if lower.len() != n0 || upper.len() != n0 {
            return Err(Error::Domain(format!(
                "the box has {} lower and {} upper bounds but the network has {n0} inputs",
                lower.len(),
                upper.len()
            )));
        }
        let fixed: Vec<(usize, f64)> =
            (0..n0).filter(|&i| lower[i] == upper[i] && lower[i].is_finite()).map(|i| (i, lower[i])).collect();
        if fixed.is_empty() {
            return Ok(Problem { domain: Domain::boxed(lower, upper)?, net, fixed, units: None });
        }
        if fixed.len() == n0 {
            return Err(Error::Domain(
                "every box coordinate has zero width: the domain is a single point (evaluate the network there)".into(),
            ));
        }
        let free =
            |v: &[f64]| -> Vec<f64> { (0..n0).filter(|i| !fixed.iter().any(|f| f.0 == *i)).map(|i| v[i]).collect() };
        let domain = Domain::boxed(&free(lower), &free(upper)).map_err(|e| {
            Error::Domain(format!("{e} (coordinates numbered among the free ones, after removing the fixed)"))
        })?;
        Ok(Problem { net: net.with_fixed_inputs(&fixed)?, domain, fixed, units: None })
    }

    /// The model's own input box.
    pub fn input_box(net: Network) -> Result<Self> {
        let b = net.input_box().ok_or_else(|| Error::Domain("the model declares no input box".into()))?.clone();
        Problem::boxed(net, &b.lower, &b.upper)
    }

    /// The whole input space (small networks only: every region is counted).
    pub fn whole(net: Network) -> Self {
        let domain = Domain::whole(net.input_dim());
        Problem { net, domain, fixed: vec![], units: None }
    }

    /// The same problem, its reports saying that points are in `units` (see
    /// [`crate::model::io::units`]).
    pub fn with_units(self, units: Option<&'static str>) -> Self {
        Problem { units, ..self }
    }

    /// The domain intersected with the model's input box.
    pub fn clipped_to_input_box(self) -> Result<Self> {
        if !self.fixed.is_empty() {
            return Err(Error::Domain("clipping to the input box does not combine with fixed box coordinates".into()));
        }
        let b = self
            .net
            .input_box()
            .ok_or_else(|| Error::Domain("the model declares no input box to clip to".into()))?
            .clone();
        Ok(Problem { domain: self.domain.clipped(&b.lower, &b.upper)?, ..self })
    }

    /// Runs the exact walk (or continues it from `checkpoint`); the result's points are in the
    /// model's own inputs.
    pub fn walk(&self, options: &WalkOptions, checkpoint: Option<Checkpoint>) -> Result<WalkResult> {
        // Streamed regions get the fixed inputs back as they go.
        let fixed = self.fixed.clone();
        let sink = match &options.sink {
            Some(s) if !fixed.is_empty() => Some(s.mapped(move |p| *p = lift_point(p, &fixed))),
            other => other.clone(),
        };
        let options = &WalkOptions { sink, ..options.clone() };
        let mut result = match checkpoint {
            Some(c) => exact::resume(&self.net, &self.domain, options, c)?,
            None => exact::count(&self.net, &self.domain, options)?,
        };
        self.lift(&mut result);
        Ok(result)
    }

    /// The walk on timely dataflow ([`cluster::walk_dataflow`]): the result on process 0,
    /// `None` on the others.
    pub fn walk_dataflow(
        &self,
        options: &WalkOptions,
        cluster: &Cluster,
        resume: Option<&Path>,
        gather: bool,
    ) -> Result<Option<DataflowResult>> {
        let mut result = cluster::walk_dataflow(&self.net, &self.domain, options, cluster, resume, gather)?;
        if let Some(r) = &mut result {
            self.lift(&mut r.walk);
        }
        Ok(result)
    }

    /// The count report of a dataflow walk: [`Problem::count_report`] with the regions of every
    /// worker, the cluster's shape and its traffic.
    pub fn dataflow_report(&self, r: &DataflowResult) -> DataflowCountReport {
        DataflowCountReport {
            count: CountReport { regions: r.regions, ..self.count_report(&r.walk) },
            processes: r.processes,
            workers: r.workers,
            shards: r.shards.clone(),
            remote_records: r.remote_records,
            remote_bytes: r.remote_bytes,
            remote_bytes_per_region: r.remote_bytes as f64 / r.regions.max(1) as f64,
        }
    }

    /// Re-checks every region of `result` (a walk of this problem) in exact rational arithmetic.
    pub fn certify(&self, result: &WalkResult) -> Certification {
        if self.fixed.is_empty() {
            return certify(&self.net, &self.domain, result);
        }
        // The walk's points were lifted into the model's inputs; the certificate is about the slice.
        let mut free = result.clone();
        let keep = |p: &mut Vec<f64>| {
            *p = p.iter().enumerate().filter(|(i, _)| !self.fixed.iter().any(|f| f.0 == *i)).map(|(_, v)| *v).collect()
        };
        free.start.iter_mut().for_each(keep);
        free.regions.iter_mut().filter_map(|r| r.witness.as_mut()).for_each(keep);
        certify(&self.net, &self.domain, &free)
    }

    /// Puts the fixed inputs back into the walk's points (start and witnesses).
    fn lift(&self, result: &mut WalkResult) {
        if self.fixed.is_empty() {
            return;
        }
        let lift = |p: &mut Vec<f64>| *p = lift_point(p, &self.fixed);
        result.start.iter_mut().for_each(lift);
        result.regions.iter_mut().filter_map(|r| r.witness.as_mut()).for_each(lift);
    }

    /// Indices of the fixed inputs.
    pub fn fixed_indices(&self) -> Vec<usize> {
        self.fixed.iter().map(|&(i, _)| i).collect()
    }

    /// The domain's kind.
    pub fn kind(&self) -> DomainKind {
        match self.domain.shape() {
            Shape::Ball { .. } => DomainKind::Ball,
            Shape::Box { .. } => DomainKind::Box,
            Shape::Whole => DomainKind::Whole,
        }
    }

    /// The domain in full: kind, norm, centre, radius, box bounds (in the model's inputs, fixed
    /// coordinates included), fixed inputs and clip box.
    pub fn domain_report(&self) -> DomainReport {
        let (norm, center, radius, lower, upper) = match self.domain.shape() {
            Shape::Ball { center, radius, norm } => (Some(*norm), Some(center.clone()), Some(*radius), None, None),
            Shape::Box { lower, upper } => {
                (None, None, None, Some(lift_point(lower, &self.fixed)), Some(lift_point(upper, &self.fixed)))
            }
            Shape::Whole => (None, None, None, None, None),
        };
        DomainReport {
            kind: self.kind(),
            norm,
            center,
            radius,
            lower,
            upper,
            fixed: self.fixed_indices(),
            clip: self.domain.clip().map(|(l, u)| ClipBox { lower: l.to_vec(), upper: u.to_vec() }),
        }
    }

    /// A phrase for text reports: "L2 ball of radius 0.5", "box", ….
    pub fn describe(&self) -> String {
        let clip = if self.domain.clip().is_some() { " ∩ input box" } else { "" };
        match self.domain.shape() {
            Shape::Ball { radius, norm: Norm::L2, .. } => format!("L2 ball of radius {radius}{clip}"),
            Shape::Ball { radius, norm: Norm::Linf, .. } => format!("L-inf ball of radius {radius}{clip}"),
            Shape::Box { .. } if !self.fixed.is_empty() => {
                format!("box (slice with inputs {:?} fixed)", self.fixed_indices())
            }
            Shape::Box { .. } => "box".to_string(),
            Shape::Whole => "whole input space".to_string(),
        }
    }

    /// The count report shared by `count`, `validate` and the Python package: regions, whether
    /// the walk finished, the domain, solver work and the start point (`linear_regions` and the
    /// certificate are left for the caller that asked for them).
    pub fn count_report(&self, r: &WalkResult) -> CountReport {
        let d = self.domain_report();
        CountReport {
            regions: r.count(),
            complete: r.complete(),
            stopped_by: r.stopped_by(),
            domain: d.kind,
            fixed: d.fixed,
            norm: d.norm,
            center: d.center,
            radius: d.radius,
            lp_solves: r.counters.lp_solves,
            qp_solves: r.counters.qp_solves,
            dual_solves: r.counters.dual_solves,
            dual_fallbacks: r.counters.dual_fallbacks,
            reused_refutations: r.counters.reused_refutations,
            touching: r.counters.touching,
            unverified: r.unverified,
            screened: r.screened,
            known_neighbours: r.known_neighbours,
            collision_bound: r.collision_bound,
            spilled_regions: r.spilled_regions,
            start: r.start.clone(),
            seconds: r.seconds,
            engine: r.engine,
            units: self.units,
            linear_regions: None,
            certified: None,
            uncertified: None,
        }
    }

    /// The bound report: every bound of `report`, the domain and the units.
    pub fn bound_report(&self, report: &BoundReport, estimate: EstimateColumns) -> BoundsReport {
        BoundsReport {
            fields: BoundFields::of(report),
            estimate,
            exact: report.exact,
            domain: self.domain_report(),
            units: self.units,
        }
    }

    /// Linear regions of the function among a walk's regions; `None` for a partial walk, where
    /// the number is not a bound of anything (linear regions are not monotone, theory P2).
    pub fn linear_regions(&self, walk: &WalkResult) -> Option<usize> {
        walk.complete().then(|| crate::exact::merge::linear_regions(&self.net, walk).1)
    }

    /// `report` with the certificate's fields filled in: `certified` and `uncertified`.
    pub fn certified(report: CountReport, c: &Certification) -> CountReport {
        let failures = c.failures.iter().map(|(i, why)| Uncertified { region: *i, reason: why.clone() }).collect();
        CountReport { certified: Some(c.certified), uncertified: Some(failures), ..report }
    }

    /// Estimates the regions by Knuth probes (`crate::estimate`); the report puts the estimate
    /// beside the certified bracket of `bounds` (computed by the caller over the same problem).
    pub fn estimate_report(&self, e: &Estimate, bounds: &BoundReport, seed: u64) -> EstimateReport {
        let best = bounds.best();
        let lower = e.certified_regions.max(bounds.lower);
        let within = |v: f64| Estimate::within(v, lower, best.map(|b| &b.value));
        EstimateReport {
            kind: "statistical",
            method: ESTIMATE_METHOD,
            estimate: within(e.estimate),
            estimate_low: within(e.low),
            estimate_high: within(e.high),
            mean: e.estimate,
            confidence: e.confidence,
            standard_error: e.standard_error,
            probes: e.probes,
            width: e.width,
            tree: e.tree,
            strata: e.strata,
            effective_probes: e.effective_probes,
            max_share: e.max_share,
            reliable: e.reliable,
            seed,
            lower,
            upper: best.map(|b| b.value.to_string()),
            upper_method: best.map(|b| b.method.name().to_string()),
            domain: self.domain_report(),
            units: self.units,
            lp_solves: e.counters.lp_solves,
            dual_solves: e.counters.dual_solves,
            seconds: e.seconds,
        }
    }

    /// A statistical estimate beside the certified bracket `[lower, bounds' best]`, made only when
    /// the bracket is not closed (null columns otherwise, and when no estimate finishes within
    /// the time limit): what `bound` and `validate` report when the walk did not finish. The
    /// bounds began at `started` with a budget equal to the estimate's time limit; the estimate
    /// has what is left of [`BUDGETS_WITH_ESTIMATE`] of them, and is not tried when the bounds'
    /// analysis alone outlasted the budget (a CIFAR ResNet's).
    pub fn estimate_if_open(
        &self,
        lower: usize,
        bounds: &BoundReport,
        options: &EstimateOptions,
        started: Instant,
    ) -> Result<EstimateColumns> {
        if !bounds.is_open(lower) {
            return Ok(EstimateColumns::default());
        }
        let (lower, upper) = (lower.max(bounds.lower), bounds.best().map(|b| &b.value));
        let mut options = options.clone();
        if let Some(budget) = options.time_limit {
            let left = (budget * BUDGETS_WITH_ESTIMATE).saturating_sub(started.elapsed());
            if bounds.analysis >= budget || left.is_zero() {
                return Ok(EstimateColumns::default());
            }
            options.time_limit = Some(left);
        }
        estimate_columns(&self.net, &self.domain, &options, lower, upper, Some(&bounds.screen))
    }

    /// The validate report: the count report with every bound and each bound's ratio to the
    /// count, and the estimate beside them; and, if a bound falls below the count (a soundness
    /// bug), the internal error to raise once the report is shown.
    pub fn validate_report(
        &self,
        walk: &WalkResult,
        report: &BoundReport,
        estimate: EstimateColumns,
    ) -> (ValidateReport, Result<()>) {
        let found = walk.count();
        let unsound: Vec<&str> =
            report.bounds.iter().filter(|b| b.value < BigUint::from(found)).map(|b| b.method.name()).collect();
        let sound = match unsound.is_empty() {
            true => Ok(()),
            false => {
                Err(Error::Internal(format!("bound(s) {} fall below the exact count {found}", unsound.join(", "))))
            }
        };
        let v = ValidateReport {
            count: self.count_report(walk),
            fields: BoundFields::of(report),
            estimate,
            ratios: ValidateReport::ratios(report, found),
        };
        (v, sound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(inputs: usize) -> Network {
        Network::from_rows(&[(vec![vec![1.0; inputs]; 2], vec![0.0, -0.5]), (vec![vec![1.0, 1.0]], vec![0.0])]).unwrap()
    }

    #[test]
    fn zero_width_box_coordinates_are_fixed() {
        let p = Problem::boxed(net(3), &[0.0, 0.5, -1.0], &[1.0, 0.5, 1.0]).unwrap();
        assert_eq!(p.fixed, vec![(1, 0.5)]);
        assert_eq!((p.domain.dim(), p.net.input_dim()), (2, 2));
        assert_eq!(p.domain_report().lower, Some(vec![0.0, 0.5, -1.0]));
        let point = Problem::boxed(net(2), &[0.5, 0.5], &[0.5, 0.5]).unwrap_err().to_string();
        assert!(point.contains("single point"), "{point}");
        // An empty interval among free coordinates is still refused, numbered among the free ones.
        let e = Problem::boxed(net(3), &[0.0, 0.5, 1.0], &[1.0, 0.5, 0.0]).unwrap_err().to_string();
        assert!(e.contains("coordinate 1") && e.contains("free ones"), "{e}");
        let clip = Problem::boxed(net(3), &[0.0, 0.5, -1.0], &[1.0, 0.5, 1.0]).unwrap().clipped_to_input_box();
        assert!(clip.unwrap_err().to_string().contains("fixed box coordinates"));
    }

    #[test]
    fn walks_on_a_slice_report_points_in_the_model_inputs() {
        let p = Problem::boxed(net(3), &[-1.0, 0.25, -1.0], &[1.0, 0.25, 1.0]).unwrap();
        let r = p.walk(&WalkOptions::default(), None).unwrap();
        assert!(r.complete() && r.count() > 1);
        for region in &r.regions {
            let w = region.witness.as_ref().unwrap();
            assert_eq!((w.len(), w[1]), (3, 0.25));
        }
        assert_eq!(p.certify(&r).certified, r.count());
    }

    #[test]
    fn a_walk_that_dropped_regions_is_never_exact() {
        let p = Problem::boxed(net(2), &[-1.0, -1.0], &[1.0, 1.0]).unwrap();
        let mut r = p.walk(&WalkOptions::default(), None).unwrap();
        assert!(r.complete() && p.count_report(&r).complete);
        // A region reached through a certified facet whose own point could not be certified.
        r.unverified = 1;
        assert!(!r.complete() && r.stopped_by().is_none());
        assert!(!p.count_report(&r).complete);
        assert_eq!(p.linear_regions(&r), None);
    }
}
