//! The spatial index of the street network: an R-tree (rstar) of every straight piece of every
//! segment, in the network's local projection (metres), built when the network loads and kept
//! in memory by whoever loaded it (the phone store until the next import, the server). Queries: segments nearest a point within a
//! radius, and segments in a box.

use rstar::primitives::{GeomWithData, Line};
use rstar::{AABB, RTree};

use crate::geodesy::BoundingBox;
use crate::streets::StreetNetwork;

type Piece = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// Where a point falls on one segment: the closest point of the segment to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentHit {
    /// Index into [`StreetNetwork::segments`].
    pub segment: usize,
    /// Distance along the segment, projected metres.
    pub offset_m: f64,
    /// Distance from the point to the segment, metres.
    pub distance_m: f64,
    /// Unit direction (x east, y north) of the segment at that point.
    pub direction: [f64; 2],
}

/// A street network with its R-tree.
#[derive(Debug)]
pub struct IndexedNetwork {
    pub network: StreetNetwork,
    tree: RTree<Piece>,
}

impl IndexedNetwork {
    /// Indexes every piece (pair of consecutive vertices) of every segment (bulk loading).
    /// Inlined so the R-tree's bulk load is compiled where the network is loaded.
    #[inline]
    pub fn build(network: StreetNetwork) -> Self {
        let pieces: Vec<Piece> = network
            .segments
            .iter()
            .enumerate()
            .flat_map(|(si, s)| {
                s.xy.windows(2).enumerate().map(move |(pi, w)| {
                    GeomWithData::new(Line::new(w[0], w[1]), (si as u32, pi as u32))
                })
            })
            .collect();
        Self {
            network,
            tree: RTree::bulk_load(pieces),
        }
    }

    /// Pieces in the index.
    pub fn piece_count(&self) -> usize {
        self.tree.size()
    }

    /// Segments within `radius_m` of the projected point (x, y), nearest first, at most `max`;
    /// each with the closest point on it. Writes into `out` (cleared first) so hot loops reuse it.
    pub fn nearest_segments_into(
        &self,
        x: f64,
        y: f64,
        radius_m: f64,
        max: usize,
        out: &mut Vec<SegmentHit>,
    ) {
        out.clear();
        for piece in self
            .tree
            .locate_within_distance([x, y], radius_m * radius_m)
        {
            let (si, pi) = piece.data;
            let (offset_m, distance_m, direction) =
                self.network.segments[si as usize].project_on_piece(pi as usize, x, y);
            if distance_m > radius_m {
                continue;
            }
            let hit = SegmentHit {
                segment: si as usize,
                offset_m,
                distance_m,
                direction,
            };
            match out.iter_mut().find(|h| h.segment == hit.segment) {
                Some(h) if h.distance_m <= distance_m => {}
                Some(h) => *h = hit,
                None => out.push(hit),
            }
        }
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        out.truncate(max);
    }

    /// Segments within `radius_m` of a WGS-84 point, nearest first, at most `max`.
    pub fn nearest_segments(
        &self,
        lat: f64,
        lon: f64,
        radius_m: f64,
        max: usize,
    ) -> Vec<SegmentHit> {
        let (x, y) = self.network.projection.to_metres(lat, lon);
        let mut out = Vec::new();
        self.nearest_segments_into(x, y, radius_m, max, &mut out);
        out
    }

    /// Segments with a piece inside or crossing a WGS-84 box, in index order, each once.
    pub fn segments_in_box(&self, bbox: &BoundingBox) -> Vec<usize> {
        let p = &self.network.projection;
        let (x0, y0) = p.to_metres(bbox.min_lat, bbox.min_lon);
        let (x1, y1) = p.to_metres(bbox.max_lat, bbox.max_lon);
        let envelope = AABB::from_corners([x0.min(x1), y0.min(y1)], [x0.max(x1), y0.max(y1)]);
        let mut out: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|piece| piece.data.0 as usize)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}
