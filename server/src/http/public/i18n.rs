//! The pages' words in Chinese (the default) and English: `?lang=en` or a browser asking for
//! English first (`Accept-Language`) gives English; anything else Chinese.

use axum::http::HeaderMap;
use patrol_model::Role;
use patrol_model::domain::{Department, IssueEventKind, IssueStatus};

use crate::public::receipt::Actor;
use crate::public::{Field, FieldError, Problem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `?lang=` first, then the browser's first preference between Chinese and English.
    pub fn choose(query: Option<&str>, headers: &HeaderMap) -> Lang {
        match query.map(str::trim) {
            Some(q) if q.eq_ignore_ascii_case("en") => return Lang::En,
            Some(q) if q.to_ascii_lowercase().starts_with("zh") => return Lang::Zh,
            _ => {}
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for part in accept.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::Zh;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Zh
    }

    /// The `lang` attribute of the page.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// What to add to a link to stay in this language.
    pub fn query(self) -> &'static str {
        match self {
            Lang::Zh => "",
            Lang::En => "?lang=en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// A category's name in the district's catalog.
    pub fn category(self, catalog: &patrol_model::issues::Catalog, code: &str) -> String {
        match (catalog.get(code), self) {
            (Some(c), Lang::Zh) => c.name_zh.clone(),
            (Some(c), Lang::En) => c.name_en.clone(),
            (None, _) => code.replace('_', " "),
        }
    }

    pub fn status(self, s: IssueStatus) -> &'static str {
        use IssueStatus::*;
        match (self, s) {
            (Lang::Zh, Reported) => "已受理，等待派单",
            (Lang::Zh, Assigned) => "已派单，等待处置",
            (Lang::Zh, Returned) => "已退回，重新派单中",
            (Lang::Zh, InProgress) => "正在处置",
            (Lang::Zh, Resolved) => "已处置，等待街巷长核实",
            (Lang::Zh, Verified) => "已核实办结",
            (Lang::Zh, Reopened) => "重新办理中",
            (Lang::Zh, Duplicate) => "与已报问题重复，合并办理",
            (Lang::Zh, Cancelled) => "已撤销",
            (Lang::En, Reported) => "Received, waiting to be dispatched",
            (Lang::En, Assigned) => "Dispatched, waiting to be handled",
            (Lang::En, Returned) => "Returned, being dispatched again",
            (Lang::En, InProgress) => "Being handled",
            (Lang::En, Resolved) => "Handled, waiting for the chief to verify",
            (Lang::En, Verified) => "Verified and closed",
            (Lang::En, Reopened) => "Reopened, being handled again",
            (Lang::En, Duplicate) => "Same as a problem already reported",
            (Lang::En, Cancelled) => "Cancelled",
        }
    }

    pub fn step(self, k: IssueEventKind) -> &'static str {
        use IssueEventKind::*;
        match (self, k) {
            (Lang::Zh, Report) => "已上报",
            (Lang::Zh, Assign) => "已派单",
            (Lang::Zh, Accept) => "已接单",
            (Lang::Zh, Return) => "被退回",
            (Lang::Zh, Resolve) => "已处置",
            (Lang::Zh, Verify) => "已核实",
            (Lang::Zh, Reopen) => "重新办理",
            (Lang::Zh, DuplicateOf) => "合并到重复问题",
            (Lang::Zh, Cancel) => "已撤销",
            (Lang::En, Report) => "Reported",
            (Lang::En, Assign) => "Dispatched",
            (Lang::En, Accept) => "Accepted",
            (Lang::En, Return) => "Returned",
            (Lang::En, Resolve) => "Handled",
            (Lang::En, Verify) => "Verified",
            (Lang::En, Reopen) => "Reopened",
            (Lang::En, DuplicateOf) => "Merged with a duplicate",
            (Lang::En, Cancel) => "Cancelled",
        }
    }

    pub fn actor(self, a: Actor) -> &'static str {
        match (self, a) {
            (Lang::Zh, Actor::Resident) => "居民",
            (Lang::En, Actor::Resident) => "resident",
            (Lang::Zh, Actor::Role(r)) => match r {
                Role::Chief => "街巷长",
                Role::Steward => "小巷管家",
                Role::Supervisor => "街道/区工作人员",
                Role::Crew => "城市物业",
                Role::Enforcement => "综合执法",
                Role::Public => "居民",
            },
            (Lang::En, Actor::Role(r)) => match r {
                Role::Chief => "street chief",
                Role::Steward => "alley steward",
                Role::Supervisor => "subdistrict / district staff",
                Role::Crew => "city property crew",
                Role::Enforcement => "law enforcement",
                Role::Public => "resident",
            },
            (Lang::Zh, Actor::Department(d)) => match d {
                Department::CityProperty => "城市物业",
                Department::Enforcement => "综合执法",
                Department::Owner => "责任部门",
            },
            (Lang::En, Actor::Department(d)) => match d {
                Department::CityProperty => "city property crews",
                Department::Enforcement => "law enforcement",
                Department::Owner => "the responsible department",
            },
        }
    }

    /// A field's problem, said to the resident.
    pub fn problem(self, e: &FieldError) -> String {
        let zh = self == Lang::Zh;
        match (&e.problem, e.field) {
            (Problem::Missing, Field::Category) if zh => "请选择问题类型".into(),
            (Problem::Missing, Field::Category) => "Choose what kind of problem it is".into(),
            (Problem::Missing, _) if zh => "此项必填".into(),
            (Problem::Missing, _) => "This is required".into(),
            (Problem::TooLong { max_chars }, _) if zh => format!("最多 {max_chars} 个字"),
            (Problem::TooLong { max_chars }, _) => format!("At most {max_chars} characters"),
            (Problem::NotInCatalog, _) if zh => "请从列表中选择问题类型".into(),
            (Problem::NotInCatalog, _) => "Choose a kind of problem from the list".into(),
            (Problem::BadPhone, _) if zh => "请填写有效的手机号（11 位）或带区号的固话".into(),
            (Problem::BadPhone, _) => {
                "Give a mobile number (11 digits) or a landline with its area code".into()
            }
            (Problem::TooManyPhotos { max }, _) if zh => format!("最多 {max} 张照片"),
            (Problem::TooManyPhotos { max }, _) => format!("At most {max} photos"),
            (Problem::PhotoTooLarge { max_bytes }, _) if zh => {
                format!("每张照片不超过 {} MB", max_bytes / (1024 * 1024))
            }
            (Problem::PhotoTooLarge { max_bytes }, _) => {
                format!("Each photo at most {} MB", max_bytes / (1024 * 1024))
            }
            (Problem::NotAPhoto, _) if zh => "只能上传 JPEG 或 PNG 照片".into(),
            (Problem::NotAPhoto, _) => "Only JPEG or PNG photos can be sent".into(),
            (Problem::BadPosition, _) if zh => "位置无效，将使用公示牌的位置".into(),
            (Problem::BadPosition, _) => "Not a valid position; the signboard's is used".into(),
            (Problem::NotAChoice, _) if zh => "请从列表中选择".into(),
            (Problem::NotAChoice, _) => "Choose one from the list".into(),
            (Problem::AlreadyApplied, _) if zh => {
                "这个手机号已有一份报名在审核中，请耐心等待".into()
            }
            (Problem::AlreadyApplied, _) => {
                "An application with this number is already being reviewed".into()
            }
        }
    }
}

/// Every fixed text of the pages.
#[derive(Debug)]
pub struct Texts {
    pub site: &'static str,
    pub other_lang: &'static str,
    pub other_lang_href: &'static str,
    pub street: &'static str,
    pub chief: &'static str,
    pub chief_duty: &'static str,
    pub no_chief: &'static str,
    pub hotline: &'static str,
    pub subdistrict: &'static str,
    pub open_now: &'static str,
    pub resolved_title: &'static str,
    pub resolved_none: &'static str,
    pub resolved: &'static str,
    pub verified: &'static str,
    pub reported_on: &'static str,
    pub report_title: &'static str,
    pub report_intro: &'static str,
    pub category: &'static str,
    pub choose: &'static str,
    pub description: &'static str,
    pub description_hint: &'static str,
    pub photos: &'static str,
    pub photos_hint: &'static str,
    pub photos_again: &'static str,
    pub location: &'static str,
    pub location_hint: &'static str,
    pub use_my_location: &'static str,
    pub location_set: &'static str,
    pub contact: &'static str,
    pub contact_hint: &'static str,
    pub submit_report: &'static str,
    pub form_has_errors: &'static str,
    pub steward_title: &'static str,
    pub steward_intro: &'static str,
    pub name: &'static str,
    pub phone: &'static str,
    pub preferred_street: &'static str,
    pub availability: &'static str,
    pub availability_hint: &'static str,
    pub submit_steward: &'static str,
    pub track_title: &'static str,
    pub track_hint: &'static str,
    pub track_button: &'static str,
    pub receipt_title: &'static str,
    pub receipt_keep: &'static str,
    pub receipt_code: &'static str,
    pub progress: &'static str,
    pub now_status: &'static str,
    pub reason: &'static str,
    pub your_photos: &'static str,
    pub after_photo: &'static str,
    pub contact_kept: &'static str,
    pub my_data: &'static str,
    pub my_data_body: &'static str,
    pub download_data: &'static str,
    pub erase_contact: &'static str,
    pub application_title: &'static str,
    pub application_pending: &'static str,
    pub application_approved: &'static str,
    pub application_declined: &'static str,
    pub enrol_code: &'static str,
    pub enrol_how: &'static str,
    pub back_to_street: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub no_signboards_body: &'static str,
    pub too_many_title: &'static str,
    pub too_many_body: &'static str,
    pub bad_form_title: &'static str,
    pub bad_form_body: &'static str,
    pub too_large_title: &'static str,
    pub too_large_body: &'static str,
    pub failed_title: &'static str,
    pub failed_body: &'static str,
    pub busy_body: &'static str,
    pub privacy: &'static str,
}

pub static ZH: Texts = Texts {
    site: "街巷长制 · 公示牌",
    other_lang: "English",
    other_lang_href: "?lang=en",
    street: "街巷",
    chief: "街巷长",
    chief_duty: "负责本街巷的日常巡查、问题发现与督促整改",
    no_chief: "街巷长待定",
    hotline: "服务热线",
    subdistrict: "所属街道",
    open_now: "件问题正在办理",
    resolved_title: "近期已办结",
    resolved_none: "近 90 天没有办结的问题。",
    resolved: "已处置",
    verified: "已核实",
    reported_on: "上报于",
    report_title: "我要反映问题",
    report_intro: "无需注册。您反映的问题将直接送达本街巷的街巷长。",
    category: "问题类型",
    choose: "请选择",
    description: "问题描述",
    description_hint: "简要说明问题和具体位置（选填，最多 500 字；电话请填在下面的联系电话栏，写在这里会被隐去）",
    photos: "照片",
    photos_hint: "最多 3 张，可直接拍照",
    photos_again: "如需附照片，请重新选择（出错时照片不会保留）",
    location: "位置",
    location_hint: "默认使用公示牌所在位置",
    use_my_location: "使用我当前的位置",
    location_set: "已获取您的位置",
    contact: "联系电话",
    contact_hint: "选填，仅供工作人员回访，不会公开",
    submit_report: "提交",
    form_has_errors: "请修改标出的内容后再提交。",
    steward_title: "报名当小巷管家",
    steward_intro: "小巷管家是协助街巷长巡查、捡拾垃圾的志愿者，可获得积分奖励。",
    name: "姓名",
    phone: "手机号",
    preferred_street: "希望服务的街巷",
    availability: "可服务时间",
    availability_hint: "例如：工作日早上、周末全天",
    submit_steward: "提交报名",
    track_title: "查询办理进度",
    track_hint: "输入回执编号",
    track_button: "查询",
    receipt_title: "办理回执",
    receipt_keep: "请保存本页链接或下面的回执编号，可随时查看办理进度。",
    receipt_code: "回执编号",
    progress: "办理进度",
    now_status: "当前状态",
    reason: "原因",
    your_photos: "您上传的照片",
    after_photo: "处置后照片",
    contact_kept: "回访电话",
    my_data: "我的信息",
    my_data_body: "您留下的信息只用于处理这个问题：问题核实办结后，回访电话会自动删除。您也可以下载区里保存的这份记录，或现在就删除回访电话。",
    download_data: "下载我的记录（JSON）",
    erase_contact: "删除我的回访电话",
    application_title: "小巷管家报名",
    application_pending: "报名已收到，街道审核后将在本页告知结果。请保存本页链接。",
    application_approved: "审核已通过，欢迎成为小巷管家！",
    application_declined: "很遗憾，本次报名未通过。",
    enrol_code: "注册码",
    enrol_how: "安装“街巷巡查”App，打开后选择“用注册码加入”，输入上面的注册码和服务器地址即可开始。注册码只能使用一次，14 天内有效。",
    back_to_street: "返回公示牌页面",
    not_found_title: "未找到",
    not_found_body: "这个二维码或编号无效，可能已被撤销，或不是本区的公示牌。请核对后重试，或拨打 12345 热线反映问题。",
    no_signboards_body: "本服务器尚未设置公示牌。",
    too_many_title: "操作太频繁",
    too_many_body: "提交次数过多，请稍后再试。",
    bad_form_title: "表单已失效",
    bad_form_body: "页面已过期或表单无效。请返回公示牌页面，刷新后重新填写。",
    too_large_title: "内容过大",
    too_large_body: "上传的内容超过限制（每张照片不超过 8 MB，最多 3 张）。",
    failed_title: "暂时无法处理",
    failed_body: "服务器暂时无法处理您的请求，您填写的内容未被保存，请稍后重试。",
    busy_body: "当前待审核的报名过多，请过几天再来。",
    privacy: "您提供的电话仅用于回访，照片公开显示时已去除拍摄信息。",
};

pub static EN: Texts = Texts {
    site: "Street chiefs · signboard",
    other_lang: "中文",
    other_lang_href: "?lang=zh",
    street: "Street",
    chief: "Street chief",
    chief_duty: "Patrols the street daily, finds problems and sees them fixed",
    no_chief: "Chief not yet named",
    hotline: "Hotline",
    subdistrict: "Subdistrict",
    open_now: "problem(s) being handled now",
    resolved_title: "Lately resolved",
    resolved_none: "Nothing resolved in the last 90 days.",
    resolved: "resolved",
    verified: "verified",
    reported_on: "reported",
    report_title: "Report a problem",
    report_intro: "No account needed. Your report goes straight to this street's chief.",
    category: "Kind of problem",
    choose: "Choose",
    description: "Description",
    description_hint: "What and where, briefly (optional, up to 500 characters; a phone number goes in the contact field below, here it is hidden)",
    photos: "Photos",
    photos_hint: "Up to 3; you can take them now",
    photos_again: "To attach photos, choose them again (they are not kept when the form has an error)",
    location: "Location",
    location_hint: "The signboard's own position unless you share yours",
    use_my_location: "Use my current location",
    location_set: "Your location is set",
    contact: "Contact phone",
    contact_hint: "Optional, only for staff to follow up; never shown publicly",
    submit_report: "Send",
    form_has_errors: "Please correct the marked fields and send again.",
    steward_title: "Become an alley steward",
    steward_intro: "Alley stewards are volunteers who help the chief patrol and pick up litter, and earn points.",
    name: "Name",
    phone: "Mobile",
    preferred_street: "Street you would serve",
    availability: "When you are free",
    availability_hint: "e.g. weekday mornings, weekends",
    submit_steward: "Apply",
    track_title: "Follow a report",
    track_hint: "Receipt number",
    track_button: "Look up",
    receipt_title: "Receipt",
    receipt_keep: "Keep this page's link or the receipt number below to follow the progress.",
    receipt_code: "Receipt number",
    progress: "Progress",
    now_status: "Now",
    reason: "Reason",
    your_photos: "Your photos",
    after_photo: "After the fix",
    contact_kept: "Follow-up phone",
    my_data: "Your information",
    my_data_body: "What you left is used for this problem only: the follow-up phone is deleted once the problem is verified as fixed. You can download the record the district keeps, or delete the phone now.",
    download_data: "Download my record (JSON)",
    erase_contact: "Delete my follow-up phone",
    application_title: "Alley steward application",
    application_pending: "Received. The subdistrict will review it and this page will show the answer; keep its link.",
    application_approved: "Approved: welcome, alley steward!",
    application_declined: "Sorry, this application was not accepted.",
    enrol_code: "Enrolment code",
    enrol_how: "Install the StreetPatrol app, choose \"Join with a code\" and enter the code above and the server address. The code works once, for 14 days.",
    back_to_street: "Back to the signboard",
    not_found_title: "Not found",
    not_found_body: "This QR code or number is not valid: it may have been withdrawn or belong to another district. Check it and try again, or call the 12345 hotline.",
    no_signboards_body: "This server has no signboards yet.",
    too_many_title: "Too many requests",
    too_many_body: "Too many submissions; please try again later.",
    bad_form_title: "Form expired",
    bad_form_body: "The page has expired or the form is not valid. Go back to the signboard page, reload it and fill it in again.",
    too_large_title: "Too large",
    too_large_body: "What was sent is over the limit (each photo at most 8 MB, at most 3).",
    failed_title: "Could not be handled",
    failed_body: "The server could not handle this just now; nothing was saved. Please try again later.",
    busy_body: "Too many applications are waiting; please come back in a few days.",
    privacy: "Your phone number is only for follow-up; photos shown publicly carry no camera data.",
};

/// A time in Beijing (UTC+8) as `2026-12-03 14:05`.
pub fn beijing_time(ms: i64) -> String {
    let s = ms.div_euclid(1000) + 8 * 3600;
    let days = s.div_euclid(86_400);
    let rem = s.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// A date in Beijing as `2026-12-03`.
pub fn beijing_date(ms: i64) -> String {
    beijing_time(ms)[..10].to_owned()
}

/// Howard Hinnant's days-to-civil: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_query_then_browser_then_chinese() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::choose(None, &h), Lang::Zh);
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "en-GB,en;q=0.9,zh-CN;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::choose(None, &h), Lang::En);
        assert_eq!(Lang::choose(Some("zh"), &h), Lang::Zh);
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "zh-CN,zh;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::choose(None, &h), Lang::Zh);
        assert_eq!(Lang::choose(Some("en"), &h), Lang::En);
        h.insert(axum::http::header::ACCEPT_LANGUAGE, "fr".parse().unwrap());
        assert_eq!(Lang::choose(None, &h), Lang::Zh);
    }

    #[test]
    fn beijing_times() {
        assert_eq!(beijing_time(0), "1970-01-01 08:00");
        // 2026-12-03 05:00 UTC
        assert_eq!(beijing_time(1_796_274_000_000), "2026-12-03 13:00");
        assert_eq!(beijing_date(1_796_274_000_000), "2026-12-03");
    }
}
