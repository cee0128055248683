//! The dual least-norm solver against HiGHS: on random and degenerate polyhedra from 2-D to 784-D (dense rows, and sparse rows as a CNN's),
//! every decision it certifies is the one HiGHS's Chebyshev LP and distance QP give. Also the LP's
//! two formulations of the box, and the LP-free separation screen, against HiGHS.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use regionwalk::domain::{Domain, Halfspace, Norm};
use regionwalk::exact::walk::geometry::separated;
use regionwalk::lp::{decide_by_dual, meets, meets_by_cuts, minimise, refutes, Decision, LpCounters, RegionLp};
use regionwalk::tolerance::DECIDE;

/// A random unit vector with `support` nonzero entries at random places (all of them at `n`).
fn unit(rng: &mut ChaCha8Rng, n: usize, support: usize) -> Vec<f64> {
    let v: Vec<f64> = if support < n {
        let mut v = vec![0.0; n];
        for _ in 0..support {
            v[rng.gen_range(0..n)] = rng.gen_range(-1.0..1.0);
        }
        v
    } else {
        (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
    };
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

/// Random rows near the domain: offsets so that each hyperplane passes within about the domain's
/// reach of the centre, plus degenerate rows (duplicates, parallel, opposite, nearly touching).
/// Normals have `support` nonzero entries (a CNN's rows: ~5% of the inputs).
fn polyhedron(rng: &mut ChaCha8Rng, n: usize, rows: usize, reach: f64, support: usize) -> Vec<Halfspace> {
    let mut out: Vec<Halfspace> = Vec::new();
    while out.len() < rows {
        let kind = rng.gen_range(0..10);
        let h = match (kind, out.last()) {
            (0, Some(last)) => last.clone(),
            (1, Some(last)) => {
                Halfspace { normal: last.normal.clone(), offset: last.offset + rng.gen_range(-0.2..0.2) }
            }
            (2, Some(last)) => Halfspace {
                normal: last.normal.iter().map(|v| -v).collect(),
                offset: -last.offset + rng.gen_range(-0.05..0.3),
            },
            (3, _) => Halfspace { normal: unit(rng, n, support), offset: 1.0 * [1.0, -1.0][rng.gen_range(0..2)] },
            _ => Halfspace { normal: unit(rng, n, support), offset: rng.gen_range(-reach..reach) },
        };
        out.push(h);
    }
    out
}

/// Balls and boxes around the origin; with `off_centre`, also a ball clipped to a box that excludes
/// its centre in a few coordinates (the dual solver's coordinates where 0 is out of the box).
fn domains(n: usize, rng: &mut ChaCha8Rng, off_centre: bool) -> Vec<Domain> {
    let centre = vec![0.0; n];
    let mut out = vec![Domain::ball(&centre, 1.0, Norm::L2).unwrap(), Domain::ball(&centre, 1.0, Norm::Linf).unwrap()];
    let lower: Vec<f64> = (0..n).map(|_| -rng.gen_range(0.2..1.0)).collect();
    let upper: Vec<f64> = (0..n).map(|_| rng.gen_range(0.2..1.0)).collect();
    out.push(Domain::ball(&centre, 1.0, Norm::L2).unwrap().clipped(&lower, &upper).unwrap());
    out.push(Domain::boxed(&lower, &upper).unwrap());
    if off_centre {
        let mut lower = lower;
        for _ in 0..3 {
            lower[rng.gen_range(0..n)] = rng.gen_range(0.01..0.1);
        }
        out.push(Domain::ball(&centre, 1.0, Norm::L2).unwrap().clipped(&lower, &upper).unwrap());
    }
    out
}

/// The same answer for counting: both meet, or neither does (the dual path never says touching:
/// a borderline case goes to HiGHS, which may call a sliver thinner than `DECIDE` touching where
/// the dual bound already proved that no point has that margin).
fn same(a: &Decision, b: &Decision) -> bool {
    matches!(a, Decision::Meets { .. }) == matches!(b, Decision::Meets { .. })
}

#[test]
fn dual_decisions_agree_with_highs_from_2_to_784_dimensions() {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let (mut answered, mut asked) = (0, 0);
    // (inputs, instances, nonzero entries per row): dense rows, then a CNN's sparse ones.
    for &(n, instances, support) in &[(2, 60, 2), (5, 60, 5), (16, 50, 16), (64, 30, 64), (784, 6, 784), (784, 6, 12)] {
        for _ in 0..instances {
            for domain in domains(n, &mut rng, support < n) {
                let reach = if domain.is_round() { 1.2 } else { 1.2 * (n as f64).sqrt().min(4.0) };
                let rows = rng.gen_range(1..12);
                let hs = polyhedron(&mut rng, n, rows, reach, support);
                let refs: Vec<&Halfspace> = hs.iter().collect();
                // The region itself, then each row as a facet against the others.
                let mut questions: Vec<(Vec<&Halfspace>, Option<&Halfspace>)> = vec![(refs.clone(), None)];
                for (i, h) in hs.iter().enumerate().take(3) {
                    let others: Vec<&Halfspace> =
                        refs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, h)| *h).collect();
                    questions.push((others, Some(h)));
                }
                for (ineq, eq) in questions {
                    asked += 1;
                    let reference = meets(&domain, &ineq, eq, &mut LpCounters::default()).unwrap();
                    let Some((fast, _)) = decide_by_dual(&domain, &ineq, eq) else { continue };
                    answered += 1;
                    assert!(
                        same(&fast, &reference),
                        "n = {n}, domain {:?}: dual says {fast:?}, HiGHS says {reference:?}",
                        domain.shape()
                    );
                    if let Decision::Meets { witness, slack } = &fast {
                        assert!(*slack > 1e-7 && domain.contains_frame(witness));
                        assert!(ineq.iter().all(|h| h.eval(witness) > 1e-7));
                        if let Some(e) = eq {
                            assert!(e.eval(witness).abs() < 1e-10);
                        }
                    }
                }
            }
        }
    }
    // The point of the solver: it must settle nearly every question by itself.
    assert!(answered as f64 >= 0.9 * asked as f64, "the dual solver answered {answered} of {asked}");
}

#[test]
fn dual_certificates_cover_empty_and_far_polyhedra() {
    let n = 784;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let ball = Domain::ball(&vec![0.0; n], 1.0, Norm::L2).unwrap();
    let cube = Domain::ball(&vec![0.0; n], 1.0, Norm::Linf).unwrap();
    let a = unit(&mut rng, n, n);
    // A slab of width 0.02 at distance 0.5: meets both. Moved to distance 1.5: misses the ball,
    // still meets the cube (which reaches to distance up to 28 along a diagonal).
    for (shift, in_ball) in [(0.5, true), (1.5, false)] {
        let lo = Halfspace { normal: a.clone(), offset: -shift };
        let hi = Halfspace { normal: a.iter().map(|v| -v).collect(), offset: shift + 0.02 };
        let rows = [&lo, &hi];
        let decide = |domain: &Domain| decide_by_dual(domain, &rows, None).map(|(d, _)| d);
        assert_eq!(matches!(decide(&ball), Some(Decision::Meets { .. })), in_ball);
        assert_eq!(decide(&ball) == Some(Decision::Disjoint), !in_ball);
        assert!(matches!(decide(&cube), Some(Decision::Meets { .. })));
    }
    // Empty: two opposite halfspaces that do not overlap.
    let lo = Halfspace { normal: a.clone(), offset: -0.3 };
    let hi = Halfspace { normal: a.iter().map(|v| -v).collect(), offset: 0.1 };
    for domain in [&ball, &cube] {
        assert_eq!(decide_by_dual(domain, &[&lo, &hi], None).map(|(d, _)| d), Some(Decision::Disjoint));
    }
}

/// The walk hands a region's "disjoint" multipliers to its neighbours, whose rows are the same up to
/// a flipped row and perturbed later-layer rows. Whatever the rows, multipliers that pass
/// [`refutes`] must never contradict HiGHS, and on the question they came from they must pass.
#[test]
fn reused_refutations_never_contradict_highs() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let (mut reused, mut tried) = (0, 0);
    for &(n, instances, support) in &[(3, 80, 3), (16, 60, 16), (64, 30, 64), (784, 6, 784), (784, 6, 12)] {
        for _ in 0..instances {
            for domain in domains(n, &mut rng, support < n) {
                let reach = if domain.is_round() { 1.2 } else { 1.2 * (n as f64).sqrt().min(4.0) };
                let rows = rng.gen_range(2..12);
                let hs = polyhedron(&mut rng, n, rows, reach, support);
                let (eq, ineq) = hs.split_first().unwrap();
                let refs: Vec<&Halfspace> = ineq.iter().collect();
                let Some((Decision::Disjoint, Some(refutation))) = decide_by_dual(&domain, &refs, Some(eq)) else {
                    continue;
                };
                assert_eq!(
                    refutes(&domain, &refs, Some(eq), [refutation.clone()]),
                    Some(0),
                    "n = {n}: its own multipliers refute"
                );
                // The neighbour: one row flipped, the others moved a little or a lot.
                let scale = [1e-9, 1e-3, 0.1, 1.0][rng.gen_range(0..4)];
                let mut moved: Vec<Halfspace> = ineq
                    .iter()
                    .map(|h| {
                        let normal: Vec<f64> =
                            h.normal.iter().map(|v| v + scale * rng.gen_range(-1.0..1.0) / (n as f64).sqrt()).collect();
                        let norm = normal.iter().map(|v| v * v).sum::<f64>().sqrt();
                        Halfspace {
                            normal: normal.iter().map(|v| v / norm).collect(),
                            offset: h.offset + scale * rng.gen_range(-1.0..1.0),
                        }
                    })
                    .collect();
                let flip = rng.gen_range(0..moved.len());
                moved[flip] =
                    Halfspace { normal: moved[flip].normal.iter().map(|v| -v).collect(), offset: -moved[flip].offset };
                let moved_refs: Vec<&Halfspace> = moved.iter().collect();
                tried += 1;
                if refutes(&domain, &moved_refs, Some(eq), [refutation]).is_some() {
                    reused += 1;
                    let reference = meets(&domain, &moved_refs, Some(eq), &mut LpCounters::default()).unwrap();
                    assert!(
                        !matches!(reference, Decision::Meets { .. }),
                        "n = {n}, domain {:?}: reused multipliers refute a facet HiGHS finds",
                        domain.shape()
                    );
                }
            }
        }
    }
    // Small moves must keep many certificates valid, or reusing them buys nothing.
    assert!(reused * 5 >= tried, "only {reused} of {tried} refutations carried over");
}

/// The Chebyshev LP keeps the domain's box in its column bounds (shrunk by `DECIDE`) instead of
/// 2·n rows. Its decisions must be those of the LP with box rows (the reference, solved in the same
/// model with the rows added): on random and degenerate polyhedra in cubes, boxes, half-bounded
/// boxes and clipped balls, with thin coordinates and hyperplanes lying on the shrunk box's faces,
/// and for facet questions (an equality) as well as regions.
#[test]
fn box_in_column_bounds_decides_as_box_rows() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let (mut compared, mut met) = (0, 0);
    for &(n, instances) in &[(2, 60), (5, 60), (16, 40), (64, 20), (784, 4)] {
        for _ in 0..instances {
            let mut cases = domains(n, &mut rng, false);
            // Half-bounded: only lower bounds.
            let lower: Vec<f64> = (0..n).map(|_| -rng.gen_range(0.2..1.0)).collect();
            cases.push(Domain::whole(n).clipped(&lower, &vec![f64::INFINITY; n]).unwrap());
            // A thin coordinate: narrower than 2·DECIDE, or barely wider, relative to the others.
            let width = [DECIDE, 3.0 * DECIDE][rng.gen_range(0..2)];
            let (mut lo, mut hi) = (vec![-1.0; n], vec![1.0; n]);
            let thin = rng.gen_range(0..n);
            (lo[thin], hi[thin]) = (0.1, 0.1 + 2.0 * width);
            cases.push(Domain::boxed(&lo, &hi).unwrap());
            for domain in cases {
                let reach = if domain.is_round() { 1.2 } else { 1.2 * (n as f64).sqrt().min(4.0) };
                let rows = rng.gen_range(1..10);
                let mut hs = polyhedron(&mut rng, n, rows, reach, n);
                // Hyperplanes on (or just off) a face of the box shrunk by DECIDE.
                let i = rng.gen_range(0..n);
                if domain.lower()[i].is_finite() {
                    let mut normal = vec![0.0; n];
                    normal[i] = 1.0;
                    let offset = -(domain.lower()[i] + DECIDE * [1.0, 0.5, 2.0][rng.gen_range(0..3)]);
                    hs.insert(0, Halfspace { normal, offset });
                }
                let refs: Vec<&Halfspace> = hs.iter().collect();
                for (eq, ineq) in [(None, &refs[..]), (Some(refs[0]), &refs[1..])] {
                    let rows: Vec<&Halfspace> = ineq.iter().copied().chain(eq).collect();
                    let on = eq.map(|_| ineq.len());
                    let mut lp = RegionLp::load(&domain, &rows).unwrap();
                    let reference = lp.chebyshev_with_box_rows(&[], on, &mut LpCounters::default()).unwrap();
                    let t = reference.map_or(f64::NEG_INFINITY, |(_, t)| t);
                    let decision = meets(&domain, ineq, eq, &mut LpCounters::default()).unwrap();
                    // Kelley's cuts converge slowly on spheres in many dimensions: cross-checked up to 16-D.
                    let cut = if n <= 16 {
                        meets_by_cuts(&domain, ineq, eq, &mut LpCounters::default()).unwrap()
                    } else {
                        decision.clone()
                    };
                    for d in [&decision, &cut] {
                        if let Decision::Meets { witness, slack } = d {
                            met += 1;
                            assert!(*slack > 0.0 && domain.contains_frame(witness), "n = {n}: witness outside");
                            assert!(ineq.iter().all(|h| h.eval(witness) > 0.0), "n = {n}: witness outside a row");
                            if let Some(e) = eq {
                                assert!(e.eval(witness).abs() < 1e-10);
                            }
                        }
                    }
                    // Within the solver's tolerance of the threshold either answer is right.
                    if (t - DECIDE).abs() < 1e-8 {
                        continue;
                    }
                    compared += 1;
                    if t <= DECIDE {
                        for d in [&decision, &cut] {
                            assert!(
                                !matches!(d, Decision::Meets { .. }),
                                "n = {n}, {:?}: box rows give {t}, bounds say {d:?}",
                                domain.shape()
                            );
                        }
                    } else if !domain.is_round() {
                        for d in [&decision, &cut] {
                            assert!(
                                matches!(d, Decision::Meets { .. }),
                                "n = {n}, {:?}: box rows give {t}, bounds say {d:?}",
                                domain.shape()
                            );
                        }
                    }
                    // A touching call on a polyhedral domain is a slack in (0, DECIDE].
                    if decision == Decision::Touching && !domain.is_round() {
                        assert!(t > 0.0 && t <= DECIDE + 1e-8, "n = {n}: touching, but box rows give {t}");
                    }
                }
            }
        }
    }
    assert!(compared > 1000 && met > 300, "compared {compared}, met {met}");
}

/// The separation screen's box test is the Lagrangian dual of `max g over {h = 0} ∩ box`, exact
/// by LP duality: it must say "separated" exactly when HiGHS's maximum is below the screen's margin
/// (up to a band for rounding), on random and degenerate pairs from 2-D to 64-D.
#[test]
fn separation_screen_equals_the_lp_maximum_on_boxes() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let (mut separated_count, mut compared) = (0, 0);
    let mut kinks = Vec::new();
    for &(n, instances) in &[(2, 300), (3, 300), (8, 200), (16, 100), (64, 30)] {
        for _ in 0..instances {
            let lower: Vec<f64> = (0..n).map(|_| -rng.gen_range(0.1..1.0)).collect();
            let upper: Vec<f64> = (0..n).map(|_| rng.gen_range(0.1..1.0)).collect();
            let domain = Domain::boxed(&lower, &upper).unwrap();
            let pair = polyhedron(&mut rng, n, 2, 0.8 * (n as f64).sqrt().min(3.0), n);
            let (g, h) = (&pair[0], &pair[1]);
            // Some normals with zero entries, so that some coordinates have no breakpoint.
            let mut h = h.clone();
            if rng.gen_bool(0.3) {
                h.normal[0] = 0.0;
                let norm = h.normal.iter().map(|v| v * v).sum::<f64>().sqrt();
                if norm == 0.0 {
                    continue;
                }
                h.normal.iter_mut().for_each(|v| *v /= norm);
            }
            let minus_h = Halfspace { normal: h.normal.iter().map(|v| -v).collect(), offset: -h.offset };
            let objective: Vec<f64> = g.normal.iter().map(|v| -v).collect();
            let screen = separated(false, domain.lower(), domain.upper(), g, &h, &mut kinks);
            // A hyperplane that misses the box is screened out before this test.
            let Some(min) = minimise(&domain, &[&h, &minus_h], &objective, &mut LpCounters::default()).unwrap() else {
                continue;
            };
            let max_g = g.offset - min;
            let margin = 1e-9 * (1.0 + g.offset.abs() + h.offset.abs());
            if (max_g + margin).abs() < 1e-7 {
                continue;
            }
            compared += 1;
            separated_count += usize::from(screen);
            assert_eq!(screen, max_g < -margin, "n = {n}: screen says {screen}, the LP's max of g is {max_g}");
        }
    }
    assert!(compared > 700 && separated_count > 50, "compared {compared}, separated {separated_count}");
}
