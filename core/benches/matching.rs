//! Street network benchmark, in one run:
//! 1. spatial index build for a 10,000-segment network (target < 50 ms), against inserting the
//!    same pieces one by one into an R-tree;
//! 2. map matching plus coverage of an 8-hour track at 1 Hz (28,800 fixes) against a
//!    5,000-segment network (target < 100 ms), reported as fixes matched per second, against a
//!    bare nearest-segment lookup of every fix (the R-tree alone, no HMM, no coverage); and the
//!    same through the store (fixes read from SQLite, per-street report).
//!
//! Networks are street grids (100 m blocks, each a segment with a slight bend); the track is a
//! random walk along them at 1.3 m/s with simulated phone GPS (drift, multipath spikes) recorded
//! through the store, so the filter has judged every fix. Medians of several runs.
//!
//! Run: `cargo bench -p patrol-core --bench matching` (add `-- --quick` for a short run).

use std::time::Instant;

use patrol_core::coverage::{Coverage, CoverageConfig};
use patrol_core::geodesy::LocalProjection;
use patrol_core::matching::{MatchConfig, match_track};
use patrol_core::spatial::IndexedNetwork;
use patrol_core::streets::{
    DraftLine, DraftStreet, NetworkDraft, Segment, Street, StreetImportOptions, StreetNetwork,
    to_e7,
};
use patrol_core::{Role, SegmentId, Store, StoreConfig, StreetId};
use patrol_model::sim::{ReceiverModel, SimRng, simulate_walk};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};

#[path = "common/mod.rs"]
mod common;
use common::{machine, median};

const BLOCK_M: f64 = 100.0;

/// An n x n grid of junctions: each row and column a street, each block a segment.
struct Grid {
    n: usize,
    proj: LocalProjection,
}

impl Grid {
    fn new(n: usize) -> Self {
        Self {
            n,
            proj: LocalProjection::new(39.91, 116.19),
        }
    }

    fn node(&self, i: usize, j: usize) -> (f64, f64) {
        self.proj.to_degrees(i as f64 * BLOCK_M, j as f64 * BLOCK_M)
    }

    /// Blocks as (street number, polyline): rows first, then columns.
    fn blocks(&self) -> Vec<(usize, Vec<(f64, f64)>)> {
        let mut out = Vec::new();
        for j in 0..self.n {
            for i in 0..self.n - 1 {
                let (x, y) = ((i as f64 + 0.5) * BLOCK_M, j as f64 * BLOCK_M + 1.0);
                out.push((
                    j,
                    vec![
                        self.node(i, j),
                        self.proj.to_degrees(x, y),
                        self.node(i + 1, j),
                    ],
                ));
            }
        }
        for i in 0..self.n {
            for j in 0..self.n - 1 {
                let (x, y) = (i as f64 * BLOCK_M + 1.0, (j as f64 + 0.5) * BLOCK_M);
                out.push((
                    self.n + i,
                    vec![
                        self.node(i, j),
                        self.proj.to_degrees(x, y),
                        self.node(i, j + 1),
                    ],
                ));
            }
        }
        out
    }

    fn network(&self) -> StreetNetwork {
        let streets: Vec<Street> = (0..2 * self.n)
            .map(|k| Street {
                id: StreetId::new(),
                name: Some(format!("街 {k}")),
                subdistrict: None,
                class: "residential".into(),
                length_m: 0.0,
            })
            .collect();
        let segments: Vec<Segment> = self
            .blocks()
            .into_iter()
            .enumerate()
            .map(|(k, (street, points))| {
                let points: Vec<(f64, f64)> = points
                    .iter()
                    .map(|&(la, lo)| patrol_core::streets::from_e7(to_e7(la, lo)))
                    .collect();
                Segment {
                    id: SegmentId::new(),
                    street_id: streets[street].id,
                    ordinal: k as u32,
                    points,
                    length_m: BLOCK_M,
                }
            })
            .collect();
        StreetNetwork::new(streets, segments)
    }

    fn draft(&self) -> NetworkDraft {
        let mut streets: Vec<DraftStreet> = (0..2 * self.n)
            .map(|k| DraftStreet {
                key: format!("name:|街 {k}"),
                name: Some(format!("街 {k}")),
                subdistrict: None,
                lines: Vec::new(),
            })
            .collect();
        for (street, points) in self.blocks() {
            let points = points.iter().map(|&(la, lo)| to_e7(la, lo)).collect();
            streets[street].lines.push(DraftLine {
                points,
                class: "residential".into(),
                source_ref: String::new(),
            });
        }
        NetworkDraft {
            format: "geojson".into(),
            streets,
            ..Default::default()
        }
    }

    /// A random walk along the grid of at least `length_m`, never turning straight back.
    fn random_route(&self, length_m: f64, rng: &mut SimRng) -> Vec<(f64, f64)> {
        let (mut i, mut j) = (self.n / 2, self.n / 2);
        let mut prev = (usize::MAX, usize::MAX);
        let mut route = vec![self.node(i, j)];
        while (route.len() - 1) as f64 * BLOCK_M < length_m {
            let mut next = Vec::new();
            if i > 0 {
                next.push((i - 1, j))
            }
            if i + 1 < self.n {
                next.push((i + 1, j))
            }
            if j > 0 {
                next.push((i, j - 1))
            }
            if j + 1 < self.n {
                next.push((i, j + 1))
            }
            next.retain(|&p| p != prev);
            let pick = next[(rng.next_u64() % next.len() as u64) as usize];
            prev = (i, j);
            (i, j) = pick;
            route.push(self.node(i, j));
        }
        route
    }
}

type Piece = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

fn pieces(net: &StreetNetwork) -> Vec<Piece> {
    net.segments
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.xy.windows(2).enumerate().map(move |(pi, w)| {
                GeomWithData::new(Line::new(w[0], w[1]), (si as u32, pi as u32))
            })
        })
        .collect()
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 9 };
    println!("matching benchmark on {}", machine());

    // --- 1. Index build, 10,000 segments.
    let big = Grid::new(71).network();
    println!(
        "\nindex build: {} segments, {} pieces, {} junctions, median of {runs} runs",
        big.segments.len(),
        pieces(&big).len(),
        big.node_count()
    );
    let (mut bulk, mut full, mut inserted) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let copy = big.clone();
        let t = Instant::now();
        let idx = IndexedNetwork::build(copy);
        bulk.push(ms(t));
        std::hint::black_box(idx.piece_count());

        let streets = big.streets.clone();
        let segments: Vec<Segment> = big
            .segments
            .iter()
            .map(|s| Segment {
                id: s.id,
                street_id: streets[s.street].id,
                ordinal: s.ordinal,
                points: s.points.clone(),
                length_m: s.length_m,
            })
            .collect();
        let t = Instant::now();
        let idx = IndexedNetwork::build(StreetNetwork::new(streets, segments));
        full.push(ms(t));
        std::hint::black_box(idx.piece_count());

        let items = pieces(&big);
        let t = Instant::now();
        let mut tree: RTree<Piece> = RTree::new();
        for p in items {
            tree.insert(p);
        }
        inserted.push(ms(t));
        std::hint::black_box(tree.size());
    }
    let (bulk, full, inserted) = (median(&mut bulk), median(&mut full), median(&mut inserted));
    println!("  R-tree bulk load                    {bulk:>8.2} ms   (target < 50 ms)");
    println!("  whole load (junctions + R-tree)     {full:>8.2} ms");
    println!(
        "  baseline: one-by-one inserts        {inserted:>8.2} ms   ratio bulk/inserts {:.2}",
        bulk / inserted
    );

    // --- 2. Matching and coverage of an 8-hour 1 Hz track on 5,000 segments.
    let grid = Grid::new(51);
    let mut store = Store::open_in_memory(StoreConfig::default()).expect("store");
    store.init_device("bench", Role::Chief, None).expect("init");
    store
        .import_streets(&grid.draft(), &StreetImportOptions::default())
        .expect("import");
    let net = store.street_network().expect("network");
    let fixes_wanted = 8 * 3600;
    let mut rng = SimRng::new(2018);
    let route = grid.random_route(1.3 * fixes_wanted as f64 + 200.0, &mut rng);
    let rx = ReceiverModel {
        error_sigma_m: 8.0,
        ..Default::default()
    };
    let walk: Vec<_> = simulate_walk(&route, 1.3, 1_733_040_000_000, &rx, None, &mut rng)
        .into_iter()
        .take(fixes_wanted)
        .map(|(f, _)| f)
        .collect();
    let patrol = store.start_patrol(&[]).expect("start");
    store.add_fixes(patrol, &walk).expect("fixes");
    store.stop_patrol(patrol).expect("stop");
    let fixes = store.fixes(patrol).expect("read fixes");
    let (mc, cc) = (MatchConfig::default(), CoverageConfig::default());
    println!(
        "\nmatching + coverage: {} fixes (8 h at 1 Hz, {} kept), {} segments, median of {runs} runs",
        fixes.len(),
        fixes
            .iter()
            .filter(|f| f.verdict == patrol_core::FixVerdict::Kept)
            .count(),
        net.network.segments.len()
    );
    let (mut core, mut through_store, mut nearest) = (Vec::new(), Vec::new(), Vec::new());
    let mut summary = (0, 0, 0.0);
    for _ in 0..runs {
        let t = Instant::now();
        let matched = match_track(&net, &fixes, &mc);
        let mut coverage = Coverage::new();
        coverage.add_track(&net, &fixes, &matched, &cc);
        coverage.finish(&net, &cc);
        core.push(ms(t));
        let covered: f64 = (0..net.network.streets.len())
            .map(|s| coverage.street_covered_m(&net.network, s))
            .sum();
        summary = (matched.fixes_matched, matched.runs.len(), covered);

        let t = Instant::now();
        let report = store.patrol_coverage(patrol).expect("coverage");
        through_store.push(ms(t));
        std::hint::black_box(report.totals.covered_m);

        let t = Instant::now();
        let mut hits = Vec::new();
        let mut found = 0usize;
        for f in &fixes {
            let (x, y) = net.network.projection.to_metres(f.lat, f.lon);
            net.nearest_segments_into(x, y, 25.0, 6, &mut hits);
            found += hits.len();
        }
        nearest.push(ms(t));
        std::hint::black_box(found);
    }
    let (core, through_store, nearest) = (
        median(&mut core),
        median(&mut through_store),
        median(&mut nearest),
    );
    let rate = fixes.len() as f64 / (core / 1000.0);
    let walked = 1.3 * fixes.len() as f64;
    println!(
        "  match + coverage (core)             {core:>8.2} ms   (target < 100 ms)   {rate:>10.0} fixes/s"
    );
    println!("  through the store (SQLite + report) {through_store:>8.2} ms");
    println!(
        "  baseline: R-tree lookup per fix     {nearest:>8.2} ms   ratio core/lookup {:.2}",
        core / nearest
    );
    println!(
        "  matched {} fixes in {} run(s); covered {:.1} km of streets for a {:.1} km walk",
        summary.0,
        summary.1,
        summary.2 / 1000.0,
        walked / 1000.0
    );
    println!(
        "\nRESULT index_build_ms={bulk:.2} index_full_load_ms={full:.2} index_insert_baseline_ms={inserted:.2} match_coverage_ms={core:.2} fixes_per_s={rate:.0} store_coverage_ms={through_store:.2} lookup_baseline_ms={nearest:.2}"
    );
}
