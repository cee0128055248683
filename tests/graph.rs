//! Region graph and linear regions: edges equal the facet adjacencies found by an independent
//! pairwise LP check, node counts equal `count`, and `--linear` reproduces theory fixtures F3, F14.

mod common;

use regionwalk::domain::{Domain, Halfspace, Norm};
use regionwalk::exact::merge::{linear_regions, output_maps, same_map};
use regionwalk::exact::walk::region_constraints;
use regionwalk::exact::{count, WalkOptions, WalkResult};
use regionwalk::lp::{meets, Decision, LpCounters};
use regionwalk::model::{Network, Pattern};
use regionwalk::plot::graph::{region_graph, to_json, GraphSpool};
use serde_json::Value;

fn walk_with_edges(net: &Network, domain: &Domain) -> WalkResult {
    count(net, domain, &WalkOptions { edges: true, ..Default::default() }).unwrap()
}

fn linear(net: &Network, center: &[f64], radius: f64) -> usize {
    let r = walk_with_edges(net, &Domain::ball(center, radius, Norm::L2).unwrap());
    linear_regions(net, &r).1
}

#[test]
fn linear_regions_reproduce_the_theory_fixtures() {
    let a_with = |out: [f64; 3]| {
        common::net(&[
            (vec![vec![1., 0.], vec![0., 1.], vec![1., 1.]], vec![0., 0., -1.]),
            (vec![out.to_vec()], vec![0.]),
        ])
    };
    // F3 / F3': neuron 3 has zero outgoing weight.
    assert_eq!(linear(&a_with([1., 1., 0.]), &[0., 0.], 1.0), 4);
    assert_eq!(linear(&a_with([1., 1., 0.]), &[0., 0.], 2.0), 4);
    // F2b: every region has its own map, nothing merges.
    assert_eq!(linear(&a_with([1., 1., 1.]), &[0., 0.], 1.0), 5);
    let fixtures = common::theory_fixtures();
    let find = |name: &str| fixtures.iter().find(|f| f.name == name).unwrap();
    for (name, expected) in [
        ("F7a", 1),
        ("F7b", 2),
        ("F7c", 4),
        ("F9", 1),
        ("F10", 4),
        ("F11", 1),
        ("F14 r=1/2", 2),
        ("F14 r=1", 4),
        ("F14 r=3/2", 4),
        ("F14 r=2", 3),
    ] {
        let f = find(name);
        assert_eq!(linear(&f.net, &f.center, f.radius), expected, "{name}");
    }
}

/// Oriented constraints of a pattern in frame coordinates.
fn constraints(net: &Network, domain: &Domain, p: &Pattern) -> Vec<(usize, Halfspace)> {
    let s = net.surrogate(p);
    region_constraints(net, domain, p, &s).unwrap()
}

fn same_hyperplane(a: &Halfspace, b: &Halfspace) -> bool {
    let close = |x: &[f64], y: &[f64], sign: f64| x.iter().zip(y).all(|(u, v)| (u - sign * v).abs() < 1e-9);
    [1.0, -1.0].iter().any(|&sg| close(&a.normal, &b.normal, sg) && (a.offset - sg * b.offset).abs() < 1e-9)
}

/// Theory §6.4: two regions are facet-adjacent inside the domain iff the LP with both regions'
/// constraints and equality on their first differing neuron has an interior point in the domain.
fn adjacent(net: &Network, domain: &Domain, p: &Pattern, q: &Pattern) -> bool {
    let k = (0..p.len()).find(|&k| p.get(k) != q.get(k)).unwrap();
    let (cp, cq) = (constraints(net, domain, p), constraints(net, domain, q));
    let Some((_, plane)) = cp.iter().find(|(j, _)| *j == k) else { return false };
    let others: Vec<&Halfspace> = cp.iter().chain(&cq).map(|(_, h)| h).filter(|h| !same_hyperplane(h, plane)).collect();
    matches!(meets(domain, &others, Some(plane), &mut LpCounters::default()).unwrap(), Decision::Meets { .. })
}

#[test]
fn graph_edges_are_exactly_the_facet_adjacencies() {
    let mut checked = 0;
    for seed in 0..120 {
        let case = common::random_case(seed);
        for norm in [Norm::L2, Norm::Linf] {
            let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
            let r = walk_with_edges(&case.net, &domain);
            if r.count() > 60 {
                continue;
            }
            let plain = count(&case.net, &domain, &WalkOptions::default()).unwrap();
            assert_eq!(r.count(), plain.count(), "seed {seed}: recording edges changes nothing else");
            let g = region_graph(&case.net, &r).unwrap();
            assert_eq!(g.node_count(), r.count());
            let mut expected = Vec::new();
            for i in 0..r.count() {
                for j in i + 1..r.count() {
                    if adjacent(&case.net, &domain, &r.regions[i].pattern, &r.regions[j].pattern) {
                        expected.push((i, j));
                    }
                }
            }
            let mut got: Vec<(usize, usize)> = r.edges.iter().map(|e| (e.a, e.b)).collect();
            got.sort();
            assert_eq!(got, expected, "seed {seed} {norm:?} ({})", case.description);
            checked += 1;
        }
    }
    assert!(checked > 150, "enough cases were small enough to check pairwise ({checked})");
}

#[test]
fn linear_regions_never_exceed_activation_regions_and_merge_only_equal_maps() {
    for seed in 500..600 {
        let case = common::random_case(seed);
        let domain = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
        let r = walk_with_edges(&case.net, &domain);
        let (component, n) = linear_regions(&case.net, &r);
        assert!(n <= r.count() && n >= 1);
        let maps = output_maps(&case.net, &r);
        let all_distinct = (0..maps.len()).all(|i| (i + 1..maps.len()).all(|j| !same_map(&maps[i], &maps[j])));
        if all_distinct {
            assert_eq!(n, r.count(), "seed {seed}: nothing may merge when every map differs");
        }
        // Every region of a linear region computes the same map as the others in it.
        for i in 0..r.count() {
            let first = component.iter().position(|&c| c == component[i]).unwrap();
            assert!(same_map(&maps[i], &maps[first]), "seed {seed}: merged regions with different maps");
        }
    }
}

#[test]
fn graph_json_has_one_node_per_region() {
    let net = common::fixture_a();
    let r = walk_with_edges(&net, &Domain::ball(&[0., 0.], 1.0, Norm::L2).unwrap());
    let v = to_json(&region_graph(&net, &r).unwrap());
    assert_eq!(v["nodes"].as_array().unwrap().len(), 5);
    // F2b: exactly five facet adjacencies inside the ball (theory §7).
    assert_eq!(v["edges"].as_array().unwrap().len(), 5);
}

/// Map ids follow the merge rule: two regions share an id exactly when a chain of `same_map`
/// pairs joins them (checked against all pairs); linear regions (the graph's and the merge's) are
/// the components of the adjacencies between equal maps, by brute force; and regions of one linear
/// region share an id.
#[test]
fn map_ids_follow_the_merge_rule() {
    let (mut shared, mut merges) = (0, 0);
    for seed in 600..680 {
        let case = common::random_case(seed);
        let domain = Domain::ball(&case.center, case.radius, Norm::L2).unwrap();
        let r = walk_with_edges(&case.net, &domain);
        let graph = region_graph(&case.net, &r).unwrap();
        let ids: Vec<usize> = graph.node_weights().map(|n| n.map_id).collect();
        let maps = output_maps(&case.net, &r);
        // Components of same_map over all pairs, by brute force.
        let mut components = petgraph::unionfind::UnionFind::<usize>::new(maps.len());
        for i in 0..maps.len() {
            for j in 0..i {
                if same_map(&maps[i], &maps[j]) {
                    components.union(i, j);
                }
            }
        }
        for i in 0..maps.len() {
            for j in 0..i {
                let together = components.equiv(i, j);
                assert_eq!(ids[i] == ids[j], together, "seed {seed}: regions {i}, {j}");
                shared += usize::from(together);
            }
        }
        let (linear, _) = linear_regions(&case.net, &r);
        // Linear regions by brute force: components of the adjacencies between equal maps.
        let mut merged = petgraph::unionfind::UnionFind::<usize>::new(maps.len());
        for e in &r.edges {
            if same_map(&maps[e.a], &maps[e.b]) {
                merged.union(e.a, e.b);
            }
        }
        let labelled: Vec<usize> = graph.node_weights().map(|n| n.linear_region).collect();
        for i in 0..maps.len() {
            for j in 0..i {
                let together = merged.equiv(i, j);
                assert_eq!(labelled[i] == labelled[j], together, "seed {seed}: graph, regions {i}, {j}");
                assert_eq!(linear[i] == linear[j], together, "seed {seed}: merge, regions {i}, {j}");
                merges += usize::from(together);
            }
        }
        for i in 0..maps.len() {
            for j in 0..i {
                if linear[i] == linear[j] {
                    assert_eq!(ids[i], ids[j], "seed {seed}: one linear region, two map ids");
                }
            }
        }
    }
    assert!(shared > 0, "no two regions shared a map: the test checked nothing");
    assert!(merges > 0, "no two regions were one linear region: the test checked nothing");
}

/// The region graph streamed as JSON Lines, read back.
fn streamed(net: &Network, domain: &Domain, options: &WalkOptions, out: &std::path::Path) -> (WalkResult, Vec<Value>) {
    let spool = GraphSpool::new().unwrap();
    let (sink, edge_sink) = spool.sinks();
    let options =
        WalkOptions { edges: true, count_only: true, sink: Some(sink), edge_sink: Some(edge_sink), ..options.clone() };
    let r = count(net, domain, &options).unwrap();
    let (nodes, edges) = spool.write_jsonl(net, out).unwrap();
    let text = std::fs::read_to_string(out).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), nodes + edges);
    (r, lines)
}

/// Checks that the graph streamed as JSON Lines is the graph held in memory (nodes with their map
/// ids and linear regions, then edges, in the same order) and that the streamed walk kept neither
/// regions nor edges; returns the walk held in memory.
fn check_streamed(
    net: &Network,
    domain: &Domain,
    options: &WalkOptions,
    out: &std::path::Path,
    what: &str,
) -> WalkResult {
    let held = count(net, domain, &WalkOptions { edges: true, ..options.clone() }).unwrap();
    let expected = to_json(&region_graph(net, &held).unwrap());
    let (r, lines) = streamed(net, domain, options, out);
    assert!(r.regions.is_empty() && r.edges.is_empty(), "{what}: the streamed walk kept its graph");
    assert_eq!(r.count(), held.count(), "{what}");
    let nodes = expected["nodes"].as_array().unwrap();
    let edges = expected["edges"].as_array().unwrap();
    assert_eq!(&lines[..nodes.len()], &nodes[..], "{what}: nodes");
    assert_eq!(&lines[nodes.len()..], &edges[..], "{what}: edges");
    held
}

/// `graph --format jsonl` streams the same graph as the one held in memory on random and
/// degenerate networks, whole walks and walks stopped by a budget (balls walked in a reduced row
/// space included), and on a walk of ~1,000 regions, long enough that the walk forgets the
/// adjacencies of regions it has expanded.
#[test]
fn a_streamed_graph_is_the_graph_held_in_memory() {
    let scratch = common::Scratch::new("streamed-graph");
    let out = scratch.join("graph.jsonl");
    let mut stopped = 0;
    for seed in 700..820 {
        let case = common::random_case(seed);
        let norm = if seed % 2 == 0 { Norm::L2 } else { Norm::Linf };
        let domain = Domain::ball(&case.center, case.radius, norm).unwrap();
        let options = WalkOptions { max_regions: (seed % 4 == 0).then_some(8), ..Default::default() };
        let what = format!("seed {seed} ({})", case.description);
        stopped += usize::from(!check_streamed(&case.net, &domain, &options, &out, &what).complete());
    }
    assert!(stopped > 5, "walks stopped by a budget were checked ({stopped})");
    // Sixty lines in general position in a disc: ~1,000 regions.
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
    let mut draw = || rand::Rng::gen_range(&mut rng, -1.0..1.0);
    let rows: Vec<Vec<f64>> = (0..60).map(|_| vec![draw(), draw()]).collect();
    let bias: Vec<f64> = (0..60).map(|_| draw()).collect();
    let net = common::net(&[(rows, bias), (vec![vec![1.0; 60]], vec![0.0])]);
    let disc = Domain::ball(&[0.0, 0.0], 1.5, Norm::L2).unwrap();
    let held = check_streamed(&net, &disc, &WalkOptions::default(), &out, "sixty lines");
    assert!(held.count() > 500, "{}", held.count());
}

/// A streamed graph cannot be checkpointed: its adjacencies are not in the checkpoint.
#[test]
fn a_streamed_graph_refuses_checkpoints() {
    let scratch = common::Scratch::new("streamed-graph-checkpoint");
    let net = common::fixture_a();
    let spool = GraphSpool::new().unwrap();
    let (sink, edge_sink) = spool.sinks();
    let options = WalkOptions {
        edges: true,
        count_only: true,
        sink: Some(sink),
        edge_sink: Some(edge_sink),
        checkpoint: Some(scratch.join("walk.ck")),
        ..Default::default()
    };
    let err = count(&net, &Domain::ball(&[0., 0.], 1.0, Norm::L2).unwrap(), &options).unwrap_err();
    assert!(err.to_string().contains("cannot be checkpointed"), "{err}");
}
