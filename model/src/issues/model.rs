//! The plain Rust view of an issue document: what [`super::doc`] reads out of Automerge and
//! writes into it. No storage, no CRDT types here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use crate::domain::{
    CommentId, Department, DeviceId, IssueEventId, IssueEventKind, IssueId, PhotoStage, Role,
    UserId,
};
use crate::error::Error;
use crate::hlc::HlcStamp;

/// The document layout version this code writes. A document with a higher one (a newer app)
/// is still read as far as its fields are known.
pub const DOC_SCHEMA_VERSION: i64 = 1;

/// Who an issue is given to: a department, or a person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Assignee {
    Department(Department),
    User(UserId),
}

impl Assignee {
    /// Whether `user` (acting in `role`) is this assignee: the person themselves, or a member of
    /// the department (crews for city property, officers for enforcement, supervisors record an
    /// owning department's answers).
    pub fn includes(&self, user: &UserId, role: Role) -> bool {
        match self {
            Assignee::User(u) => u == user,
            Assignee::Department(Department::CityProperty) => role == Role::Crew,
            Assignee::Department(Department::Enforcement) => role == Role::Enforcement,
            Assignee::Department(Department::Owner) => role == Role::Supervisor,
        }
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Assignee::Department(d) => d.fmt(f),
            Assignee::User(u) => u.fmt(f),
        }
    }
}

impl FromStr for Assignee {
    type Err = Error;
    /// `city-property`, `city_property`, `enforcement`, `owner`, or a user id.
    fn from_str(s: &str) -> Result<Self, Error> {
        if let Ok(d) = s.parse::<Department>() {
            return Ok(Assignee::Department(d));
        }
        s.parse::<UserId>().map(Assignee::User).map_err(|_| {
            Error::InvalidInput(format!(
                "{s:?} is not someone an issue can be assigned to; expected city-property, enforcement, owner (the owning department) or a user id"
            ))
        })
    }
}

impl Serialize for Assignee {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Assignee {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where the problem is: WGS-84, and the street and segment it lies on when known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueLocation {
    pub lat: f64,
    pub lon: f64,
    pub street_id: Option<String>,
    pub segment_id: Option<String>,
}

/// Who reported the issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub device_id: DeviceId,
}

/// What an event says beyond its kind. Every field is optional so the layout can grow; which
/// ones a kind needs is checked by [`super::roles`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPayload {
    /// assign: who gets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Assignee>,
    /// assign: the assignments (event ids) this one replaces, as the author knew them. Two
    /// assignments that do not know of each other are a conflict.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub replaces: Vec<IssueEventId>,
    /// return / accept / resolve: the assignment (event id) the author acts under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment: Option<IssueEventId>,
    /// return, reopen, cancel: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free text any event may carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// resolve: SHA-256 of the after-photo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// duplicate_of: the issue this one duplicates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<IssueId>,
}

/// One workflow event, as appended to the document's event list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueEvent {
    pub id: IssueEventId,
    pub kind: IssueEventKind,
    /// The user who acted.
    pub by: UserId,
    /// Their role when they acted.
    pub role: Role,
    pub device: DeviceId,
    pub at: HlcStamp,
    /// The round of the loop the author saw (1, then +1 per reopen).
    pub round: u32,
    pub payload: EventPayload,
}

/// A photo's metadata as the document carries it (the bytes live in the photo store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoRef {
    pub sha256: String,
    pub stage: PhotoStage,
    pub mime: String,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// EXIF time the picture was taken (as the camera's clock said), ms since the epoch.
    pub taken_at_ms: Option<i64>,
    /// Where it was taken: EXIF GPS, or where the device was when it was attached.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// EXIF orientation (1-8), applied to the thumbnail already.
    pub orientation: Option<u16>,
    pub added_by: UserId,
    /// A small JPEG (at most ~320 px) carried in the document so every device can show it.
    #[serde(skip)]
    pub thumbnail: Vec<u8>,
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: CommentId,
    pub by: UserId,
    pub role: Role,
    pub at: HlcStamp,
    pub text: String,
}

/// Everything an issue document holds, read out of Automerge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueDoc {
    pub schema: i64,
    pub id: IssueId,
    pub category: String,
    pub description: String,
    pub location: IssueLocation,
    pub reporter: Reporter,
    /// Photos sorted by hash.
    pub photos: Vec<PhotoRef>,
    /// Comments in HLC order.
    pub comments: Vec<Comment>,
    /// Events in the document's list order (the fold sorts them by HLC).
    pub events: Vec<IssueEvent>,
    /// Entries of the event list this code could not read (damaged, or from a newer app).
    pub unreadable_events: Vec<String>,
}

impl IssueDoc {
    /// The latest HLC stamp anywhere in the document.
    pub fn latest_stamp(&self) -> Option<&HlcStamp> {
        self.events
            .iter()
            .map(|e| &e.at)
            .chain(self.comments.iter().map(|c| &c.at))
            .max()
    }

    pub fn photo(&self, sha256: &str) -> Option<&PhotoRef> {
        self.photos.iter().find(|p| p.sha256 == sha256)
    }
}
