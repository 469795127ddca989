//! The types of the glossary (../shared/DOMAIN.md). They depend on nothing else in the crate, so
//! every other module, the FFI and the server speak the same words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares an id newtype over a UUIDv7 made on the device, so two devices never collide and
/// ids sort by creation time.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh id (UUIDv7: time-ordered, random in its low bits).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| ParseIdError { kind: stringify!($name), value: s.to_owned() })
            }
        }
    };
}

/// A string that is not a valid id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value:?} is not a valid {kind}: expected a UUID like 0192f0c4-7c1e-7d2a-9b1e-3f5c2a1d4e6f"
)]
pub struct ParseIdError {
    pub kind: &'static str,
    pub value: String,
}

uuid_id!(
    /// A 区, the top of the admin structure.
    DistrictId
);
uuid_id!(
    /// A 街道 (subdistrict); 鲁谷社区 counts as one.
    SubdistrictId
);
uuid_id!(
    /// A person using the system, whatever their role.
    UserId
);
uuid_id!(
    /// One installation of the app on one phone.
    DeviceId
);
uuid_id!(
    /// A 巡查: one walk with a GPS track.
    PatrolId
);
uuid_id!(
    /// A 街巷: a named street or alley (or one unnamed way), made of one or more segments.
    StreetId
);
uuid_id!(
    /// A 分段: one polyline of bounded length along a street, the unit coverage is counted in.
    SegmentId
);
uuid_id!(
    /// A 公示牌: a wall sign naming a street's chief, carrying a QR code.
    SignboardId
);
uuid_id!(
    /// A scan of a signboard by a chief or steward during a patrol: proof of presence.
    CheckInId
);

/// Declares a string-backed enum whose wire and database form is lowercase snake_case.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
                $(if wanted == $text { return Ok($name::$variant); })+
                Err(ParseEnumError {
                    kind: $what,
                    value: s.to_owned(),
                    expected: vec![$($text),+].join(", "),
                })
            }
        }
    };
}

/// A word that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind}; expected one of: {expected}")]
pub struct ParseEnumError {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

string_enum!(
    /// What a user does in the system; decides what they may do and what they see.
    Role, "role" {
        /// 街巷长: answers for their streets, patrols them, verifies fixes.
        Chief => "chief",
        /// 小巷管家: volunteer who patrols and picks up litter, earns points.
        Steward => "steward",
        /// Subdistrict or district staff: dispatch, assessment, credit.
        Supervisor => "supervisor",
        /// 城市物业 cleaning crew member: resolves assigned issues.
        Crew => "crew",
        /// 综合执法 officer: resolves assigned issues.
        Enforcement => "enforcement",
        /// A resident reporting through a signboard's QR code.
        Public => "public",
    }
);

string_enum!(
    /// The geodetic datum of a coordinate. Everything is stored in WGS-84; Chinese map SDKs
    /// (AMap, Tencent) hand out GCJ-02, shifted by a few hundred metres.
    Datum, "datum" {
        Wgs84 => "wgs84",
        Gcj02 => "gcj02",
    }
);

string_enum!(
    /// Where a patrol is in its life.
    PatrolState, "patrol state" {
        Recording => "recording",
        Paused => "paused",
        Stopped => "stopped",
    }
);

string_enum!(
    /// What the filter decided about one fix. Every fix is stored with its verdict; only `kept`
    /// fixes count for distance, coverage and display.
    FixVerdict, "fix verdict" {
        Kept => "kept",
        /// Horizontal accuracy worse than the configured limit.
        PoorAccuracy => "poor_accuracy",
        /// Reaching it from the last kept fix needs a speed no patrol moves at.
        ImpossibleSpeed => "impossible_speed",
        /// Far from the last kept fix with no time to tell a speed (no or equal timestamps).
        Jump => "jump",
        /// Same place and time as the last kept fix.
        Duplicate => "duplicate",
        /// The platform flagged it as coming from a mock-location provider.
        MockLocation => "mock_location",
        /// Latitude/longitude not a place on Earth, or the (0, 0) of a receiver with no fix.
        InvalidCoordinates => "invalid_coordinates",
        /// Its timestamp is earlier than the last kept fix's.
        OutOfOrder => "out_of_order",
    }
);

/// One GPS reading as the host (or a file) delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewFix {
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy (68 % radius) in metres, if the platform gives one.
    pub accuracy_m: Option<f64>,
    pub altitude_m: Option<f64>,
    pub speed_mps: Option<f64>,
    /// Course over ground in degrees clockwise from north.
    pub bearing_deg: Option<f64>,
    /// When the fix was taken, milliseconds since the Unix epoch (UTC). `None` when a file had no
    /// usable time.
    pub time_ms: Option<i64>,
    /// Location provider (`gps`, `network`, `fused`, `file` ...).
    pub provider: Option<String>,
    /// The platform says it came from a mock-location app.
    pub is_mock: bool,
    /// The datum `lat`/`lon` are in; converted to WGS-84 on the way in.
    pub datum: Datum,
}

impl NewFix {
    /// A WGS-84 fix with only a position and a time; the other fields empty.
    pub fn at(lat: f64, lon: f64, time_ms: i64) -> Self {
        Self {
            lat,
            lon,
            accuracy_m: None,
            altitude_m: None,
            speed_mps: None,
            bearing_deg: None,
            time_ms: Some(time_ms),
            provider: None,
            is_mock: false,
            datum: Datum::Wgs84,
        }
    }

    pub fn with_accuracy(mut self, accuracy_m: f64) -> Self {
        self.accuracy_m = Some(accuracy_m);
        self
    }
}

/// A fix as stored: WGS-84, numbered within its patrol, with the filter's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFix {
    pub seq: i64,
    /// Track segment within the patrol: a GPX `trkseg`, or the stretch between a resume and the
    /// next pause. Distances never bridge two segments.
    pub segment: i64,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub altitude_m: Option<f64>,
    pub speed_mps: Option<f64>,
    pub bearing_deg: Option<f64>,
    pub time_ms: Option<i64>,
    pub provider: Option<String>,
    pub is_mock: bool,
    pub verdict: FixVerdict,
}

// ---- Issues, litter pickups and points -------------------------------------------------------

uuid_id!(
    /// A 问题: one reported problem and its workflow (one Automerge document).
    IssueId
);
uuid_id!(
    /// One event in an issue's workflow.
    IssueEventId
);
uuid_id!(
    /// One comment on an issue.
    CommentId
);
uuid_id!(
    /// A 捡拾垃圾 record: one litter pickup by a steward.
    PickupId
);
uuid_id!(
    /// One entry of the points ledger.
    PointsEntryId
);

string_enum!(
    /// Where an issue is in its loop (发现, 分派, 处置, 反馈). Computed from the events, never stored
    /// as a field anyone writes.
    IssueStatus, "issue status" {
        /// Found and reported; nobody has it yet.
        Reported => "reported",
        /// Given to a department or person.
        Assigned => "assigned",
        /// Every assignee of the round handed it back.
        Returned => "returned",
        /// An assignee accepted it and is handling it.
        InProgress => "in_progress",
        /// An assignee says it is fixed (with an after-photo).
        Resolved => "resolved",
        /// The chief or the reporter confirmed the fix: the loop is closed.
        Verified => "verified",
        /// Opened again; a new round of the loop begins.
        Reopened => "reopened",
        /// The same problem as another issue.
        Duplicate => "duplicate",
        /// Withdrawn or not a problem.
        Cancelled => "cancelled",
    }
);

impl IssueStatus {
    /// Whether someone still has to act: the issue counts as open and can be overdue.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Reported | Self::Assigned | Self::Returned | Self::InProgress | Self::Reopened
        )
    }
}

string_enum!(
    /// What happened in one workflow event.
    IssueEventKind, "issue event" {
        /// The issue was reported (always the first event).
        Report => "report",
        /// Given to a department or a person.
        Assign => "assign",
        /// The assignee refuses it, with a reason.
        Return => "return",
        /// The assignee takes it on.
        Accept => "accept",
        /// The assignee fixed it; carries the after-photo.
        Resolve => "resolve",
        /// The chief or the reporter confirms the fix.
        Verify => "verify",
        /// Not fixed after all, or back again: starts a new round.
        Reopen => "reopen",
        /// The same problem as another issue.
        DuplicateOf => "duplicate_of",
        /// Withdrawn or not a problem.
        Cancel => "cancel",
    }
);

string_enum!(
    /// The forces problems are handed to (../shared/DOMAIN.md).
    Department, "department" {
        /// 城市物业: the cleaning crews that take every problem no department owns.
        CityProperty => "city_property",
        /// 综合执法: comprehensive law enforcement.
        Enforcement => "enforcement",
        /// The department that owns the thing (roads, housing, utilities ...); a supervisor
        /// records its answers.
        Owner => "owner",
    }
);

string_enum!(
    /// Whether a photo shows the problem or the fix.
    PhotoStage, "photo stage" {
        Before => "before",
        After => "after",
    }
);

string_enum!(
    /// Why points were entered in the ledger.
    PointsKind, "points kind" {
        /// A logged litter pickup.
        Pickup => "pickup",
        /// An issue the steward reported ended verified.
        VerifiedIssue => "verified_issue",
        /// An hour of patrol.
        PatrolHour => "patrol_hour",
        /// Points spent on a reward (negative).
        Redemption => "redemption",
    }
);

// ---- Merchants and frontage duty (门前三包) -----------------------------------------------------

uuid_id!(
    /// A 商户 along a street: one Automerge document, edited by supervisors and chiefs.
    MerchantId
);
uuid_id!(
    /// One frontage-duty inspection of a merchant.
    InspectionId
);

string_enum!(
    /// The three guarantees in front of the door (门前三包) an inspection grades.
    FrontageDuty, "frontage duty" {
        /// 门前卫生: clean, no litter or waste in front of the shop.
        Sanitation => "sanitation",
        /// 门前绿化: trees and planting in front of the shop cared for.
        Greening => "greening",
        /// 门前秩序: no goods, stalls or vehicles blocking the pavement.
        Order => "order",
    }
);

string_enum!(
    /// How one frontage duty was found at an inspection.
    DutyGrade, "duty grade" {
        Good => "good",
        Fair => "fair",
        Poor => "poor",
    }
);
