//! 2-D slices: for 2-input networks the exact polygons are exactly the regions the walk counts,
//! and the picture shows one fill colour per region.

mod common;

use regionwalk::domain::{Domain, Norm};
use regionwalk::exact::{count, WalkOptions};
use regionwalk::model::Pattern;
use regionwalk::plot::render::{region_colours, render, Legend};
use regionwalk::plot::slice::{area, slice, Plane};

#[test]
fn slice_polygons_of_two_input_networks_are_the_walked_regions() {
    let mut checked = 0;
    for seed in 0..400 {
        let case = common::random_case(seed);
        if case.net.input_dim() != 2 {
            continue;
        }
        for norm in [Norm::L2, Norm::Linf] {
            let s = slice(&case.net, &case.center, case.radius, norm, &Plane::Axes(0, 1)).unwrap();
            let r = count(&case.net, &Domain::ball(&case.center, case.radius, norm).unwrap(), &WalkOptions::default())
                .unwrap();
            let mut drawn: Vec<Pattern> = s.polygons.iter().map(|p| p.pattern.clone()).collect();
            let mut walked: Vec<Pattern> = r.regions.iter().map(|g| g.pattern.clone()).collect();
            drawn.sort();
            walked.sort();
            assert_eq!(drawn, walked, "seed {seed} {norm:?} ({})", case.description);
            checked += 1;
        }
    }
    assert!(checked >= 100, "{checked} cases");
}

#[test]
fn the_png_shows_one_fill_colour_per_region() {
    let net = common::net(&[
        (vec![vec![1.0, 0.2], vec![-0.3, 1.0], vec![0.7, 0.7], vec![1.0, -1.0]], vec![0.1, -0.2, 0.05, 0.3]),
        (vec![vec![1.0, -1.0, 0.5, 0.2], vec![0.3, 0.8, -1.0, 1.0]], vec![-0.1, 0.2]),
        (vec![vec![1.0, 1.0]], vec![0.0]),
    ]);
    let s = slice(&net, &[0.0, 0.0], 1.0, Norm::L2, &Plane::Axes(0, 1)).unwrap();
    assert!(s.polygons.len() >= 8, "a picture worth testing ({} regions)", s.polygons.len());
    let dir = common::Scratch::new("png");
    let path = dir.join("slice.png");
    render(&s, &path, &Legend { title: "test".into(), ball_regions: Some((s.polygons.len(), true)) }).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    let palette = region_colours(s.polygons.len());
    let mut found = vec![0usize; palette.len()];
    for px in img.pixels() {
        if let Some(i) = palette.iter().position(|c| (c.0, c.1, c.2) == (px[0], px[1], px[2])) {
            found[i] += 1;
        }
    }
    // The plot maps [-1, 1]² to roughly 700×700 pixels: a region of area a covers ~a·122,000 px.
    for (i, p) in s.polygons.iter().enumerate() {
        if area(&p.vertices) > 0.01 {
            assert!(found[i] > 0, "region {i} (area {}) is not visible", area(&p.vertices));
        }
    }
    let visible = found.iter().filter(|&&n| n > 0).count();
    let big = s.polygons.iter().filter(|p| area(&p.vertices) > 0.01).count();
    assert!(
        visible >= big && visible <= s.polygons.len(),
        "{visible} colours shown for {big} large of {} regions",
        s.polygons.len()
    );
}

#[test]
fn svg_output_and_planes_through_higher_dimensional_balls() {
    let case = (0..).map(common::random_case).find(|c| c.net.input_dim() >= 4).unwrap();
    let n0 = case.net.input_dim();
    let mut p = case.center.clone();
    p[0] += 0.5;
    let mut q = case.center.clone();
    q[n0 - 1] -= 0.5;
    for plane in [Plane::Random(3), Plane::Axes(1, 2), Plane::Points(p, q)] {
        let s = slice(&case.net, &case.center, case.radius, Norm::L2, &plane).unwrap();
        let full =
            count(&case.net, &Domain::ball(&case.center, case.radius, Norm::L2).unwrap(), &WalkOptions::default())
                .unwrap();
        assert!(!s.polygons.is_empty() && s.polygons.len() <= full.count(), "a slice holds at most the ball's regions");
        let walked: Vec<Pattern> = full.regions.iter().map(|g| g.pattern.clone()).collect();
        for poly in &s.polygons {
            assert!(walked.contains(&poly.pattern), "every region of the slice is a region of the ball");
        }
    }
    let s = slice(&case.net, &case.center, case.radius, Norm::L2, &Plane::Random(1)).unwrap();
    let dir = common::Scratch::new("svg");
    let path = dir.join("slice.svg");
    render(&s, &path, &Legend { title: "svg".into(), ball_regions: None }).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains(&format!("{} regions in this slice", s.polygons.len())));
    assert!(slice(&common::fixture_a(), &[0.0, 0.0], 1.0, Norm::L2, &Plane::Axes(0, 0)).is_err());
}
