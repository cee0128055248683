//! From parsed arguments to a validated job: walk options, bound options and the domain are checked
//! here, before any model is loaded, so that a mistyped flag fails at once.

use super::{flags::*, interrupt_flag, progress_bar};
use anyhow::{bail, Context};
use regionwalk::bound::{BoundOptions, Method};
use regionwalk::domain::Norm;
use regionwalk::exact::{Checkpoint, WalkOptions};
use regionwalk::model::{io, Network};
use regionwalk::plot::slice::Plane;
use regionwalk::problem::Problem;

impl BoundSettings {
    pub(super) fn options(&self) -> anyhow::Result<BoundOptions> {
        Ok(BoundOptions {
            methods: if self.methods.is_empty() { Method::ALL.to_vec() } else { self.methods.clone() },
            samples: self.samples,
            hybrid_layers: self.hybrid_layers,
            hybrid_max_regions: self.hybrid_max_regions,
            budget: BoundOptions::budget_from_seconds(self.budget)?,
        })
    }
}

impl Budget {
    /// The checkpoint `--resume` names, read and parsed (checked against the problem on resume).
    pub(super) fn checkpoint_to_resume(&self) -> anyhow::Result<Option<Checkpoint>> {
        Ok(self.resume.as_deref().map(Checkpoint::load).transpose()?)
    }

    pub(super) fn walk_options(&self, quiet: bool) -> anyhow::Result<WalkOptions> {
        Ok(WalkOptions {
            max_regions: self.max_regions,
            time_limit: self.time_limit,
            progress: progress_bar(quiet),
            edges: false,
            max_memory: self.max_memory,
            interrupt: Some(interrupt_flag()),
            checkpoint: self.checkpoint.clone(),
            highs_only: self.highs_only,
            engine: self.engine,
            count_only: false,
            identity: self.visited,
            frontier_memory: self.frontier_memory,
            sink: None,
            edge_sink: None,
        })
    }
}

impl ModelArgs {
    pub(super) fn load(&self) -> anyhow::Result<Network> {
        Ok(io::load_network_with(&self.model, io::LoadOptions { raw_units: self.raw_units })?)
    }

    /// For `.nnet` models, which units points are in.
    pub(super) fn units(&self) -> Option<&'static str> {
        io::units(&self.model, io::LoadOptions { raw_units: self.raw_units })
    }
}

/// The domain flags, parsed and checked: everything but what needs the network (its input
/// count and input box).
pub(super) struct DomainSpec {
    kind: DomainKind,
    /// Intersect with the model's input box.
    clip: bool,
}

enum DomainKind {
    Whole,
    InputBox,
    /// `--box` pairs: one for every coordinate, or one for all.
    Box(Vec<(f64, f64)>),
    /// A .vnnlib file's box (`source` names it in messages).
    VnnlibBox {
        source: String,
        lower: Vec<f64>,
        upper: Vec<f64>,
    },
    Ball {
        center: Vec<f64>,
        radius: f64,
        norm: Norm,
    },
}

impl DomainArgs {
    /// Parses and checks the domain flags (points, files, radius) without the network.
    pub(super) fn spec(&self) -> anyhow::Result<DomainSpec> {
        Ok(DomainSpec { kind: self.kind()?, clip: self.clip_to_input_box })
    }

    fn kind(&self) -> anyhow::Result<DomainKind> {
        let ball = |center: Vec<f64>, radius: f64| -> anyhow::Result<DomainKind> {
            let norm = self.norm;
            // The domain's own checks (finite centre, positive radius), before the model is read.
            regionwalk::domain::Domain::ball(&center, radius, norm)?;
            Ok(DomainKind::Ball { center, radius, norm })
        };
        if self.whole {
            return Ok(DomainKind::Whole);
        }
        if self.input_box {
            return Ok(DomainKind::InputBox);
        }
        if !self.boxes.is_empty() {
            if self.center.is_some() || self.radius.is_some() {
                bail!("give either a ball (--center and --radius) or a box (--box), not both");
            }
            return Ok(DomainKind::Box(self.boxes.iter().map(|b| parse_box_pair(b)).collect::<anyhow::Result<_>>()?));
        }
        if let Some((vnnlib, which)) = self.center.as_deref().and_then(vnnlib_spec) {
            let text = std::fs::read_to_string(vnnlib).with_context(|| format!("cannot read {vnnlib}"))?;
            let (lower, upper) = match which {
                None => io::input_box_from_vnnlib(&text),
                Some(k) => io::input_boxes_from_vnnlib(&text).and_then(|mut boxes| {
                    let n = boxes.len();
                    (k < n)
                        .then(|| boxes.swap_remove(k))
                        .ok_or_else(|| format!("box {k} requested but the file has {n}"))
                }),
            }
            .map_err(|e| anyhow::anyhow!("{vnnlib}: {e}"))?;
            return match self.radius {
                Some(r) => ball(lower.iter().zip(&upper).map(|(l, u)| 0.5 * (l + u)).collect(), r),
                None => Ok(DomainKind::VnnlibBox { source: vnnlib.to_string(), lower, upper }),
            };
        }
        let (Some(c), Some(r)) = (&self.center, self.radius) else {
            bail!("choose a domain: --center C --radius R (a ball), --box LO,HI, --input-box or --whole");
        };
        ball(io::parse_point(c)?, r)
    }
}

impl DomainSpec {
    /// The problem on the model of `model`, loaded now; its reports name the model's units.
    pub(super) fn load(self, model: &ModelArgs) -> anyhow::Result<Problem> {
        Ok(self.problem(model.load()?)?.with_units(model.units()))
    }

    /// The problem on the loaded network.
    pub(super) fn problem(self, net: Network) -> anyhow::Result<Problem> {
        let n0 = net.input_dim();
        let problem = match self.kind {
            DomainKind::Whole => Problem::whole(net),
            DomainKind::InputBox => Problem::input_box(net)?,
            DomainKind::Box(mut pairs) => {
                if pairs.len() == 1 {
                    pairs = vec![pairs[0]; n0];
                }
                if pairs.len() != n0 {
                    bail!("--box was given {} times; give it once (for every coordinate) or {n0} times", pairs.len());
                }
                let (lower, upper): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
                Problem::boxed(net, &lower, &upper)?
            }
            DomainKind::VnnlibBox { source, lower, upper } => {
                if lower.len() != n0 {
                    bail!("{source} declares {} inputs but the network has {n0}", lower.len());
                }
                Problem::boxed(net, &lower, &upper)?
            }
            DomainKind::Ball { center, radius, norm } => Problem::ball(net, &center, radius, norm)?,
        };
        Ok(if self.clip { problem.clipped_to_input_box()? } else { problem })
    }
}

/// `FILE.vnnlib` or `FILE.vnnlib#K` (box K of a union).
pub(super) fn vnnlib_spec(spec: &str) -> Option<(&str, Option<usize>)> {
    let (file, which) = match spec.rsplit_once('#') {
        Some((f, k)) => (f, Some(k.parse().ok()?)),
        None => (spec, None),
    };
    file.to_ascii_lowercase().ends_with(".vnnlib").then_some((file, which))
}

/// One `--box LO,HI` value.
fn parse_box_pair(spec: &str) -> anyhow::Result<(f64, f64)> {
    let v: Vec<f64> = spec
        .split(',')
        .map(|s| s.trim().parse::<f64>().with_context(|| format!("--box {spec}: '{s}' is not a number")))
        .collect::<anyhow::Result<_>>()?;
    let [lo, hi] = v[..] else { bail!("--box {spec}: expected LO,HI (two numbers)") };
    Ok((lo, hi))
}

pub(super) fn parse_plane(spec: &str, through: &[String]) -> anyhow::Result<Plane> {
    let points = match (spec, through) {
        (_, [p, q]) => Some((io::parse_point(p)?, io::parse_point(q)?)),
        ("points", _) | (_, [_, ..]) => bail!("--plane points needs exactly two --through points"),
        _ => None,
    };
    Ok(Plane::parse(spec, points)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_given_once_or_per_coordinate() {
        assert_eq!(parse_box_pair("-1,2").unwrap(), (-1.0, 2.0));
        assert_eq!(parse_box_pair("2, 3").unwrap(), (2.0, 3.0));
        assert!(parse_box_pair("0,1,2").unwrap_err().to_string().contains("two numbers"));
        assert!(parse_box_pair("0,x").unwrap_err().to_string().contains("'x' is not a number"));
        let net = |n0: usize| Network::from_rows(&[(vec![vec![1.0; n0]], vec![0.0])]).unwrap();
        let boxed =
            |pairs: Vec<(f64, f64)>, n0| DomainSpec { kind: DomainKind::Box(pairs), clip: false }.problem(net(n0));
        let once = boxed(vec![(-1.0, 2.0)], 3).unwrap();
        assert_eq!(once.domain_report().lower, Some(vec![-1.0, -1.0, -1.0]));
        let each = boxed(vec![(0.0, 1.0), (2.0, 3.0)], 2).unwrap();
        assert_eq!(each.domain_report().upper, Some(vec![1.0, 3.0]));
        assert!(boxed(vec![(0.0, 1.0); 2], 3).unwrap_err().to_string().contains("given 2 times"));
    }

    #[test]
    fn planes_parse_axes_random_and_points() {
        assert!(matches!(parse_plane("axes:0,3", &[]).unwrap(), Plane::Axes(0, 3)));
        assert!(matches!(parse_plane("random", &[]).unwrap(), Plane::Random(0)));
        assert!(matches!(parse_plane("random:7", &[]).unwrap(), Plane::Random(7)));
        let through = vec!["1,0".to_string(), "0,1".to_string()];
        assert!(
            matches!(parse_plane("points", &through).unwrap(), Plane::Points(p, q) if p == [1.0, 0.0] && q == [0.0, 1.0])
        );
        for bad in ["axes:1", "axes:a,b", "random:x", "diagonal"] {
            assert!(parse_plane(bad, &[]).is_err(), "{bad} accepted");
        }
        assert!(parse_plane("points", &through[..1]).is_err());
    }
}
