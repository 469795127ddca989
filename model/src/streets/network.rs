//! The street network loaded into memory for matching and coverage: every segment projected to
//! metres ([`LocalProjection`] centred on the network), with its vertices' running offsets for
//! linear referencing, and the junctions where segments meet (a shared point, found exactly
//! because coordinates are stored as [`E7`] integers).

use std::collections::HashMap;

use crate::domain::{SegmentId, StreetId};
use crate::geodesy::LocalProjection;
use crate::streets::{E7, Segment, Street, to_e7};

/// A point where this segment meets another segment (or one of its own ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Junction {
    /// Distance along the segment, in projected metres.
    pub offset_m: f64,
    pub node: u32,
}

/// A segment ready for geometry: projected vertices and their running offsets.
#[derive(Debug, Clone)]
pub struct NetworkSegment {
    pub id: SegmentId,
    /// Index of its street in [`StreetNetwork::streets`].
    pub street: usize,
    pub ordinal: u32,
    /// WGS-84 (lat, lon).
    pub points: Vec<(f64, f64)>,
    /// Projected (x east, y north) metres.
    pub xy: Vec<[f64; 2]>,
    /// Projected distance from the first vertex to each vertex.
    pub cumulative_m: Vec<f64>,
    /// Haversine length as stored (what is reported).
    pub length_m: f64,
    /// Sorted by offset; always includes both ends.
    pub junctions: Vec<Junction>,
}

impl NetworkSegment {
    /// Length in projected metres (the unit of offsets).
    pub fn projected_length_m(&self) -> f64 {
        self.cumulative_m.last().copied().unwrap_or(0.0)
    }

    /// Reported metres per projected metre, so covered lengths add up to Haversine lengths.
    pub fn scale(&self) -> f64 {
        let p = self.projected_length_m();
        if p > 0.0 { self.length_m / p } else { 1.0 }
    }

    /// The closest point of piece `i` (vertices i, i+1) to (x, y): (offset along the segment,
    /// distance, unit direction of the piece).
    pub fn project_on_piece(&self, i: usize, x: f64, y: f64) -> (f64, f64, [f64; 2]) {
        let (a, b) = (self.xy[i], self.xy[i + 1]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((x - a[0]) * dx + (y - a[1]) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (px, py) = (a[0] + dx * t, a[1] + dy * t);
        let len = len2.sqrt();
        let dir = if len > 0.0 {
            [dx / len, dy / len]
        } else {
            [0.0, 0.0]
        };
        (self.cumulative_m[i] + t * len, (x - px).hypot(y - py), dir)
    }

    /// The closest point of the whole segment to (x, y): (offset, distance, direction).
    pub fn project(&self, x: f64, y: f64) -> (f64, f64, [f64; 2]) {
        (0..self.xy.len().saturating_sub(1))
            .map(|i| self.project_on_piece(i, x, y))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0.0, f64::INFINITY, [0.0, 0.0]))
    }

    /// Unit direction of the segment at `offset_m`.
    pub fn direction_at(&self, offset_m: f64) -> [f64; 2] {
        let i = self
            .cumulative_m
            .partition_point(|c| *c <= offset_m)
            .clamp(1, self.xy.len().max(2) - 1);
        let (a, b) = (self.xy[i - 1], self.xy[i]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        if len > 0.0 {
            [dx / len, dy / len]
        } else {
            [0.0, 0.0]
        }
    }

    /// The projected point at `offset_m` along the segment.
    pub fn point_at(&self, offset_m: f64) -> [f64; 2] {
        let i = self
            .cumulative_m
            .partition_point(|c| *c <= offset_m)
            .clamp(1, self.xy.len().max(2) - 1);
        let (a, b) = (self.xy[i - 1], self.xy[i]);
        let piece = self.cumulative_m[i] - self.cumulative_m[i - 1];
        let t = if piece > 0.0 {
            ((offset_m - self.cumulative_m[i - 1]) / piece).clamp(0.0, 1.0)
        } else {
            0.0
        };
        [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
    }
}

/// The loaded network. Built once when the network loads and kept in memory (the store caches
/// it until the next import).
#[derive(Debug, Clone)]
pub struct StreetNetwork {
    pub projection: LocalProjection,
    pub streets: Vec<Street>,
    pub segments: Vec<NetworkSegment>,
    /// Segment indices of each street, in ordinal order.
    pub street_segments: Vec<Vec<usize>>,
    /// For each junction node: the (segment, junction index) pairs that meet there.
    pub(crate) nodes: Vec<Vec<(u32, u32)>>,
    street_by_id: HashMap<StreetId, usize>,
    segment_by_id: HashMap<SegmentId, usize>,
}

impl StreetNetwork {
    /// Builds the in-memory network from stored streets and segments. Segments of unknown
    /// streets are left out.
    pub fn new(streets: Vec<Street>, segments: Vec<Segment>) -> Self {
        let street_by_id: HashMap<StreetId, usize> =
            streets.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let projection =
            LocalProjection::centred_on(segments.iter().flat_map(|s| s.points.iter().copied()))
                .unwrap_or_else(|| LocalProjection::new(39.9, 116.4));

        // A vertex is a junction when two segments share it, or when it ends a segment.
        let mut seen: HashMap<E7, (u32, bool)> = HashMap::new();
        for (si, s) in segments.iter().enumerate() {
            let last = s.points.len().saturating_sub(1);
            for (vi, &(lat, lon)) in s.points.iter().enumerate() {
                let entry = seen.entry(to_e7(lat, lon)).or_insert((si as u32, false));
                if entry.0 != si as u32 || vi == 0 || vi == last {
                    entry.1 = true;
                }
            }
        }
        let mut node_of: HashMap<E7, u32> = HashMap::new();
        let mut nodes: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut out = Vec::with_capacity(segments.len());
        let mut street_segments = vec![Vec::new(); streets.len()];
        for s in segments {
            let Some(&street) = street_by_id.get(&s.street_id) else {
                continue;
            };
            let xy: Vec<[f64; 2]> = s
                .points
                .iter()
                .map(|&(lat, lon)| {
                    let (x, y) = projection.to_metres(lat, lon);
                    [x, y]
                })
                .collect();
            let mut cumulative_m = Vec::with_capacity(xy.len());
            let mut total = 0.0;
            for (i, p) in xy.iter().enumerate() {
                if i > 0 {
                    total += (p[0] - xy[i - 1][0]).hypot(p[1] - xy[i - 1][1]);
                }
                cumulative_m.push(total);
            }
            let si = out.len() as u32;
            let mut junctions = Vec::new();
            for (vi, &(lat, lon)) in s.points.iter().enumerate() {
                let key = to_e7(lat, lon);
                if !seen.get(&key).is_some_and(|e| e.1) {
                    continue;
                }
                let node = *node_of.entry(key).or_insert_with(|| {
                    nodes.push(Vec::new());
                    (nodes.len() - 1) as u32
                });
                nodes[node as usize].push((si, junctions.len() as u32));
                junctions.push(Junction {
                    offset_m: cumulative_m[vi],
                    node,
                });
            }
            street_segments[street].push(out.len());
            out.push(NetworkSegment {
                id: s.id,
                street,
                ordinal: s.ordinal,
                points: s.points,
                xy,
                cumulative_m,
                length_m: s.length_m,
                junctions,
            });
        }
        for list in &mut street_segments {
            list.sort_by_key(|&i| out[i].ordinal);
        }
        let segment_by_id = out.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        Self {
            projection,
            streets,
            segments: out,
            street_segments,
            nodes,
            street_by_id,
            segment_by_id,
        }
    }

    pub fn street_index(&self, id: StreetId) -> Option<usize> {
        self.street_by_id.get(&id).copied()
    }

    pub fn segment_index(&self, id: SegmentId) -> Option<usize> {
        self.segment_by_id.get(&id).copied()
    }

    /// Whether a segment's street has a name.
    pub fn segment_is_named(&self, segment: usize) -> bool {
        self.streets[self.segments[segment].street].name.is_some()
    }

    /// The street a segment belongs to.
    pub fn street_of(&self, segment: usize) -> &Street {
        &self.streets[self.segments[segment].street]
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Total stored (Haversine) length of all segments.
    pub fn total_length_m(&self) -> f64 {
        self.segments.iter().map(|s| s.length_m).sum()
    }
}
